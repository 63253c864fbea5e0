"""Bad requests over HTTP on SQLite and PostgreSQL: each is refused with a 4xx that says where and why, never
a 500 or a dropped connection; refusals echo no secret and no huge input; a body over the limit is refused
with 413 before it is read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dispatcher.bootstrap import System
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from jiesu.web.session import COOKIE
from tests.integration.test_api import ok, open_case
from tests.support.fakes import FakeIntake

JSON = {"Content-Type": "application/json"}
BIGGEST_ID = 2**63 - 1  # a signed 64-bit integer: every id column's range


@pytest.fixture
def client(system: System) -> Iterator[TestClient]:
    app = create_app(system.settings, system)
    app.state.intake = FakeIntake()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def invalid(response, where: str, status: int = 422) -> str:  # type: ignore[no-untyped-def]
    """The refusal's detail, after checking it is a `validation` error naming `where`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == "validation" and where in body["detail"], body
    detail: str = body["detail"]
    return detail


def open311_refused(response, status: int = 400) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    [error] = response.json()
    assert error["code"] == status
    description: str = error["description"]
    return description


# ---- a lone surrogate in any JSON string ---------------------------------------------------------

SURROGATES = [
    ("/api/login", '{"username": "\\ud800", "password": "x"}', "body.username"),
    ("/api/login", '{"username": "li", "password": "\\udc00abc"}', "body.password"),
    ("/api/cases/BJ1/contact", '{"note": "ok \\ud83d"}', "body.note"),
    ("/api/cases/BJ1/return", '{"code": "other", "reason": "\\udfff"}', "body.reason"),
    ("/api/complaints", '{"ticket_id": "\\ud800"}', "body.ticket_id"),
    (
        "/api/login",
        '{"username": "li", "password": "x", "\\ud800": 1}',
        "body: Input should be a valid string",
    ),
]


def test_a_lone_surrogate_in_a_json_string_is_a_422_saying_where(client, tokens, system, subtests):
    open_case(system, "BJ1")
    headers = {**JSON, "Authorization": f"Bearer {tokens['root']}"}
    for path, body, where in SURROGATES:
        with subtests.test(body=body):
            response = client.post(path, content=body.encode(), headers=headers)
            invalid(response, where)
            assert "\\ud" not in response.text.lower() and "\\udc00" not in response.text.lower()


# ---- a NUL character anywhere (PostgreSQL cannot store one) ----------------------------------------


def test_a_nul_character_in_a_url_or_a_body_is_refused_saying_where(client, tokens, system, subtests):
    open_case(system, "BJ1")
    root = {"Authorization": f"Bearer {tokens['root']}"}
    for path, where in [
        ("/api/cases?unit=%00", "query.unit"),
        ("/api/cases/BJ%001", "path.ticket_id"),
        ("/api/cases/BJ%001/timeline", "path.ticket_id"),
        ("/api/escalations?unit=a%00", "query.unit"),
        ("/api/scores?month=2026-11&unit=%00", "query.unit"),
        ("/api/scores/%00/2026-11/breakdown", "path.unit"),
    ]:
        with subtests.test(path=path):
            assert "NUL character" in invalid(client.get(path, headers=root), where)
    for path, said in [
        ("/open311/v2/requests/BJ%001.json", "path.service_request_id"),
        ("/open311/v2/requests.json?service_code=%00", "query.service_code"),
        ("/open311/v2/requests.json?service_request_id=BJ1,%00", "query.service_request_id"),
    ]:
        with subtests.test(path=path):
            assert said in open311_refused(client.get(path))
    for path, body, where in [
        ("/api/login", {"username": "li\x00", "password": "x"}, "body.username"),
        ("/api/cases/BJ1/return", {"code": "other", "reason": "a\x00b"}, "body.reason"),
        ("/api/cases/BJ1/dispatch", {"unit": "ent-heating\x00"}, "body.unit"),
    ]:
        with subtests.test(path=path, body=body):
            assert "NUL character" in invalid(client.post(path, json=body, headers=root), where)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    posted = f"api_key={tokens['hotline']}&service_code=0101&address_string=a&description=x%00y"
    refused = client.post("/open311/v2/requests.json", content=posted.encode(), headers=form)
    assert "NUL character" in open311_refused(refused)
    page = client.post("/login", content=b"username=li%00&password=x&csrf=x", headers=form)
    assert page.status_code == 422 and "NUL character" in page.json()["detail"]


