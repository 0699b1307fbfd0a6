"""The Klaviyo sandbox over real sockets: the rules of the spec and NOTES.md, as a client sees them.

Why: destination code is only as right as the sandbox it is tested against. Each test here would
fail if the sandbox accepted something Klaviyo refuses, answered in a shape the spec does not
document (every success body is validated against the spec's response schema), or counted rate
limits differently from Klaviyo's fixed windows.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from activations.sandbox import SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox

pytestmark = pytest.mark.integration

API_KEY = "test-key-klaviyo"
HEADERS = {
    "Authorization": f"Klaviyo-API-Key {API_KEY}",
    "revision": "2026-07-15",
    "Content-Type": "application/vnd.api+json",
    "Accept": "application/vnd.api+json",
}
ULID = re.compile(r"^01[0-9A-HJKMNP-TV-Z]{24}$")


@pytest.fixture
def sandbox() -> KlaviyoSandbox:
    # Scale 1000: functional tests never meet a rate limit by accident.
    return KlaviyoSandbox(api_key=API_KEY, time_scale=1000.0, seed=0)


@pytest.fixture
def client(sandbox: KlaviyoSandbox) -> Iterator[httpx.Client]:
    with (
        SandboxServer(sandbox.app) as server,
        httpx.Client(base_url=server.url, headers=HEADERS, timeout=10.0) as http,
    ):
        yield http


# ------------------------------------------------------------------------------- helpers


def ok(sandbox: KlaviyoSandbox, response: httpx.Response, operation_id: str, status: int) -> Any:
    """Assert the status and that the body is what the spec documents for it."""
    assert response.status_code == status, response.text
    body = response.json() if response.content else None
    operation = sandbox.spec.operations[operation_id]
    assert sandbox.spec.validate_response(operation, status, body) == []
    return body


def error(
    sandbox: KlaviyoSandbox, response: httpx.Response, status: int, code: str
) -> dict[str, Any]:
    """Assert a JSON:API error of the spec's ClientError/ServerError shape; return the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/vnd.api+json")
    body = response.json()
    operation = sandbox.spec.operations["get_lists"]  # every operation shares these schemas
    assert sandbox.spec.validate_response(operation, status, body) == []
    (first,) = body["errors"]
    assert first["code"] == code
    assert first["status"] == status
    assert re.fullmatch(r"[0-9a-f-]{36}", first["id"])
    assert first["title"] and first["detail"]
    return dict(first)


def new_list(client: httpx.Client, name: str) -> str:
    response = client.post(
        "/api/lists", json={"data": {"type": "list", "attributes": {"name": name}}}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def upsert(client: httpx.Client, **attributes: Any) -> httpx.Response:
    return client.post(
        "/api/profile-import", json={"data": {"type": "profile", "attributes": attributes}}
    )


def profile_id(client: httpx.Client, **attributes: Any) -> str:
    response = upsert(client, **attributes)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["data"]["id"])


def members_body(ids: list[str]) -> dict[str, Any]:
    return {"data": [{"type": "profile", "id": pid} for pid in ids]}


def import_body(profiles: list[dict[str, Any]], list_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "profile-bulk-import-job",
        "attributes": {
            "profiles": {"data": [{"type": "profile", "attributes": p} for p in profiles]}
        },
    }
    if list_id is not None:
        data["relationships"] = {"lists": {"data": [{"type": "list", "id": list_id}]}}
    return {"data": data}


def events_body(*entries: tuple[dict[str, Any], list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {
                "events-bulk-create": {
                    "data": [
                        {
                            "type": "event-bulk-create",
                            "attributes": {
                                "profile": {"data": {"type": "profile", "attributes": profile}},
                                "events": {
                                    "data": [{"type": "event", "attributes": e} for e in events]
                                },
                            },
                        }
                        for profile, events in entries
                    ]
                }
            },
        }
    }


def event(metric: str, unique_id: str | None, **properties: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "properties": properties,
        "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
    }
    if unique_id is not None:
        attributes["unique_id"] = unique_id
    return attributes


