"""The Twilio client against the sandbox over loopback: what it reports for each answer decides
whether a text may be sent again, so each outcome is checked against what the sandbox holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from activations.destinations.twilio import (
    Accepted,
    InDoubt,
    NotSent,
    Refused,
    TwilioConfigError,
    TwilioMessages,
    TwilioSettings,
)
from activations.sandbox import Faults, SandboxServer
from activations.sandbox.twilio import TwilioSandbox

pytestmark = pytest.mark.integration

ACCOUNT_SID = "AC" + "5d" * 16
AUTH_TOKEN = "twilio-client-token-7f3a"
SENDER = "+15005550006"
TO = "+14155550100"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TwilioSandbox, TwilioMessages]]:
    monkeypatch.setenv("COHORTFLOW_TIME_SCALE", "1000")
    sandbox = TwilioSandbox(ACCOUNT_SID, AUTH_TOKEN, senders=(SENDER,), time_scale=1000.0)
    with SandboxServer(sandbox.app) as server:
        settings = TwilioSettings.from_env(
            {
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_FROM": SENDER,
                "TWILIO_BASE_URL": server.url,
                "COHORTFLOW_HTTP_TIMEOUT": "0.3",
            }
        )
        with settings.client() as client:
            yield sandbox, TwilioMessages(settings, client)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def test_an_accepted_send_is_one_message_with_its_sid(
    served: tuple[TwilioSandbox, TwilioMessages],
) -> None:
    sandbox, messages = served
    outcome = messages.send(TO, "Hi Ann, 10% off today")
    assert isinstance(outcome, Accepted) and outcome.sid.startswith("SM")
    (sent,) = sandbox.state.outbound
    assert (sent.sid, sent.params["To"], sent.params["Body"]) == (outcome.sid, TO, sent.body)
    assert messages.fetch(outcome.sid).body == "Hi Ann, 10% off today"


def test_an_opted_out_or_invalid_recipient_is_refused_for_good(
    served: tuple[TwilioSandbox, TwilioMessages],
) -> None:
    sandbox, messages = served
    sandbox.state.inbound(TO, "STOP")
    refused = messages.send(TO, "Hi")
    assert isinstance(refused, Refused) and refused.opted_out
    invalid = messages.send("0800 123", "Hi")
    assert isinstance(invalid, Refused) and invalid.code == "21211" and not invalid.opted_out
    assert sandbox.state.outbound == []


def test_a_lost_answer_is_in_doubt_and_the_message_is_then_found(
    served: tuple[TwilioSandbox, TwilioMessages],
) -> None:
    sandbox, messages = served
    before = now() - timedelta(seconds=1)
    sandbox.set_faults(Faults(rate=1.0, kinds=("drop_after",)))
    outcome = messages.send(TO, "Your cart misses you")
    sandbox.set_faults(Faults())
    assert isinstance(outcome, InDoubt), "a send that may have arrived is never retried"
    assert len(sandbox.state.outbound) == 1
    found = messages.find(TO, "Your cart misses you", since=before)
    assert found is not None and found.sid == sandbox.state.outbound[0].sid
    assert messages.find(TO, "another body", since=before) is None
    assert messages.find("+14155550199", "Your cart misses you", since=before) is None


@pytest.mark.parametrize("kind", ["429", "503"])
def test_answers_that_say_nothing_was_processed_are_retried(
    served: tuple[TwilioSandbox, TwilioMessages], kind: str
) -> None:
    sandbox, messages = served
    sandbox.set_faults(Faults(rate=1.0, kinds=(kind,)))  # type: ignore[arg-type]
    outcome = messages.send(TO, "Hi")
    assert isinstance(outcome, NotSent) and sandbox.state.outbound == []
    assert messages.client.stats.retries >= 1
    sandbox.set_faults(Faults())
    assert isinstance(messages.send(TO, "Hi"), Accepted)
    assert len(sandbox.state.outbound) == 1


def test_a_500_may_have_been_processed_and_is_not_retried(
    served: tuple[TwilioSandbox, TwilioMessages],
) -> None:
    sandbox, messages = served
    sandbox.set_faults(Faults(rate=1.0, kinds=("500",)))
    assert isinstance(messages.send(TO, "Hi"), InDoubt)
    assert messages.client.stats.retries == 0


def test_finding_pages_through_the_list_newest_first(
    served: tuple[TwilioSandbox, TwilioMessages], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, messages = served
    monkeypatch.setattr("activations.destinations.twilio.LIST_PAGE_SIZE", 2)
    before = now() - timedelta(seconds=1)
    for i in range(5):
        assert isinstance(messages.send(TO, f"message {i}"), Accepted)
    assert [m.body for m in messages.listed(TO)] == [f"message {i}" for i in range(4, -1, -1)]
    assert messages.find(TO, "message 0", since=before) is not None


def test_settings_need_one_sender_and_never_print_the_token() -> None:
    base = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    with pytest.raises(TwilioConfigError, match="exactly one of TWILIO_FROM"):
        TwilioSettings.from_env(base)
    with pytest.raises(TwilioConfigError, match="exactly one of TWILIO_FROM"):
        TwilioSettings.from_env(
            {**base, "TWILIO_FROM": SENDER, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32}
        )
    with pytest.raises(TwilioConfigError, match="TWILIO_AUTH_TOKEN must be set"):
        TwilioSettings.from_env({"TWILIO_ACCOUNT_SID": ACCOUNT_SID})
    settings = TwilioSettings.from_env({**base, "TWILIO_FROM": SENDER})
    assert AUTH_TOKEN not in repr(settings) and AUTH_TOKEN not in repr(settings.client())


def test_the_local_sandboxes_route_sms_into_the_twilio_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from activations.destinations.twilio import open_twilio
    from activations.sandbox.local import local_sandboxes

    monkeypatch.setenv("COHORTFLOW_TIME_SCALE", "1000")
    with local_sandboxes() as sandboxes, open_twilio(sandboxes.environ) as messages:
        outcome = messages.send(TO, "Hello from the demo")
        assert isinstance(outcome, Accepted)
        assert [m.sid for m in sandboxes.twilio.state.outbound] == [outcome.sid]