# ---- ids beyond 64 bits --------------------------------------------------------------------------


def test_an_appeal_or_callback_id_beyond_64_bits_is_a_422(zhao, li, subtests):
    for number in (BIGGEST_ID + 1, 2**64, 10**30):
        with subtests.test(number=number):
            decided = zhao.post(f"/api/appeals/{number}/decision", json={"accept": True, "reason": "查实"})
            assert "less than or equal to 9223372036854775807" in invalid(decided, "path.appeal_id")
            invalid(li.post(f"/api/callbacks/{number}/appeal", json={"reason": "已解决"}), "path.callback_id")
    for response in (  # the biggest 64-bit id is simply not found
        zhao.post(f"/api/appeals/{BIGGEST_ID}/decision", json={"accept": True, "reason": "查实"}),
        li.post(f"/api/callbacks/{BIGGEST_ID}/appeal", json={"reason": "已解决"}),
    ):
        assert 400 <= response.status_code < 500, response.text


# ---- dates at the ends of the calendar -----------------------------------------------------------


def test_open311_dates_out_of_range_are_a_400_saying_which(client, subtests):
    for params, said in [
        ({"end_date": "0001-01-02"}, "end_date"),
        ({"start_date": "9999-12-31"}, "start_date"),
        ({"start_date": "0001-01-01T00:00:00+08:00", "end_date": "0001-01-02"}, "start_date"),
        ({"end_date": "9999-12-31T23:59:59-12:00"}, "end_date"),
    ]:
        with subtests.test(params=params):
            description = open311_refused(client.get("/open311/v2/requests.json", params=params))
            assert description.startswith(said) and "between 1900-01-01 and 2999-12-31" in description
            xml = client.get("/open311/v2/requests.xml", params=params)
            assert xml.status_code == 400 and "between 1900-01-01" in xml.text


def test_scores_rankings_and_breakdowns_refuse_months_and_moments_out_of_range(zhao, subtests):
    for params, where in [
        ({"month": "0000-01"}, "query.month"),
        ({"month": "9999-12"}, "query.month"),
        ({"since": "0001-01-01T00:00:00+08:00"}, "query.since"),
        ({"since": "2026-11-01T00:00:00+08:00", "until": "9999-12-31T23:59:59-12:00"}, "query.until"),
        ({"since": "2026-11-01T00:00:00"}, "query.since"),  # no offset
    ]:
        with subtests.test(params=params):
            invalid(zhao.get("/api/scores", params=params), where)
    for month in ("9999-12", "0001-01", "0000-01", "2026-13", "abc"):
        with subtests.test(month=month):
            ranked = zhao.get("/api/rankings", params={"month": month})
            assert "1900-01 to 2999-12" in invalid(ranked, "query.month")
            invalid(zhao.get(f"/api/scores/ent-heating/{month}/breakdown"), "path.month")
    assert zhao.get("/api/rankings", params={"month": "2999-12"}).status_code == 200


def test_an_extension_until_the_year_9999_is_a_422(li, zhao, system, subtests):
    ticket = open_case(system, "BJ1")
    ok(li.post(f"/api/cases/{ticket}/acknowledge"))
    for until in ("9999-12-31T23:00:00+08:00", "9999-12-31T23:00:00-08:00", "0001-01-01T00:00:00+08:00"):
        with subtests.test(until=until):
            asked = li.post(f"/api/cases/{ticket}/extension", json={"until": until, "reason": "需协调"})
            assert "between 1900-01-01 and 2999-12-31" in invalid(asked, "body.until")
    ok(li.post(f"/api/cases/{ticket}/extension", json={"until": "2026-12-05T18:00:00+08:00", "reason": "x"}))
    decided = zhao.post(
        f"/api/cases/{ticket}/extension/decision",
        json={"approve": True, "until": "9999-12-31T23:00:00-08:00"},
    )
    invalid(decided, "body.until")
    assert ok(li.get(f"/api/cases/{ticket}"))["pending_extension"] is not None


