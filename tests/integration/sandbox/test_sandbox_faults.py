"""Injected faults, as an httpx client on a real socket experiences them.

Why: retry and ledger code is tested against these faults, so each must look to the client like
the real failure (a status, a read timeout, a connection-level error) and must leave the server
state in the right condition: untouched before processing, changed when the acknowledgement
is what got lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from activations.sandbox import FAULT_KINDS, Faults, SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox

pytestmark = pytest.mark.integration

API_KEY = "test-key-faults"
HEADERS = {
    "Authorization": f"Klaviyo-API-Key {API_KEY}",
    "revision": "2026-07-15",
    "Content-Type": "application/vnd.api+json",
}
HOLD = 0.6  # wall seconds a "timeout" answer is held; clients below give up after 0.2 s


@pytest.fixture
def sandbox() -> KlaviyoSandbox:
    return KlaviyoSandbox(api_key=API_KEY, time_scale=1000.0, seed=3)


@pytest.fixture
def url(sandbox: KlaviyoSandbox) -> Iterator[str]:
    with SandboxServer(sandbox.app) as server:
        yield server.url


def create_list(client: httpx.Client, name: str) -> httpx.Response:
    return client.post("/api/lists", json={"data": {"type": "list", "attributes": {"name": name}}})


def only(kind: str, **options: Any) -> Faults:
    return Faults(rate=1.0, kinds=(kind,), timeout_seconds=HOLD, **options)  # type: ignore[arg-type]


def test_an_injected_429_carries_retry_after_and_processes_nothing(
    sandbox: KlaviyoSandbox, url: str
) -> None:
    sandbox.set_faults(only("429", retry_after=7))
    with httpx.Client(base_url=url, headers=HEADERS) as client:
        response = create_list(client, "VIP")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["errors"][0]["code"] == "throttled"
    assert sandbox.state.lists == {}


@pytest.mark.parametrize("status", [500, 503])
def test_injected_server_errors_process_nothing(
    sandbox: KlaviyoSandbox, url: str, status: int
) -> None:
    sandbox.set_faults(only(str(status)))
    with httpx.Client(base_url=url, headers=HEADERS) as client:
        response = create_list(client, "VIP")
    assert response.status_code == status
    body = response.json()
    assert (
        sandbox.spec.validate_response(sandbox.spec.operations["create_list"], status, body) == []
    )
    assert sandbox.state.lists == {}


def test_a_timeout_is_applied_but_answered_too_late(sandbox: KlaviyoSandbox, url: str) -> None:
    sandbox.set_faults(only("timeout"))
    with httpx.Client(base_url=url, headers=HEADERS, timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            create_list(client, "VIP")
        assert time.monotonic() - started < HOLD
    assert list(sandbox.state.lists.values()) == ["VIP"], "processed before the held answer"


def test_a_held_answer_does_not_block_other_requests(sandbox: KlaviyoSandbox, url: str) -> None:
    sandbox.set_faults(only("timeout"))
    outcome: list[BaseException] = []

    def slow() -> None:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=5.0) as client:
            try:
                assert create_list(client, "slow").status_code == 201
            except BaseException as caught:  # surfaced below, in the test thread
                outcome.append(caught)

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.1)
    sandbox.set_faults(Faults())
    with httpx.Client(base_url=url, headers=HEADERS) as client:
        started = time.monotonic()
        assert create_list(client, "fast").status_code == 201
        assert time.monotonic() - started < HOLD / 2
    thread.join()
    assert outcome == []


def test_drop_before_closes_the_connection_without_processing(
    sandbox: KlaviyoSandbox, url: str
) -> None:
    sandbox.set_faults(only("drop_before"))
    with httpx.Client(base_url=url, headers=HEADERS) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            create_list(client, "VIP")
        sandbox.set_faults(Faults())
        assert create_list(client, "after").status_code == 201, "the client recovers"
    assert list(sandbox.state.lists.values()) == ["after"]


def test_drop_after_applies_the_request_and_loses_the_acknowledgement(
    sandbox: KlaviyoSandbox, url: str
) -> None:
    sandbox.set_faults(only("drop_after"))
    with httpx.Client(base_url=url, headers=HEADERS) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            create_list(client, "VIP")
        body = {
            "data": {
                "type": "profile-bulk-import-job",
                "attributes": {
                    "profiles": {
                        "data": [{"type": "profile", "attributes": {"email": "a@example.com"}}]
                    }
                },
            }
        }
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post("/api/profile-bulk-import-jobs", json=body)
    assert list(sandbox.state.lists.values()) == ["VIP"], "the lost answer's work was done"
    assert sandbox.state.profile_by_email("a@example.com") is not None
    assert sandbox.state.requests["create_list"] == 1


def test_faults_follow_the_rate_and_the_seed() -> None:
    def outcomes(seed: int) -> list[str]:
        sandbox = KlaviyoSandbox(
            api_key=API_KEY,
            time_scale=1000.0,
            seed=seed,
            faults=Faults(rate=0.3, kinds=("429", "500", "503")),
        )
        with (
            SandboxServer(sandbox.app) as server,
            httpx.Client(base_url=server.url, headers=HEADERS) as client,
        ):
            seen = [str(client.get("/api/lists").status_code) for _ in range(200)]
        assert sandbox.state.requests.total == 200
        assert sum(sandbox.state.requests.faults.values()) == 200 - seen.count("200")
        return seen

    first, again, other = outcomes(11), outcomes(11), outcomes(12)
    assert first == again, "the same seed fails the same requests"
    assert first != other
    failed = 200 - first.count("200")
    assert 35 <= failed <= 85, failed
    assert set(first) == {"200", "429", "500", "503"}


def test_partial_job_failures_are_retryable_import_errors(
    sandbox: KlaviyoSandbox, url: str
) -> None:
    sandbox.set_faults(Faults(partial_job_rate=0.25))
    rows = [{"type": "profile", "attributes": {"email": f"p{i}@example.com"}} for i in range(200)]
    body = {"data": {"type": "profile-bulk-import-job", "attributes": {"profiles": {"data": rows}}}}
    with httpx.Client(base_url=url, headers=HEADERS) as client:
        job = client.post("/api/profile-bulk-import-jobs", json=body).json()["data"]
        attributes = client.get(f"/api/profile-bulk-import-jobs/{job['id']}").json()["data"][
            "attributes"
        ]
        errors = client.get(
            f"/api/profile-bulk-import-jobs/{job['id']}/import-errors",
            params={"page[size]": "100"},
        ).json()["data"]
    assert attributes["status"] == "complete"
    assert attributes["completed_count"] + attributes["failed_count"] == 200
    assert 20 <= attributes["failed_count"] <= 80
    assert len(errors) == attributes["failed_count"]
    assert {e["attributes"]["code"] for e in errors} == {"internal_error"}
    failed = {e["attributes"]["original_payload"]["email"] for e in errors}
    assert len(sandbox.state.profiles) == 200 - len(failed)
    assert all(sandbox.state.profile_by_email(email) is None for email in failed)


def test_inspection_routes_never_fail(sandbox: KlaviyoSandbox, url: str) -> None:
    sandbox.set_faults(Faults(rate=1.0))
    with httpx.Client(base_url=url) as client:
        for _ in range(20):
            assert client.get("/__sandbox__/state").status_code == 200
    assert sandbox.state.requests.total == 0


@pytest.mark.parametrize(
    "options",
    [{"rate": 1.5}, {"rate": -0.1}, {"kinds": ()}, {"kinds": ("404",)}, {"partial_job_rate": 2}],
)
def test_impossible_fault_settings_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Faults(**options)


def test_every_fault_kind_is_known() -> None:
    assert FAULT_KINDS == ("429", "500", "503", "timeout", "drop_before", "drop_after")
    assert Faults().kinds == FAULT_KINDS
