"""Text templates: strict placeholders, no escaping, one trailing newline dropped, traits checked
at build time."""

from __future__ import annotations

from pathlib import Path

import pytest

from activations.sms.templates import (
    MissingTraitError,
    SmsTemplate,
    SmsTemplateError,
    check_traits,
    load_template,
    render,
    undeclared_variables,
)


def template_file(tmp_path: Path, text: str, name: str = "winback.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_placeholders_are_filled_from_the_traits() -> None:
    template = SmsTemplate("t.txt", "Hi {{ first_name }}, {{ discount }}% off")
    assert template.render({"first_name": "Ana", "discount": 20}) == "Hi Ana, 20% off"


def test_nothing_is_escaped_in_a_text_message() -> None:
    template = SmsTemplate("t.txt", "{{ brand }} <3 Fish & Chips")
    assert render(template, {"brand": "Tom & Jerry's"}) == "Tom & Jerry's <3 Fish & Chips"


def test_a_missing_trait_is_an_error_naming_the_template_and_the_trait() -> None:
    template = SmsTemplate("templates/winback.txt", "Hi {{ first_name }}, use {{ code }}")
    with pytest.raises(MissingTraitError, match="templates/winback.txt") as raised:
        render(template, {"first_name": "Ana"})
    assert raised.value.missing == ("code",)
    assert "code" in str(raised.value)


def test_a_missing_attribute_of_a_trait_is_an_error_too() -> None:
    template = SmsTemplate("t.txt", "Your total: {{ order.total }}")
    with pytest.raises(MissingTraitError, match="t.txt.*total"):
        render(template, {"order": {}})


def test_a_null_trait_is_an_error_not_the_word_none() -> None:
    template = SmsTemplate("t.txt", "Hi {{ first_name }}, your {{ product }}")
    with pytest.raises(SmsTemplateError, match=r"t.txt.*null here: first_name\)"):
        render(template, {"first_name": None, "product": "Shoe"})


def test_a_null_trait_with_a_fallback_renders_the_fallback() -> None:
    template = SmsTemplate("t.txt", 'Hi {{ first_name or "there" }}')
    assert render(template, {"first_name": None}) == "Hi there"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hi {{ name }}\n", "Hi Ana"),
        ("Hi {{ name }}\r\n", "Hi Ana"),
        ("Hi {{ name }}\n\n", "Hi Ana\n"),
        ("Hi {{ name }}", "Hi Ana"),
        ("Hi\n{{ name }}\n", "Hi\nAna"),
    ],
)
def test_exactly_one_trailing_newline_of_a_template_file_is_dropped(
    tmp_path: Path, text: str, message: str
) -> None:
    template = load_template(template_file(tmp_path, text))
    assert template.render({"name": "Ana"}) == message


def test_a_loaded_template_is_named_by_its_file(tmp_path: Path) -> None:
    path = template_file(tmp_path, "Hi {{ name }}\n")
    with pytest.raises(MissingTraitError, match=str(path)):
        load_template(path).render({})


def test_an_unreadable_template_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SmsTemplateError, match="missing.txt cannot be read"):
        load_template(tmp_path / "missing.txt")


def test_a_template_with_a_syntax_error_names_its_file_and_line(tmp_path: Path) -> None:
    path = template_file(tmp_path, "Hi\n{{ name ")
    with pytest.raises(SmsTemplateError, match=rf"{path}, line 2"):
        load_template(path)


def test_undeclared_variables_are_the_traits_a_template_reads() -> None:
    source = (
        "{% set greeting = 'Hi' %}{{ greeting }} {{ first_name }}"
        "{% for i in range(2) %}!{% endfor %}{% if vip %} {{ code | upper }}{% endif %}"
    )
    assert undeclared_variables(source) == {"first_name", "vip", "code"}


def test_a_template_using_only_declared_traits_passes_the_check() -> None:
    check_traits(SmsTemplate("t.txt", "Hi {{ first_name }}"), ["first_name", "city"])


def test_a_template_using_an_undeclared_trait_fails_the_build_naming_it(tmp_path: Path) -> None:
    path = template_file(tmp_path, "Hi {{ first_name }}, {{ code }} and {{ city }}\n")
    with pytest.raises(MissingTraitError) as raised:
        check_traits(load_template(path), ["first_name"], segment="lapsed_vip")
    message = str(raised.value)
    assert str(path) in message
    assert "city, code" in message
    assert "lapsed_vip" in message
    assert raised.value.missing == ("city", "code")
    assert raised.value.template == str(path)