def test_the_dashboard_events_refuse_a_since_without_offset_or_out_of_range(client, tokens, subtests):
    client.cookies.set(COOKIE, tokens["zhao"])
    for since, said in [
        ("2026-11-26T10:00:00", "needs an offset"),
        ("0001-01-01T00:00:00+08:00", "between 1900-01-01 and 2999-12-31"),
        ("9999-12-31T23:59:59-12:00", "between 1900-01-01 and 2999-12-31"),
        ("yesterday", "not an ISO 8601 date-time"),
    ]:
        with subtests.test(since=since):
            response = client.get("/dashboard/events", params={"since": since})
            assert response.status_code == 400 and response.text.startswith("since: "), response.text
            assert said in response.text


# ---- what a refusal may say ----------------------------------------------------------------------


def test_a_422_never_echoes_a_password_and_cuts_long_inputs(client, tokens, system):
    huge = "p" * 1_000_000
    for body in ({"username": "li", "password": huge}, {"password": "s3cret-Value", "extra": 1}):
        response = client.post("/api/login", json=body)
        assert response.status_code == 422 and len(response.content) < 4000, response.text[:300]
        assert "ppppp" not in response.text and "s3cret" not in response.text
        for error in response.json()["errors"]:
            assert error["loc"] and error["msg"] and error["type"]
            assert "input" not in error or "password" not in json.dumps(error["input"])
    open_case(system, "BJ1")
    note = "很" * 100_000
    response = client.post(
        "/api/cases/BJ1/contact", json={"note": note}, headers={"Authorization": f"Bearer {tokens['li']}"}
    )
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "note"] and error["input"].startswith("很很很")
    assert 100 < len(error["input"]) < 300 and "100000 characters" in error["input"]
    assert len(response.content) < 4000
    # a body of many bad fields: the first 50 errors, the rest counted
    crowded = {"username": "li", "password": "x", **{f"field{n}": n for n in range(20_000)}}
    response = client.post("/api/login", json=crowded)
    assert response.status_code == 422 and len(response.json()["errors"]) == 50
    assert response.json()["detail"].endswith("; and 19950 more errors") and len(response.content) < 20_000
    # a secret in the form of a page is not echoed either
    page = client.post("/login", data={"username": "li"})
    assert page.status_code == 422 and [e["loc"] for e in page.json()["errors"]] == [["body", "password"]]


# ---- the size of a body --------------------------------------------------------------------------


CHUNK = 64 * 1024


def chunks(count: int, sent: list[int]) -> Iterator[bytes]:
    for _ in range(count):
        sent.append(CHUNK)
        yield b"x" * CHUNK


def streamed(app: Any, path: str, headers: dict[str, str], count: int) -> tuple[int, bytes, int]:
    """POST `count` chunks of 64 KiB to the ASGI `app`, as a server streams a body sent without a length:
    the status, the body of the answer, and how many chunks the app read."""
    read, answer = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < count:
            read += 1
            return {"type": "http.request", "body": b"x" * CHUNK, "more_body": read < count}
        await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        answer.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in answer if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
    return status, body, read


def test_a_100_mb_body_is_a_413_read_no_further_than_the_limit(client, tokens, subtests):
    for path, form in [
        ("/api/login", False),
        ("/api/cases/BJ1/contact", False),
        ("/open311/v2/requests.json", True),
        ("/login", True),
    ]:
        with subtests.test(path=path):
            kind = "application/x-www-form-urlencoded" if form else "application/json"
            headers = {"Content-Type": kind, "Authorization": f"Bearer {tokens['li']}"}
            # declared: refused before a byte is read
            sent: list[int] = []
            declared = {**headers, "Content-Length": str(100 * 2**20)}
            response = client.post(path, content=chunks(1600, sent), headers=declared)
            assert response.status_code == 413, response.text[:300]
            assert "over 1048576 bytes" in response.text and sent == []
            # streamed without a length: refused once past the limit, the rest never read
            status, answer, read = streamed(client.app, path, headers, 1600)
            assert status == 413 and b"over 1048576 bytes" in answer, answer[:300]
            assert read == 2**20 // CHUNK + 1


def test_the_body_limit_is_a_setting_and_a_body_within_it_is_read(system, tokens):
    settings = Settings(database_url=system.settings.database_url, web_max_body_bytes=100)
    with TestClient(create_app(settings, system)) as client:
        small = client.post("/api/login", json={"username": "nobody", "password": "x" * 40})
        assert small.status_code == 401
        big = client.post("/api/login", json={"username": "nobody", "password": "x" * 200})
        assert big.status_code == 413 and big.json()["error"] == "too_large"
        assert big.json()["detail"] == "the request body is over 100 bytes: send less"
