"""The shared client paces, retries and classifies like the vendors require, and leaks nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from activations.http import (
    AuthError,
    ClientError,
    HttpClient,
    PermanentError,
    RateLimit,
    RateLimited,
    RateLimiter,
    RetryPolicy,
    ServerError,
    TransportFailure,
    time_scale,
)
from activations.http.timescale import TimeScaleError

BASE = "https://a.klaviyo.test/base"
API_KEY = "pk_live_0123456789abcdef"
QUERY_TOKEN = "tok_SECRET_987654321"
EMAIL = "jane.doe@example.com"
BULK = RateLimit("klaviyo:bulk_import_profiles", burst=10, steady=150)

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Wall time that advances only when the client or the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class CountingLimiter(RateLimiter):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock, sleep=clock.sleep)
        self.acquired: list[tuple[str, str]] = []
        self.penalties: list[float] = []

    def acquire(self, limit: RateLimit, account: str = "") -> float:
        self.acquired.append((account, limit.name))
        return super().acquire(limit, account)

    def penalise(self, limit: RateLimit, account: str, retry_after_seconds_wall: float) -> None:
        self.penalties.append(retry_after_seconds_wall)
        super().penalise(limit, account, retry_after_seconds_wall)


def scripted(*steps: httpx.Response | type[Exception]) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering each request with the next step; the last step repeats."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        step = steps[min(len(seen), len(steps) - 1)]
        seen.append(request)
        if isinstance(step, httpx.Response):
            return step
        raise step("simulated", request=request)  # type: ignore[call-arg]

    return handler, seen


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []

    def make(handler: Handler, **kwargs: object) -> HttpClient:
        options: dict[str, object] = {
            "headers": {"Authorization": f"Klaviyo-API-Key {API_KEY}", "revision": "2026-07-15"},
            "secrets": (QUERY_TOKEN,),
            "account": "acct-1",
            "retry": RetryPolicy(random=lambda: 0.5),
            "limiter": RateLimiter(clock=clock, sleep=clock.sleep),
            "time_scale": 1.0,
            "transport": httpx.MockTransport(handler),
            "sleep": clock.sleep,
        }
        options.update(kwargs)
        client = HttpClient(BASE, **options)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def klaviyo_errors(*codes: str) -> httpx.Response:
    errors = [
        {
            "id": "e1",
            "code": code,
            "title": "Invalid input.",
            "detail": f"{EMAIL} is not a valid email",
            "source": {"pointer": "/data/attributes/email"},
            "meta": {"duplicate_profile_id": "01H"},
        }
        for code in codes
    ]
    return httpx.Response(400, json={"errors": errors})


def test_success_passes_through_with_the_path_prefix(make_client) -> None:
    handler, seen = scripted(httpx.Response(201, json={"data": {"id": "01H"}}))
    client = make_client(handler)
    response = client.request("POST", "/api/profile-import", json={"data": {}}, limit=BULK)
    assert response.status_code == 201
    assert response.json() == {"data": {"id": "01H"}}
    assert seen[0].url.path == "/base/api/profile-import"
    assert seen[0].headers["revision"] == "2026-07-15"
    assert client.stats.requests == 1 and client.stats.retries == 0


def test_429_waits_out_retry_after_in_scaled_seconds(make_client, clock: FakeClock) -> None:
    times: list[float] = []
    limited = httpx.Response(429, headers={"Retry-After": "2"})
    handler, seen = scripted(limited, httpx.Response(202))

    def timed(request: httpx.Request) -> httpx.Response:
        times.append(clock.now)
        return handler(request)

    limiter = CountingLimiter(clock)
    client = make_client(timed, time_scale=10.0, limiter=limiter)
    assert client.request("POST", "/api/jobs", limit=BULK).status_code == 202
    assert times[1] - times[0] >= 0.2
    assert limiter.penalties == [pytest.approx(0.2)]
    assert client.stats.rate_limited == 1 and client.stats.retries == 1
    assert client.stats.retry_wait_seconds >= 0.2


def test_429_penalty_holds_the_bucket_for_other_callers(make_client, clock: FakeClock) -> None:
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "30"}), httpx.Response(200))
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    client = make_client(handler, limiter=limiter, sleep=lambda _: None)
    client.request("GET", "/api/x", limit=BULK)
    # The client's own sleep did nothing here, so the limiter had to hold the retry itself.
    assert clock.now >= 30.0
    assert client.stats.limiter_wait_seconds >= 30.0


def test_a_call_under_two_limits_takes_a_slot_in_each_and_a_429_holds_both(
    make_client, clock: FakeClock
) -> None:
    """Omnisend's tag routes count against their own 60/min and the brand's 400/min."""
    tags = RateLimit("omnisend:tags", burst=None, steady=60)
    brand = RateLimit("omnisend:brand", burst=None, steady=400)
    handler, _ = scripted(httpx.Response(429, json={"retryAfter": 5}), httpx.Response(202))
    limiter = CountingLimiter(clock)
    client = make_client(handler, limiter=limiter, sleep=lambda _: None)
    client.request("POST", "/contacts/tags", limit=(tags, brand))
    assert limiter.acquired == [("acct-1", "omnisend:tags"), ("acct-1", "omnisend:brand")] * 2
    assert limiter.penalties == [pytest.approx(5.0)] * 2
    # The brand's bucket is held too: a contact call waits out the same 429.
    before = clock.now
    handler2, _ = scripted(httpx.Response(200))
    make_client(handler2, limiter=limiter, sleep=lambda _: None).request(
        "POST", "/batches", limit=brand
    )
    assert clock.now >= before and clock.now >= 5.0
    assert client.stats.by_operation == {"omnisend:tags": 2}


def test_omnisend_retry_after_in_the_problem_body_is_honoured(make_client, clock) -> None:
    body = {"type": "about:blank", "title": "Too Many Requests", "status": 429, "retryAfter": 3}
    handler, _ = scripted(httpx.Response(429, json=body), httpx.Response(200))
    make_client(handler, time_scale=2.0).request("POST", "/contacts")
    assert clock.sleeps == [pytest.approx(1.5)]


def test_503_is_retried_with_backoff(make_client, clock: FakeClock) -> None:
    handler, seen = scripted(httpx.Response(503), httpx.Response(503), httpx.Response(200))
    client = make_client(handler, time_scale=4.0)
    assert client.request("GET", "/api/lists").status_code == 200
    assert len(seen) == 3
    # Full jitter fixed at 0.5 of 0.5 s then 1 s, divided by the time scale.
    assert clock.sleeps == [pytest.approx(0.0625), pytest.approx(0.125)]
    assert client.stats.server_errors == 2 and client.stats.retries == 2


def test_connect_errors_are_retried_even_for_unsafe_sends(make_client) -> None:
    handler, seen = scripted(httpx.ConnectError, httpx.ConnectTimeout, httpx.Response(201))
    client = make_client(handler)
    response = client.request("POST", "/Messages.json", retry_on_timeout=False)
    assert response.status_code == 201 and len(seen) == 3
    assert client.stats.transport_failures == 2


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
def test_maybe_sent_failures_are_not_resent_when_unsafe(make_client, failure) -> None:
    handler, seen = scripted(failure, httpx.Response(201))
    with pytest.raises(TransportFailure) as raised:
        make_client(handler).request("POST", "/Messages.json", retry_on_timeout=False)
    assert len(seen) == 1
    assert raised.value.maybe_sent and raised.value.attempts == 1
    assert failure.__name__ in str(raised.value)


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError])
def test_maybe_sent_failures_are_retried_when_safe(make_client, failure) -> None:
    handler, seen = scripted(failure, httpx.Response(200))
    assert make_client(handler).request("GET", "/api/lists").status_code == 200
    assert len(seen) == 2


def test_server_errors_after_which_the_vendor_may_have_acted_are_not_resent(make_client) -> None:
    handler, seen = scripted(httpx.Response(504), httpx.Response(201))
    with pytest.raises(ServerError) as raised:
        make_client(handler).request("POST", "/Messages.json", retry_on_timeout=False)
    assert len(seen) == 1 and raised.value.maybe_sent


def test_503_and_429_are_retried_even_for_unsafe_sends(make_client) -> None:
    handler, seen = scripted(httpx.Response(503), httpx.Response(429), httpx.Response(201))
    response = make_client(handler).request("POST", "/Messages.json", retry_on_timeout=False)
    assert response.status_code == 201 and len(seen) == 3


@pytest.mark.parametrize(
    ("step", "error"),
    [
        (httpx.Response(503), ServerError),
        (httpx.Response(429), RateLimited),
        (httpx.ConnectError, TransportFailure),
        (httpx.ReadTimeout, TransportFailure),
    ],
)
def test_exhausted_retries_raise_the_last_retryable_error(make_client, step, error) -> None:
    handler, seen = scripted(step)
    client = make_client(handler, retry=RetryPolicy(max_attempts=3, random=lambda: 0.5))
    with pytest.raises(error) as raised:
        client.request("GET", "/api/lists")
    assert len(seen) == 3 and client.stats.requests == 3 and client.stats.retries == 2
    assert raised.value.attempts == 3
    assert "3 attempts" in str(raised.value)
    assert not raised.value.maybe_sent


def test_retry_after_beyond_the_policy_maximum_gives_up_at_once(make_client) -> None:
    handler, seen = scripted(httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as raised:
        make_client(handler).request("GET", "/api/lists")
    assert len(seen) == 1 and raised.value.retry_after == 3600.0


def test_klaviyo_400_is_a_client_error_with_codes_and_no_retry(make_client) -> None:
    handler, seen = scripted(klaviyo_errors("invalid", "duplicate_profile"))
    with pytest.raises(ClientError) as raised:
        make_client(handler).request("POST", "/api/profile-import", json={})
    error = raised.value
    assert len(seen) == 1
    assert error.status == 400 and error.codes == ("invalid", "duplicate_profile")
    assert error.errors[1]["meta"]["duplicate_profile_id"] == "01H"
    assert EMAIL not in str(error) and "not a valid" not in str(error)


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ({"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
         ("21610",)),
        ({"type": "about:blank", "title": "Bad Request", "status": 400,
          "errors": [{"field": "identifiers.0.id", "code": "invalid_format", "message": EMAIL}]},
         ("invalid_format",)),
        ({"type": "about:blank", "title": "Conflict", "status": 400}, ()),
    ],
)  # fmt: skip
def test_twilio_and_omnisend_error_bodies_are_parsed(make_client, body, codes) -> None:
    handler, _ = scripted(httpx.Response(400, json=body))
    with pytest.raises(ClientError) as raised:
        make_client(handler).request("POST", "/x")
    assert raised.value.codes == codes
    assert raised.value.errors


def test_non_json_error_bodies_give_no_codes(make_client) -> None:
    handler, _ = scripted(httpx.Response(404, text="<html>not found</html>"))
    with pytest.raises(ClientError) as raised:
        make_client(handler).request("GET", "/api/lists/nope")
    assert raised.value.codes == () and raised.value.errors == []


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_an_auth_error_sent_once(make_client, status: int) -> None:
    handler, seen = scripted(
        httpx.Response(status, json={"errors": [{"code": "not_authenticated"}]})
    )
    with pytest.raises(AuthError) as raised:
        make_client(handler).request("GET", "/api/lists")
    assert isinstance(raised.value, ClientError) and raised.value.status == status
    assert len(seen) == 1


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_other_rejections_are_not_auth_errors(make_client, status: int) -> None:
    handler, _ = scripted(httpx.Response(status, json={"errors": [{"code": "invalid"}]}))
    with pytest.raises(ClientError) as raised:
        make_client(handler).request("GET", "/api/lists")
    assert not isinstance(raised.value, AuthError)


def test_unexpected_redirect_is_permanent_but_not_a_client_error(make_client) -> None:
    handler, _ = scripted(httpx.Response(301, headers={"Location": "https://elsewhere.test/"}))
    with pytest.raises(PermanentError) as raised:
        make_client(handler).request("GET", "/api/lists")
    assert not isinstance(raised.value, ClientError) and raised.value.status == 301


def test_expected_statuses_are_returned_not_raised(make_client) -> None:
    handler, _ = scripted(httpx.Response(409, json={"errors": [{"code": "duplicate_profile"}]}))
    response = make_client(handler).request("POST", "/api/profile-import", expected={409})
    assert response.status_code == 409


def test_requests_that_cannot_be_sent_are_permanent(make_client) -> None:
    handler, seen = scripted(httpx.LocalProtocolError)
    with pytest.raises(PermanentError):
        make_client(handler).request("GET", "/api/lists")
    assert len(seen) == 1


def test_limiter_is_acquired_before_every_attempt(make_client, clock: FakeClock) -> None:
    handler, _ = scripted(httpx.Response(503), httpx.ConnectError, httpx.Response(202))
    limiter = CountingLimiter(clock)
    client = make_client(handler, limiter=limiter)
    client.request("POST", "/api/profile-bulk-import-jobs", limit=BULK)
    assert limiter.acquired == [("acct-1", BULK.name)] * 3
    client.request("GET", "/api/lists")
    assert len(limiter.acquired) == 3


def test_stats_count_attempts_per_operation(make_client) -> None:
    handler, _ = scripted(httpx.Response(429), httpx.Response(503), httpx.ReadError, 
                          httpx.Response(200))  # fmt: skip
    client = make_client(handler)
    client.request("POST", "/api/profile-bulk-import-jobs", limit=BULK)
    client.request("GET", "/api/lists?page[cursor]=abc")
    stats = client.stats.as_dict()
    assert stats["requests"] == 5
    assert stats["retries"] == 3
    assert (stats["rate_limited"], stats["server_errors"], stats["transport_failures"]) == (1, 1, 1)
    assert stats["by_operation"] == {BULK.name: 4, "GET /base/api/lists": 1}
    assert stats["retry_wait_seconds"] > 0


def test_json_body_is_compact_and_keeps_the_callers_content_type(make_client) -> None:
    handler, seen = scripted(httpx.Response(202))
    client = make_client(handler, headers={"Content-Type": "application/vnd.api+json"})
    client.request("POST", "/api/jobs", json={"data": {"type": "profile", "ids": [1, 2]}})
    client.request("POST", "/api/jobs", json={"a": "é"}, headers={"content-type": "text/x"})
    assert seen[0].content == b'{"data":{"type":"profile","ids":[1,2]}}'
    assert seen[0].headers["content-type"] == "application/vnd.api+json"
    assert json.loads(seen[1].content) == {"a": "é"}
    assert seen[1].headers["content-type"] == "text/x"


def test_json_body_defaults_to_application_json(make_client) -> None:
    handler, seen = scripted(httpx.Response(202))
    make_client(handler, headers={}).request("POST", "/events", json=[1])
    assert seen[0].headers["content-type"] == "application/json"
    assert seen[0].content == b"[1]"


def test_json_and_content_together_are_refused(make_client) -> None:
    handler, _ = scripted(httpx.Response(200))
    with pytest.raises(ValueError):
        make_client(handler).request("POST", "/x", json={}, content=b"{}")


def test_secrets_never_reach_logs_errors_or_repr(make_client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    handler, seen = scripted(
        httpx.Response(200),
        klaviyo_errors("invalid"),
        httpx.Response(503),
        httpx.ReadTimeout,
    )
    client = make_client(handler, retry=RetryPolicy(max_attempts=2, random=lambda: 0.5))
    params = {"token": QUERY_TOKEN, "email": EMAIL}
    client.request("GET", f"/api/{QUERY_TOKEN}/lists", params=params)
    failures: list[Exception] = []
    for path in ("/api/profile-import", "/api/events", "/Messages.json"):
        with pytest.raises((ClientError, ServerError, TransportFailure)) as raised:
            client.request(
                "POST", f"{path}?token={QUERY_TOKEN}", json={"email": EMAIL}, params=params,
                retry_on_timeout=path != "/Messages.json",
            )  # fmt: skip
        failures.append(raised.value)

    assert seen[0].url.params["token"] == QUERY_TOKEN  # the secret was really sent
    assert any(r.name == "httpx" for r in caplog.records)  # httpx's own line was emitted
    assert any(r.name == "activations.http" for r in caplog.records)
    texts = [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]
    texts += [str(e) for e in failures] + [repr(e) for e in failures] + [repr(client)]
    for text in texts:
        for leak in (API_KEY, QUERY_TOKEN, EMAIL, "not a valid email"):
            assert leak not in text, text
    assert repr(client) == "HttpClient(host='a.klaviyo.test')"


def test_closing_the_client_stops_filtering_httpx_logs(make_client) -> None:
    handler, _ = scripted(httpx.Response(200))
    client = make_client(handler)
    httpx_logger = logging.getLogger("httpx")
    assert len(httpx_logger.filters) >= 1
    before = len(httpx_logger.filters)
    client.close()
    assert len(httpx_logger.filters) == before - 1


def test_context_manager_closes(clock: FakeClock) -> None:
    handler, _ = scripted(httpx.Response(200))
    with HttpClient(BASE, transport=httpx.MockTransport(handler), time_scale=1.0) as client:
        assert client.request("GET", "/x").status_code == 200
    with pytest.raises(RuntimeError):
        client.request("GET", "/x")


def test_time_scale_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("COHORTFLOW_TIME_SCALE", "60")
    assert time_scale() == 60.0
    with HttpClient(BASE, transport=httpx.MockTransport(scripted(httpx.Response(200))[0])) as c:
        assert c.time_scale == 60.0 and c.limiter.time_scale == 60.0
    monkeypatch.delenv("COHORTFLOW_TIME_SCALE")
    assert time_scale() == 1.0


@pytest.mark.parametrize("value", ["0.5", "fast", "inf", "nan", "-3"])
def test_bad_time_scale_is_a_clear_error(value: str) -> None:
    with pytest.raises(TimeScaleError, match="COHORTFLOW_TIME_SCALE"):
        time_scale({"COHORTFLOW_TIME_SCALE": value})
