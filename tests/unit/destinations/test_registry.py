"""One registration per destination is the only place that knows it."""

from __future__ import annotations

import pytest

from activations.destinations.base import Registration
from activations.destinations.options import DestinationOptions
from activations.destinations.registry import (
    NAMES,
    REGISTRATIONS,
    open_destination,
    unavailable_reason,
)
from activations.errors import CohortflowError
from activations.quality.suites import NO_LIMIT, Route, payload_query
from activations.segment_schema import Destinations, validate_meta


@pytest.mark.parametrize("name", sorted(REGISTRATIONS))
def test_the_segment_schema_validates_each_block_with_its_registered_options(name: str) -> None:
    meta, problems = validate_meta("seg_x", {"destinations": {name: {"max_exit_fraction": 0.2}}})
    options = REGISTRATIONS[name].options
    required = [f for f, info in options.model_fields.items() if info.is_required()]
    if required:
        assert meta is None
        assert [p.path for p in problems] == [f"destinations.{name}.{f}" for f in required]
    else:
        assert meta is not None and problems == []
        block = getattr(meta.destinations, name)
        assert isinstance(block, options) and block.max_exit_fraction == 0.2
    assert set(Destinations.model_fields) == set(REGISTRATIONS)


def test_an_unregistered_destination_is_an_unknown_key() -> None:
    _, problems = validate_meta("seg_x", {"destinations": {"klavyio": {"list": "L"}}})
    assert [str(p) for p in problems] == [
        "seg_x: destinations.klavyio: unknown key; did you mean `klaviyo`?"
    ]


def test_availability_comes_from_the_registration() -> None:
    assert {"klaviyo", "omnisend", "sms", "webhook"} <= set(NAMES)
    assert unavailable_reason("klaviyo", {}) == "KLAVIYO_API_KEY not set"
    assert unavailable_reason("klaviyo", {"KLAVIYO_API_KEY": "  "}) == "KLAVIYO_API_KEY not set"
    assert unavailable_reason("klaviyo", {"KLAVIYO_API_KEY": "pk_x"}) is None
    # A webhook's receiver is named per segment: whether it is set is each segment's question.
    assert unavailable_reason("webhook", {}) is None
    assert unavailable_reason("sms", {}) == "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN not set"


def test_opening_an_unknown_destination_names_those_there_are() -> None:
    with pytest.raises(CohortflowError, match="klaviyo, omnisend, sms, webhook"):
        with open_destination("nowhere", {}):
            pass


def test_a_registration_has_exactly_one_way_to_sync() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Registration(name="nowhere", options=DestinationOptions)


def test_the_payload_checks_take_the_trait_limit_from_the_registration() -> None:
    def route(destination: str) -> Route:
        return Route("vip", destination, "email", 0.0, 0.0, 0.0, {})

    klaviyo_limit = REGISTRATIONS["klaviyo"].max_trait_bytes
    assert klaviyo_limit == 100_000
    assert f"cast({klaviyo_limit} as bigint)" in payload_query([route("klaviyo")], "duckdb")
    assert REGISTRATIONS["webhook"].max_trait_bytes is None
    assert f"cast({NO_LIMIT} as bigint)" in payload_query([route("webhook")], "duckdb")
