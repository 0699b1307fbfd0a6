"""Text message templates: `{{ trait }}` placeholders filled from a segment member's traits.

Jinja2, set for text messages rather than web pages:
- a name the traits do not hold is an error, never an empty string in a customer's phone
  (`StrictUndefined`); so is a trait that is null, which would print "None" (write
  `{{ first_name or "there" }}` for a fallback);
- nothing is escaped: `&` stays `&` (it is a text, not HTML);
- the newline an editor leaves at the end of a template file is not part of the message: exactly
  one (`\\n` or `\\r\\n`) is removed; any other is kept, as written;
- templates run sandboxed: a template can format traits, not reach into Python.

A segment's templates are checked against the traits it declares when the project is built
(`check_traits`), so a missing trait is found before the first text, not at it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2 import meta as jinja_meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from activations.errors import CohortflowError


class SmsTemplateError(CohortflowError):
    """A text template cannot be read, parsed or rendered; the message names the template."""


class MissingTraitError(SmsTemplateError):
    """A template uses names its segment's traits (or a member's traits) do not hold."""

    def __init__(self, template: str, missing: Iterable[str], message: str) -> None:
        super().__init__(message)
        self.template = template
        self.missing = tuple(sorted(missing))


class _NullTrait(Exception):
    """Raised by `_refuse_none` inside Jinja, re-raised with the template's name."""


def _refuse_none(value: Any) -> Any:
    if value is None:
        raise _NullTrait
    return value


_ENVIRONMENT = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,  # `load_template` already removed the one newline to remove
    finalize=_refuse_none,
)


@dataclass(frozen=True)
class SmsTemplate:
    """A parsed template; `name` (its file, usually) is what every error names."""

    name: str
    source: str
    _compiled: Template = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            compiled = _ENVIRONMENT.from_string(self.source)
        except TemplateSyntaxError as error:
            raise SmsTemplateError(
                f"template {self.name}, line {error.lineno}: {error.message}"
            ) from None
        object.__setattr__(self, "_compiled", compiled)

    @property
    def variables(self) -> frozenset[str]:
        """The names the template reads from the traits (`undeclared_variables`)."""
        return undeclared_variables(self.source, self.name)

    def render(self, traits: Mapping[str, Any]) -> str:
        """The message for one member (`render`)."""
        return render(self, traits)


def load_template(path: Path | str) -> SmsTemplate:
    """The template in file `path` (UTF-8), its one trailing newline removed.

    Raises:
        SmsTemplateError: the file cannot be read or is not a valid template.
    """
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SmsTemplateError(f"template {path} cannot be read: {error}") from None
    return SmsTemplate(name=str(path), source=strip_trailing_newline(source))


def strip_trailing_newline(source: str) -> str:
    """`source` without one final `\\r\\n` or `\\n`: the end of the file's last line."""
    if source.endswith("\r\n"):
        return source[:-2]
    if source.endswith("\n"):
        return source[:-1]
    return source


def undeclared_variables(source: str, name: str = "<template>") -> frozenset[str]:
    """The names `source` reads that it does not set itself: the traits it needs. Jinja's own
    globals (`range`, `namespace`, ...) are not traits and are left out.

    Raises:
        SmsTemplateError: `source` is not a valid template.
    """
    try:
        parsed = _ENVIRONMENT.parse(source)
    except TemplateSyntaxError as error:
        raise SmsTemplateError(f"template {name}, line {error.lineno}: {error.message}") from None
    return frozenset(jinja_meta.find_undeclared_variables(parsed) - set(_ENVIRONMENT.globals))


def check_traits(
    template: SmsTemplate, declared: Iterable[str], *, segment: str | None = None
) -> None:
    """Refuse a template that reads a name the segment does not declare among its traits.

    Raises:
        MissingTraitError: naming the template, the missing names and the segment.
    """
    missing = template.variables - set(declared)
    if not missing:
        return
    names = ", ".join(sorted(missing))
    owner = f"segment {segment}" if segment else "the segment"
    raise MissingTraitError(
        template.name,
        missing,
        f"template {template.name} uses {names}, which {owner} does not declare in its traits: "
        "add them to the segment's traits or remove them from the template",
    )


def render(template: SmsTemplate, traits: Mapping[str, Any]) -> str:
    """The message `template` makes of one member's `traits`.

    Raises:
        MissingTraitError: the template reads a name (or an attribute) the traits do not hold.
        SmsTemplateError: a trait it prints is null, or the template fails otherwise.
    """
    missing = template.variables - set(traits)
    if missing:
        names = ", ".join(sorted(missing))
        raise MissingTraitError(
            template.name, missing, f"template {template.name}: no trait {names} to fill it with"
        )
    try:
        return template._compiled.render(traits)
    except _NullTrait:
        nulls = sorted(name for name in template.variables if traits.get(name) is None)
        which = f" (null here: {', '.join(nulls)})" if nulls else ""
        raise SmsTemplateError(
            f"template {template.name}: a placeholder's trait is null{which}, which would print "
            "'None'; give a fallback, e.g. {{ first_name or \"there\" }}"
        ) from None
    except UndefinedError as error:
        raise MissingTraitError(
            template.name, (), f"template {template.name}: {error.message}"
        ) from None
    except TemplateError as error:
        raise SmsTemplateError(f"template {template.name}: {error.message}") from None