def subscribe_body(emails: list[str], list_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "profile-subscription-bulk-create-job",
        "attributes": {
            "profiles": {
                "data": [
                    {
                        "type": "profile",
                        "attributes": {
                            "email": email,
                            "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}},
                        },
                    }
                    for email in emails
                ]
            }
        },
    }
    if list_id is not None:
        data["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return {"data": data}


def unsubscribe_body(emails: list[str], list_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "profile-subscription-bulk-delete-job",
        "attributes": {
            "profiles": {
                "data": [
                    {
                        "type": "profile",
                        "attributes": {
                            "email": email,
                            "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}},
                        },
                    }
                    for email in emails
                ]
            }
        },
    }
    if list_id is not None:
        data["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return {"data": data}


# ------------------------------------------------------------------ auth, headers, validation


def test_requests_without_or_with_a_wrong_key_are_401(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    missing = client.get("/api/lists", headers={"Authorization": ""})
    error(sandbox, missing, 401, "not_authenticated")
    wrong = client.get("/api/lists", headers={"Authorization": "Klaviyo-API-Key not-the-key"})
    error(sandbox, wrong, 401, "authentication_failed")
    bearer = client.get("/api/lists", headers={"Authorization": f"Bearer {API_KEY}"})
    error(sandbox, bearer, 401, "authentication_failed")
    assert "ratelimit-limit" not in wrong.headers


def test_revision_header_is_required_and_must_be_a_known_date(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    missing = client.get("/api/lists", headers={"revision": ""})
    assert error(sandbox, missing, 400, "invalid")["source"] == {"parameter": "revision"}
    error(sandbox, client.get("/api/lists", headers={"revision": "July 2026"}), 400, "invalid")
    error(sandbox, client.get("/api/lists", headers={"revision": "2099-01-01"}), 400, "invalid")
    ok(sandbox, client.get("/api/lists", headers={"revision": "2026-07-15.pre"}), "get_lists", 200)
    ok(sandbox, client.get("/api/lists", headers={"revision": "2024-10-15"}), "get_lists", 200)


def test_bodies_must_be_json_api(sandbox: KlaviyoSandbox, client: httpx.Client) -> None:
    body = json.dumps({"data": {"type": "list", "attributes": {"name": "VIP"}}})
    plain = client.post("/api/lists", content=body, headers={"Content-Type": "application/json"})
    error(sandbox, plain, 415, "unsupported_media_type")
    broken = client.post("/api/lists", content=b'{"data": ')
    error(sandbox, broken, 400, "parse_error")
    with_charset = client.post(
        "/api/lists",
        content=body,
        headers={"Content-Type": "application/vnd.api+json; charset=utf-8"},
    )
    ok(sandbox, with_charset, "create_list", 201)
    assert sandbox.state.lists == {with_charset.json()["data"]["id"]: "VIP"}


def test_bodies_are_validated_against_the_spec_schema_with_a_pointer(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    no_name = client.post("/api/lists", json={"data": {"type": "list", "attributes": {}}})
    assert error(sandbox, no_name, 400, "invalid")["source"] == {"pointer": "/data/attributes/name"}
    wrong_type = client.post(
        "/api/lists", json={"data": {"type": "segment", "attributes": {"name": "x"}}}
    )
    assert error(sandbox, wrong_type, 400, "invalid")["source"] == {"pointer": "/data/type"}
    bad_email_type = client.post(
        "/api/profile-import", json={"data": {"type": "profile", "attributes": {"email": 5}}}
    )
    assert error(sandbox, bad_email_type, 400, "invalid")["source"] == {
        "pointer": "/data/attributes/email"
    }
    # OpenAPI 3.0 `nullable: true` fields accept null.
    nullable = client.post(
        "/api/lists",
        json={"data": {"type": "list", "attributes": {"name": "N", "opt_in_process": None}}},
    )
    ok(sandbox, nullable, "create_list", 201)
    assert sandbox.state.lists == {nullable.json()["data"]["id"]: "N"}


def test_unknown_paths_are_404_and_wrong_methods_405(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    error(sandbox, client.get("/api/not-an-endpoint"), 404, "not_found")
    put = client.put("/api/lists", json={})
    error(sandbox, put, 405, "method_not_allowed")
    assert put.headers["allow"] == "GET, POST"


def test_query_parameters_are_checked_against_the_spec(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    too_big = client.get("/api/lists", params={"page[size]": "11"})
    assert error(sandbox, too_big, 400, "invalid")["source"] == {"parameter": "page[size]"}
    error(sandbox, client.get("/api/profiles", params={"page[size]": "101"}), 400, "invalid")
    error(sandbox, client.get("/api/profiles", params={"page[size]": "0"}), 400, "invalid")
    error(sandbox, client.get("/api/profiles", params={"page[size]": "ten"}), 400, "invalid")
    error(sandbox, client.get("/api/profiles", params={"sort": "name"}), 400, "invalid")
    unknown = client.get("/api/lists", params={"pagesize": "5"})
    assert error(sandbox, unknown, 400, "invalid")["source"] == {"parameter": "pagesize"}
    ok(sandbox, client.get("/api/profiles", params={"page[size]": "100"}), "get_profiles", 200)


# ---------------------------------------------------------------------------------- lists


def test_get_lists_filters_by_name_in_both_quote_styles_and_pages_by_ten(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    vip = [new_list(client, "VIP") for _ in range(12)]  # Klaviyo allows duplicate names
    other = new_list(client, 'It\'s "quoted"')
    for text in ('equals(name,"VIP")', "equals(name,['VIP'])", 'any(name,["VIP","nope"])'):
        found: list[str] = []
        params: dict[str, str] | None = {"filter": text}
        url = "/api/lists"
        pages = 0
        while params is not None or url != "/api/lists":
            body = ok(sandbox, client.get(url, params=params), "get_lists", 200)
            pages += 1
            assert len(body["data"]) <= 10
            found.extend(item["id"] for item in body["data"])
            next_link = body["links"].get("next")
            if not next_link:
                break
            url, params = next_link, None
        assert found == vip and pages == 2, text
    quoted = client.get("/api/lists", params={"filter": 'equals(name,"It\'s \\"quoted\\"")'})
    assert [i["id"] for i in ok(sandbox, quoted, "get_lists", 200)["data"]] == [other]
    single = client.get("/api/lists", params={"filter": "equals(name,'It\\'s \"quoted\"')"})
    assert [i["id"] for i in ok(sandbox, single, "get_lists", 200)["data"]] == [other]
    for bad in (
        "equals(name,",
        "equals(nickname,'x')",
        "less-than(name,'x')",
        "or(equals(name,'x'))",
    ):
        assert error(sandbox, client.get("/api/lists", params={"filter": bad}), 400, "invalid")[
            "source"
        ] == {"parameter": "filter"}


def test_list_membership_limits_and_errors(sandbox: KlaviyoSandbox, client: httpx.Client) -> None:
    list_id = new_list(client, "VIP")
    ids = [profile_id(client, email=f"m{i}@example.com") for i in range(3)]
    path = f"/api/lists/{list_id}/relationships/profiles"

    too_many = client.post(path, json=members_body(ids[:1] * 1001))
    assert error(sandbox, too_many, 400, "invalid")["source"] == {"pointer": "/data"}
    unknown_list = client.post("/api/lists/nope00/relationships/profiles", json=members_body(ids))
    error(sandbox, unknown_list, 404, "not_found")
    unknown_profile = client.post(path, json=members_body([ids[0], "01NOTAPROFILE0000000000000"]))
    assert error(sandbox, unknown_profile, 400, "invalid")["source"] == {"pointer": "/data/1/id"}
    assert sandbox.state.list_members("VIP") == set(), "a refused call changes nothing"

    ok(sandbox, client.post(path, json=members_body(ids[:1] * 1000)), "add_profiles_to_list", 204)
    ok(sandbox, client.post(path, json=members_body(ids)), "add_profiles_to_list", 204)
    assert sandbox.state.list_members("VIP") == {
        "m0@example.com",
        "m1@example.com",
        "m2@example.com",
    }
    removed = client.request("DELETE", path, json=members_body([ids[0], ids[0]]))
    ok(sandbox, removed, "remove_profiles_from_list", 204)
    again = client.request("DELETE", path, json=members_body([ids[0]]))
    ok(sandbox, again, "remove_profiles_from_list", 204)  # not a member: a no-op
    assert sandbox.state.list_members("VIP") == {"m1@example.com", "m2@example.com"}
    assert sandbox.state.list_member_ids("VIP") == set(ids[1:])


# ------------------------------------------------------------------------- bulk import jobs


def test_bulk_import_job_runs_in_api_time_then_lists_profiles_and_errors() -> None:
    sandbox = KlaviyoSandbox(api_key=API_KEY, time_scale=1.0, seed=0, job_seconds=100.0)
    with (
        SandboxServer(sandbox.app) as server,
        httpx.Client(base_url=server.url, headers=HEADERS) as client,
    ):
        list_id = new_list(client, "VIP")
        by_email = profile_id(client, email="taken@example.com")
        by_phone = profile_id(client, phone_number="+14155550100")
        rows: list[dict[str, Any]] = [
            {"email": "ok1@example.com", "first_name": "A", "properties": {"tier": "gold"}},
            {"email": "not-an-email@", "properties": {"tier": "gold"}},
            {"email": "taken@example.com", "phone_number": "+14155550100"},
            {"email": "ok2@example.com", "phone_number": "0415 555 0100"},
            {"email": "ok3@example.com", "properties": {"notes": "x" * 110_000}},
            {"email": "ok4@example.com", "properties": {"tier": None}},
        ]
        created = client.post("/api/profile-bulk-import-jobs", json=import_body(rows, list_id))
        job = ok(sandbox, created, "bulk_import_profiles", 202)["data"]
        assert job["attributes"]["status"] == "queued"
        assert job["attributes"]["total_count"] == 6
        assert ULID.match(job["id"])

        # 6 rows at 100 API seconds per 1,000 take 0.6 API s = 0.6 wall s at scale 1.
        polled = client.get(f"/api/profile-bulk-import-jobs/{job['id']}")
        attributes = ok(sandbox, polled, "get_bulk_import_profiles_job", 200)["data"]["attributes"]
        assert attributes["status"] == "processing"
        assert sandbox.state.list_members("VIP") == set(), "nothing applies before the job ends"
        deadline = time.monotonic() + 5
        while attributes["status"] != "complete" and time.monotonic() < deadline:
            time.sleep(0.15)  # the job reads are limited to 10/s too
            polled = client.get(
                f"/api/profile-bulk-import-jobs/{job['id']}", params={"include": "lists"}
            )
            body = ok(sandbox, polled, "get_bulk_import_profiles_job", 200)
            attributes = body["data"]["attributes"]
        assert attributes["status"] == "complete"
        counts = [attributes[k] for k in ("total_count", "completed_count", "failed_count")]
        assert counts == [6, 2, 4]
        assert [item["id"] for item in body["included"]] == [list_id]
        assert sandbox.state.list_members("VIP") == {"ok1@example.com", "ok4@example.com"}

        errors_response = client.get(
            f"/api/profile-bulk-import-jobs/{job['id']}/import-errors", params={"page[size]": "2"}
        )
        page = ok(sandbox, errors_response, "get_errors_for_bulk_import_profiles_job", 200)
        failures = page["data"]
        rest = client.get(page["links"]["next"])
        failures += ok(sandbox, rest, "get_errors_for_bulk_import_profiles_job", 200)["data"]
        assert "next" not in rest.json()["links"]
        found = [
            (f["attributes"]["source"]["pointer"], f["attributes"]["code"], f["attributes"])
            for f in failures
        ]
        row = "/data/attributes/profiles/data"
        assert [(pointer, code) for pointer, code, _ in found] == [
            (f"{row}/1/attributes/email", "invalid"),
            (f"{row}/2/attributes/phone_number", "duplicate_profile"),
            (f"{row}/3/attributes/phone_number", "invalid"),  # not E.164
            (f"{row}/4", "payload_too_large"),
        ]
        assert [attrs["original_payload"] for _, _, attrs in found] == rows[1:5]
        assert by_phone in found[1][2]["detail"]
        assert sandbox.state.profile_by_email("ok2@example.com") is None

        imported = client.get(f"/api/profile-bulk-import-jobs/{job['id']}/profiles")
        profiles = ok(sandbox, imported, "get_profiles_for_bulk_import_profiles_job", 200)["data"]
        assert [p["attributes"]["email"] for p in profiles] == [
            "ok1@example.com",
            "ok4@example.com",
        ]
        assert sandbox.state.profiles[by_email].phone_number is None, "the conflict changed nothing"
        ok4 = sandbox.state.profile_by_email("ok4@example.com")
        assert ok4 is not None and ok4.properties == {"tier": None}


def test_bulk_import_size_limits(sandbox: KlaviyoSandbox, client: httpx.Client) -> None:
    rows = [{"email": f"p{i}@example.com"} for i in range(10_001)]
    too_many = client.post("/api/profile-bulk-import-jobs", json=import_body(rows))
    assert error(sandbox, too_many, 400, "invalid")["source"] == {
        "pointer": "/data/attributes/profiles/data"
    }
    heavy = [
        {"email": f"p{i}@example.com", "properties": {"pad": "x" * 2_000}} for i in range(3_000)
    ]
    too_large = client.post("/api/profile-bulk-import-jobs", json=import_body(heavy))
    error(sandbox, too_large, 413, "payload_too_large")
    missing_list = client.post(
        "/api/profile-bulk-import-jobs", json=import_body(rows[:1], list_id="nope00")
    )
    error(sandbox, missing_list, 404, "not_found")
    assert sandbox.state.profiles == {}
    fits = client.post("/api/profile-bulk-import-jobs", json=import_body(rows[:10_000]))
    ok(sandbox, fits, "bulk_import_profiles", 202)
    assert len(sandbox.state.profiles) == 10_000


# ------------------------------------------------------------------------------- profiles


def test_profile_import_creates_then_updates_merging_properties(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    first = upsert(
        client,
        email="Ann@Example.com",
        first_name="Ann",
        last_name="Lee",
        properties={"a": 1, "b": 2},
    )
    created = ok(sandbox, first, "create_or_update_profile", 201)["data"]
    assert ULID.match(created["id"])
    second = upsert(
        client, email="ann@example.com", first_name=None, properties={"b": None, "c": 3}
    )
    updated = ok(sandbox, second, "create_or_update_profile", 200)["data"]
    assert updated["id"] == created["id"], "emails match case-insensitively"
    profile = sandbox.state.profiles[created["id"]]
    assert profile.properties == {"a": 1, "b": None, "c": 3}
    assert profile.first_name is None, "an attribute sent as null is cleared"
    assert profile.last_name == "Lee", "an attribute not sent is kept"

    by_phone = profile_id(client, phone_number="+14155550101", external_id="crm-2")
    conflict = upsert(client, email="ann@example.com", phone_number="+14155550101")
    found = error(sandbox, conflict, 409, "duplicate_profile")
    assert found["meta"] == {"duplicate_profile_id": by_phone}
    bad_email = upsert(client, email="ann@@example")
    assert error(sandbox, bad_email, 400, "invalid")["source"] == {
        "pointer": "/data/attributes/email"
    }
    bad_phone = upsert(client, email="z@example.com", phone_number="415-555-0101")
    assert error(sandbox, bad_phone, 400, "invalid")["source"] == {
        "pointer": "/data/attributes/phone_number"
    }
    by_external = upsert(client, external_id="crm-2", last_name="Doe")
    assert ok(sandbox, by_external, "create_or_update_profile", 200)["data"]["id"] == by_phone
    too_big = upsert(client, email="big@example.com", properties={"pad": "x" * 110_000})
    error(sandbox, too_big, 413, "payload_too_large")
    assert len(sandbox.state.profiles) == 2


def test_get_profiles_filters_by_identifiers_and_paginates(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    ids = [
        profile_id(
            client, email=f"u{i}@example.com", phone_number=f"+1415555020{i}", external_id=f"x{i}"
        )
        for i in range(5)
    ]
    wanted = json.dumps(["u1@example.com", "U3@example.com", "nobody@example.com"])
    response = client.get("/api/profiles", params={"filter": f"any(email,{wanted})"})
    body = ok(sandbox, response, "get_profiles", 200)
    assert [p["id"] for p in body["data"]] == [ids[1], ids[3]]
    single = client.get("/api/profiles", params={"filter": "equals(email,'u2@example.com')"})
    assert [p["id"] for p in ok(sandbox, single, "get_profiles", 200)["data"]] == [ids[2]]
    phone = client.get("/api/profiles", params={"filter": 'equals(phone_number,"+14155550204")'})
    assert [p["id"] for p in ok(sandbox, phone, "get_profiles", 200)["data"]] == [ids[4]]
    external = client.get("/api/profiles", params={"filter": 'any(external_id,["x0","x4"])'})
    assert [p["id"] for p in ok(sandbox, external, "get_profiles", 200)["data"]] == [ids[0], ids[4]]

    seen: list[str] = []
    url: str = "/api/profiles"
    params: dict[str, str] | None = {"page[size]": "2"}
    while True:
        page = ok(sandbox, client.get(url, params=params), "get_profiles", 200)
        seen.extend(p["id"] for p in page["data"])
        if "next" not in page["links"]:
            break
        url, params = page["links"]["next"], None
    assert seen == ids
    bad_cursor = client.get("/api/profiles", params={"page[cursor]": "not-a-cursor"})
    error(sandbox, bad_cursor, 400, "invalid")
    unsupported = client.get("/api/profiles", params={"filter": "equals(_kx,'abc')"})
    assert "does not implement" in error(sandbox, unsupported, 400, "invalid")["detail"]


def test_profile_ids_are_klaviyo_like_and_follow_the_seed() -> None:
    runs = []
    for _ in range(2):
        sandbox = KlaviyoSandbox(api_key=API_KEY, time_scale=1000.0, seed=7)
        with (
            SandboxServer(sandbox.app) as server,
            httpx.Client(base_url=server.url, headers=HEADERS) as client,
        ):
            runs.append([profile_id(client, email=f"s{i}@example.com") for i in range(3)])
    assert runs[0] == runs[1]
    assert all(ULID.match(pid) for pid in runs[0])
    assert runs[0] == sorted(runs[0]), "ids grow like ULIDs"


# --------------------------------------------------------------------------------- events


def test_events_deduplicate_across_requests_first_one_wins(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    ann = {"email": "ann@example.com", "properties": {"vip": True}}
    first = client.post(
        "/api/event-bulk-create-jobs",
        json=events_body((ann, [event("Entered segment", "u1", version=1)])),
    )
    ok(sandbox, first, "bulk_create_events", 202)
    again = client.post(
        "/api/event-bulk-create-jobs",
        json=events_body(
            (ann, [event("Entered segment", "u1", version=2), event("Entered segment", "u2")]),
            ({"email": "ann@example.com"}, [event("Exited segment", "u1")]),
        ),
    )
    ok(sandbox, again, "bulk_create_events", 202)
    events = sandbox.state.events
    assert [(e.metric, e.unique_id) for e in events] == [
        ("Entered segment", "u1"),
        ("Entered segment", "u2"),
        ("Exited segment", "u1"),
    ]
    assert events[0].properties == {"version": 1}, "the first event with a unique_id wins"
    (profile,) = sandbox.state.profiles.values()
    assert profile.email == "ann@example.com" and profile.properties == {"vip": True}
    assert {e.profile_id for e in events} == {profile.id}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", events[0].time)


def test_a_repeated_unique_id_in_one_request_fails_the_whole_request(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    ann = {"email": "ann@example.com"}
    repeated = client.post(
        "/api/event-bulk-create-jobs",
        json=events_body(
            ({"email": "bob@example.com"}, [event("Placed order", "o1")]),
            (ann, [event("Placed order", "o1"), event("Placed order", "o1")]),
        ),
    )
    found = error(sandbox, repeated, 400, "invalid")
    assert found["source"]["pointer"].endswith("/events/data/1/attributes/unique_id")
    assert sandbox.state.events == [] and sandbox.state.profiles == {}, "nothing is processed"
    too_many = client.post(
        "/api/event-bulk-create-jobs",
        json=events_body((ann, [event("Placed order", f"o{i}") for i in range(1001)])),
    )
    error(sandbox, too_many, 400, "invalid")
    bad_email = client.post(
        "/api/event-bulk-create-jobs",
        json=events_body(({"email": "nope"}, [event("Placed order", "o1")])),
    )
    error(sandbox, bad_email, 400, "invalid")
    assert sandbox.state.events == []


# -------------------------------------------------------------------------------- consent


def test_subscribe_records_consent_and_unsubscribe_withdraws_it(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    list_id = new_list(client, "Newsletter")
    response = client.post(
        "/api/profile-subscription-bulk-create-jobs",
        json=subscribe_body(["a@example.com", "b@example.com"], list_id),
    )
    ok(sandbox, response, "bulk_subscribe_profiles", 202)
    assert dict(sandbox.state.subscriptions) == {
        "a@example.com": "SUBSCRIBED",
        "b@example.com": "SUBSCRIBED",
    }
    assert sandbox.state.list_members("Newsletter") == {"a@example.com", "b@example.com"}
    a = sandbox.state.profile_by_email("a@example.com")
    assert a is not None and sandbox.state.subscriptions[a.id] == "SUBSCRIBED"

    # Not in the named list: a global unsubscribe. In it: out of the list only.
    other = new_list(client, "Other")
    ok(
        sandbox,
        client.post(
            "/api/profile-subscription-bulk-delete-jobs",
            json=unsubscribe_body(["a@example.com"], other),
        ),
        "bulk_unsubscribe_profiles",
        202,
    )
    ok(
        sandbox,
        client.post(
            "/api/profile-subscription-bulk-delete-jobs",
            json=unsubscribe_body(["b@example.com"], list_id),
        ),
        "bulk_unsubscribe_profiles",
        202,
    )
    assert dict(sandbox.state.subscriptions) == {
        "a@example.com": "UNSUBSCRIBED",
        "b@example.com": "SUBSCRIBED",
    }
    assert sandbox.state.list_members("Newsletter") == {"a@example.com"}
    shown = client.get(
        "/api/profiles",
        params={
            "filter": "equals(email,'b@example.com')",
            "additional-fields[profile]": "subscriptions",
        },
    )
    marketing = ok(sandbox, shown, "get_profiles", 200)["data"][0]["attributes"]["subscriptions"]
    assert marketing["email"]["marketing"]["consent"] == "SUBSCRIBED"
    assert [s["list_id"] for s in marketing["email"]["marketing"]["list_suppressions"]] == [list_id]

    too_many = client.post(
        "/api/profile-subscription-bulk-create-jobs",
        json=subscribe_body([f"s{i}@example.com" for i in range(1001)]),
    )
    error(sandbox, too_many, 400, "invalid")
    too_many_out = client.post(
        "/api/profile-subscription-bulk-delete-jobs",
        json=unsubscribe_body([f"s{i}@example.com" for i in range(101)]),
    )
    error(sandbox, too_many_out, 400, "invalid")
    ok(
        sandbox,
        client.post(
            "/api/profile-subscription-bulk-delete-jobs",
            json=unsubscribe_body([f"s{i}@example.com" for i in range(100)]),
        ),
        "bulk_unsubscribe_profiles",
        202,
    )
    no_list = client.post(
        "/api/profile-subscription-bulk-create-jobs",
        json=subscribe_body(["c@example.com"], "nope00"),
    )
    error(sandbox, no_list, 404, "not_found")


# ---------------------------------------------------------------------------- rate limits


class SteppedClock:
    """A wall clock the test moves; readings sit mid-window so no float lands on an edge."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.wall = 0.0  # the sandbox's API second 0 starts at the first reading

    def __call__(self) -> float:
        return self.wall

    def at(self, api_second: int) -> None:
        self.wall = (api_second + 0.5) / self.scale


def test_fixed_windows_refuse_exactly_at_burst_steady_and_daily_limits() -> None:
    clock = SteppedClock(1000.0)
    sandbox = KlaviyoSandbox(api_key=API_KEY, time_scale=1000.0, seed=0, clock=clock)
    create = {"data": {"type": "list", "attributes": {"name": "L"}}}
    with (
        SandboxServer(sandbox.app) as server,
        httpx.Client(base_url=server.url, headers=HEADERS) as client,
    ):
        list_id = new_list(client, "Target")
        add = f"/api/lists/{list_id}/relationships/profiles"
        # add_profiles_to_list: burst 10/s, steady 150/m; create_list: the same plus 150/d.
        for second in range(15):
            clock.at(second)
            for i in range(10):
                response = client.post(add, json={"data": []})
                assert response.status_code == 204, (second, i)
                assert response.headers["RateLimit-Limit"] == "150"
                assert response.headers["RateLimit-Remaining"] == str(150 - 10 * second - i - 1)
                assert response.headers["RateLimit-Reset"] == str(60 - second)
                if (second, i) != (0, 0):  # the fixture's list was this second's first
                    assert client.post("/api/lists", json=create).status_code == 201
            refused = client.post(add, json={"data": []})
            error(sandbox, refused, 429, "throttled")
            assert "RateLimit-Limit" not in refused.headers
            # Until the minute's 150th request only the burst window is full; then both are,
            # and the client must wait for the later reset.
            assert refused.headers["Retry-After"] == ("1" if second < 14 else "46"), second
        clock.at(15)
        steady = client.post(add, json={"data": []})
        error(sandbox, steady, 429, "throttled")
        assert steady.headers["Retry-After"] == "45", "the minute window resets at API second 60"
        clock.at(60)
        again = client.post(add, json={"data": []})
        ok(sandbox, again, "add_profiles_to_list", 204)  # refusals did not count
        assert again.headers["RateLimit-Remaining"] == "149"
        daily = client.post("/api/lists", json=create)
        error(sandbox, daily, 429, "throttled")
        assert daily.headers["Retry-After"] == str(math.ceil(86400 - 60.5))
        # Limits are per operation: reading lists is unaffected.
        ok(sandbox, client.get("/api/lists"), "get_lists", 200)
    assert len(sandbox.state.lists) == 150
    requests = sandbox.state.requests
    assert (requests["create_list"], requests["add_profiles_to_list"]) == (150, 151)
    assert requests.statuses[429] == 17
    assert requests.total == requests["total"] == 150 + 151 + 17 + 1


def test_hammering_never_exceeds_a_fixed_window_and_429s_only_when_one_is_full() -> None:
    scale = 100.0  # a burst window lasts 10 ms of wall time, the steady one 600 ms
    sandbox = KlaviyoSandbox(api_key=API_KEY, time_scale=scale, seed=0)
    with SandboxServer(sandbox.app) as server:
        with httpx.Client(base_url=server.url, headers=HEADERS) as client:
            list_id = new_list(client, "Hammered")
        path = f"/api/lists/{list_id}/relationships/profiles"
        stop = time.monotonic() + 1.5
        retry_afters: list[int] = []
        lock = threading.Lock()

        def hammer() -> None:
            with httpx.Client(base_url=server.url, headers=HEADERS) as http:
                while time.monotonic() < stop:
                    response = http.post(path, json={"data": []})
                    assert response.status_code in (204, 429), response.text
                    if response.status_code == 429:
                        with lock:
                            retry_afters.append(int(response.headers["Retry-After"]))

        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(hammer) for _ in range(4)]:
                future.result()

    log = sorted(
        (r for r in sandbox.state.requests.log if r.operation_id == "add_profiles_to_list"),
        key=lambda r: r.at,
    )
    allowed = [r.at for r in log if r.status == 204]
    refused = [r.at for r in log if r.status == 429]
    assert refused and len(refused) == len(retry_afters)
    assert all(1 <= value <= 60 for value in retry_afters)
    burst = Counter(math.floor(at) for at in allowed)
    steady = Counter(math.floor(at / 60) for at in allowed)
    assert max(burst.values()) <= 10 and max(steady.values()) <= 150
    assert 150 in steady.values(), "the hammering reached the steady limit"
    for at in refused:
        full_burst = sum(1 for a in allowed if a < at and math.floor(a) == math.floor(at)) == 10
        full_steady = (
            sum(1 for a in allowed if a < at and math.floor(a / 60) == math.floor(at / 60)) == 150
        )
        assert full_burst or full_steady, f"429 at API second {at:.3f} with room in both windows"


# ------------------------------------------------------------------------ inspection route


def test_state_route_summarises_for_another_process(
    sandbox: KlaviyoSandbox, client: httpx.Client
) -> None:
    list_id = new_list(client, "VIP")
    pid = profile_id(client, email="ann@example.com")
    client.post(f"/api/lists/{list_id}/relationships/profiles", json=members_body([pid]))
    client.post(
        "/api/event-bulk-create-jobs",
        json=events_body(({"email": "ann@example.com"}, [event("Entered segment", "e1")])),
    )
    client.post(
        "/api/profile-subscription-bulk-create-jobs", json=subscribe_body(["ann@example.com"])
    )
    with httpx.Client(base_url=str(client.base_url)) as anonymous:  # no key, no revision
        summary = anonymous.get("/__sandbox__/state").json()
    assert summary["lists"] == [
        {"id": list_id, "name": "VIP", "member_count": 1, "members": ["ann@example.com"]}
    ]
    assert summary["profile_count"] == 1
    assert [(e["email"], e["metric"], e["unique_id"]) for e in summary["events"]] == [
        ("ann@example.com", "Entered segment", "e1")
    ]
    assert summary["subscriptions"] == {"ann@example.com": "SUBSCRIBED"}
    assert summary["requests"]["accepted"]["create_list"] == 1
