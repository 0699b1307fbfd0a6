"""Cut a vendor's OpenAPI document down to the operations a sandbox serves, by code, reproducibly.

Why: the sandboxes validate requests against the vendor's own schemas, but the vendor files are
large (Klaviyo's is 3 MB) and live outside the package. The subset keeps the chosen operations
unmodified plus every component they reference, directly or through other components, and
records where it came from (the source file's sha256 and the API revision), so a test can prove
the committed subset is exactly what this module extracts from the vendor file.

    python -m activations.sandbox.extract_spec /work/shared/api-specs/klaviyo/openapi-stable.json
    python -m activations.sandbox.extract_spec SOURCE --check     # exit 1 if the subset is stale
    python -m activations.sandbox.extract_spec \
        /work/shared/api-specs/omnisend/omnisend-events-api-2026-03-15.json --vendor omnisend-events
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

PROVENANCE_KEY = "x-sandbox-provenance"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
GENERATOR = "python -m activations.sandbox.extract_spec"


class SpecExtractionError(Exception):
    """The source document lacks an operation or holds a reference the subset cannot keep."""


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extract_subset(
    document: Mapping[str, Any], operation_ids: Iterable[str], *, source_sha256: str, source: str
) -> dict[str, Any]:
    """The part of `document` that serves `operation_ids`.

    Args:
        document: a parsed OpenAPI 3.0 document.
        operation_ids: the operations to keep (each must exist).
        source_sha256: sha256 of the source file, recorded as provenance.
        source: the source file's name, recorded as provenance.

    Returns:
        A smaller OpenAPI document: the same top-level metadata, only the kept operations (with
        their path-level parameters), every component they transitively `$ref`, the security
        schemes they require, and an `x-sandbox-provenance` object.

    Raises:
        SpecExtractionError: an operation is missing, or a `$ref` is not local.
    """
    wanted = list(dict.fromkeys(operation_ids))
    paths: dict[str, dict[str, Any]] = {}
    found: set[str] = set()
    for path, item in document.get("paths", {}).items():
        kept = {
            method: operation
            for method, operation in item.items()
            if method in HTTP_METHODS and operation_key(method, path, operation) in wanted
        }
        if not kept:
            continue
        found.update(str(operation_key(method, path, kept[method])) for method in kept)
        # Keep the path item's own keys (shared parameters, summary) in their source order.
        paths[path] = {
            key: value for key, value in item.items() if key not in HTTP_METHODS or key in kept
        }
    missing = [operation_id for operation_id in wanted if operation_id not in found]
    if missing:
        raise SpecExtractionError(f"operations not in the source document: {', '.join(missing)}")

    components = document.get("components", {})
    needed = _referenced_components(paths, components)
    schemes = _required_security_schemes(document, paths)
    kept_components: dict[str, dict[str, Any]] = {}
    for section, entries in components.items():
        names = schemes if section == "securitySchemes" else needed.get(section, set())
        chosen = {name: entry for name, entry in entries.items() if name in names}
        if chosen:
            kept_components[section] = chosen

    subset: dict[str, Any] = {
        key: document[key] for key in ("openapi", "info", "servers", "security") if key in document
    }
    subset["paths"] = paths
    subset["components"] = kept_components
    subset[PROVENANCE_KEY] = {
        "source_file": source,
        "source_sha256": source_sha256,
        "revision": document.get("info", {}).get("version"),
        "openapi": document.get("openapi"),
        "operations": sorted(wanted),
        "generated_by": GENERATOR,
    }
    return subset


def operation_key(method: str, path: str, operation: Any) -> str | None:
    """How an operation is named: its `operationId`, or `"POST /contacts"` when the vendor's
    document has none (Omnisend's); None for a path-item key that is not an operation."""
    if method not in HTTP_METHODS or not isinstance(operation, dict):
        return None
    return str(operation.get("operationId") or f"{method.upper()} {path}")


def render(subset: Mapping[str, Any]) -> str:
    """The subset as committed: stable JSON text, one space indent, trailing newline."""
    return json.dumps(subset, indent=1, ensure_ascii=False) + "\n"


def iter_refs(node: Any) -> Iterator[str]:
    """Every `$ref` string anywhere inside `node`."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from iter_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from iter_refs(value)


def split_ref(ref: str) -> tuple[str, str]:
    """`#/components/<section>/<name>` -> (section, name)."""
    parts = ref.split("/")
    if len(parts) != 4 or parts[0] != "#" or parts[1] != "components":
        raise SpecExtractionError(f"only local component references are supported, got {ref!r}")
    return parts[2], parts[3].replace("~1", "/").replace("~0", "~")


def _referenced_components(
    paths: Mapping[str, Any], components: Mapping[str, Mapping[str, Any]]
) -> dict[str, set[str]]:
    needed: dict[str, set[str]] = {}
    pending = list(iter_refs(paths))
    while pending:
        section, name = split_ref(pending.pop())
        if name in needed.setdefault(section, set()):
            continue
        target = components.get(section, {}).get(name)
        if target is None:
            raise SpecExtractionError(f"dangling reference #/components/{section}/{name}")
        needed[section].add(name)
        pending.extend(iter_refs(target))
    return needed


def _required_security_schemes(document: Mapping[str, Any], paths: Mapping[str, Any]) -> set[str]:
    requirements = list(document.get("security", []))
    for item in paths.values():
        for method in HTTP_METHODS:
            requirements.extend(item.get(method, {}).get("security", []))
    return {name for requirement in requirements for name in requirement}


def _vendors() -> dict[str, tuple[Sequence[str], Path]]:
    # Imported here: the vendor modules pull in the web stack, which extraction does not need.
    from activations.sandbox import klaviyo
    from activations.sandbox.omnisend import spec as omnisend
    from activations.sandbox.twilio import spec as twilio

    vendors: dict[str, tuple[Sequence[str], Path]] = {
        "klaviyo": (klaviyo.OPERATIONS, klaviyo.SPEC_PATH),
        "twilio": (twilio.OPERATIONS, twilio.SPEC_PATH),
    }
    for document, served in omnisend.DOCUMENTS.items():
        vendors[f"omnisend-{document}"] = served
    return vendors


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate (or with --check, verify) a vendor's committed spec subset."""
    vendors = _vendors()
    parser = argparse.ArgumentParser(prog=GENERATOR, description=(__doc__ or "").splitlines()[0])
    parser.add_argument("source", type=Path, help="the vendor's full OpenAPI JSON document")
    parser.add_argument("--vendor", choices=sorted(vendors), default="klaviyo")
    parser.add_argument("--output", type=Path, help="where to write (default: the committed file)")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when stale")
    args = parser.parse_args(argv)

    operations, committed = vendors[args.vendor]
    output: Path = args.output or committed
    document = json.loads(args.source.read_text(encoding="utf-8"))
    text = render(
        extract_subset(
            document, operations, source_sha256=sha256_of(args.source), source=args.source.name
        )
    )
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            print(f"{output} is stale: regenerate it with {GENERATOR} {args.source}")
            return 1
        print(f"{output} matches {args.source.name}")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output} ({len(text):,} bytes, {len(operations)} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
