"""The library's public names import, are what the docs say, and cost nothing until used."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import activations


@pytest.mark.parametrize("name", activations.__all__)
def test_every_public_name_resolves_to_a_documented_object(name: str) -> None:
    value = getattr(activations, name)
    assert inspect.getdoc(value), f"activations.{name} has no docstring"
    assert value.__module__.startswith("activations.")


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'run_pipline'"):
        activations.run_pipline  # noqa: B018


def test_all_lists_exactly_the_lazily_exported_names() -> None:
    assert sorted(activations.__all__) == sorted(activations._EXPORTS)


def test_importing_the_package_imports_no_heavy_module() -> None:
    watched = "{'dbt', 'sqlalchemy', 'great_expectations', 'activations'}"
    code = (
        "import sys, activations; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {watched}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['activations']"
