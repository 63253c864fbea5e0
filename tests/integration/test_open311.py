"""Open311 GeoReport v2 over the real system and database (SQLite and PostgreSQL): the spec's examples,
with our category codes and an intake system's token, answered in the spec's shapes field by field."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.routing import NoMatchFound

from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from jiesu.web import open311
from jiesu.web.app import IntakeUnavailableError, create_app
from tests.integration.test_api import open_case
from tests.support.clock import NOW
from tests.support.fakes import FakeIntake

SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
# The spec's example of POST requests, with one of our service codes and the api_key to fill in.
SPEC_EXAMPLE = (
    "api_key={key}&service_code=0101&lat=37.76524078&long=-122.4212043&address_string=1234+5th+street"
    "&email=smit222%40sfgov.edu&device_id=tt222111&account_id=123456&first_name=john&last_name=smith"
    "&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Fexample.com%2Fimage.jpg"
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(system: System) -> Iterator[TestClient]:
    app = create_app(system.settings, system)
    try:
        app.url_path_for("get_services")
    except NoMatchFound:
        app.include_router(open311.router)
    app.state.intake = FakeIntake()
    with TestClient(app) as client:
        yield client


@pytest.fixture
def intake(client: TestClient) -> FakeIntake:
    found: FakeIntake = client.app.state.intake  # type: ignore[attr-defined]
    return found


def submit(client: TestClient, body: str, path: str = "/open311/v2/requests.json") -> httpx.Response:
    return client.post(path, content=body.encode(), headers=FORM)


def answered(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def refused(response: httpx.Response, code: int) -> str:
    """The spec's error format: a list of {code, description}; the description."""
    assert response.status_code == code, response.text
    [error] = response.json()
    assert list(error) == ["code", "description"] and error["code"] == code
    description: str = error["description"]
    return description


def parsed_xml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def close_case(system: System, clock: Any, ticket: str) -> None:
    for command in (
        c.AcknowledgeCase(ticket, "li"),
        c.RecordContact(ticket, "li"),
        c.ResolveCase(ticket, "li", result="已修复，室温恢复"),
    ):
        system.bus.handle(command)
    clock.now = NOW + timedelta(hours=30)
    callback = c.RecordCallback(
        ticket, "center", recorded_at=clock.now, contacted=True, resolved=True, satisfaction="satisfied"
    )
    system.bus.handle(callback)


# ---- services ----------------------------------------------------------------------------------


def test_services_are_the_catalogs_categories_leaf_and_inner(client):
    services = answered(client.get("/open311/v2/services.json"))
    assert [list(service) for service in services] == [SERVICE_FIELDS] * 3
    assert services == [
        {
            "service_code": "01",
            "service_name": "供暖",
            "description": "供暖",
            "metadata": False,
            "type": "realtime",
            "keywords": "",
            "group": "供暖",
        },
        {
            "service_code": "0101",
            "service_name": "供热质量",
            "description": "供暖 / 供热质量",
            "metadata": False,
            "type": "realtime",
            "keywords": "暖气,不热,供暖",
            "group": "供暖",
        },
        {
            "service_code": "02",
            "service_name": "物业",
            "description": "物业",
            "metadata": False,
            "type": "realtime",
            "keywords": "物业",
            "group": "物业",
        },
    ]
    assert (
        answered(client.get("/open311/v2/services.json", params={"jurisdiction_id": "beijing"})) == services
    )


def test_services_in_xml_have_the_same_fields_in_utf8(client):
    services = answered(client.get("/open311/v2/services.json"))
    root = parsed_xml(client.get("/open311/v2/services.xml"))
    assert root.tag == "services" and [element.tag for element in root] == ["service"] * 3
    for element, service in zip(root, services, strict=True):
        assert [field.tag for field in element] == SERVICE_FIELDS
        texts = {field.tag: field.text or "" for field in element}
        assert texts == {**{name: str(value) for name, value in service.items()}, "metadata": "false"}
    assert "<service_name>供热质量</service_name>".encode() in client.get("/open311/v2/services.xml").content


def test_a_service_definition_has_no_attributes_and_an_unknown_code_is_404(client):
    assert answered(client.get("/open311/v2/services/0101.json")) == {
        "service_code": "0101",
        "attributes": [],
    }
    root = parsed_xml(client.get("/open311/v2/services/0101.xml"))
    assert (root.tag, [(field.tag, field.text) for field in root]) == (
        "service_definition",
        [("service_code", "0101"), ("attributes", None)],
    )
    assert refused(client.get("/open311/v2/services/001.json"), 404) == "no service with service_code 001"


# ---- POST requests -----------------------------------------------------------------------------


def test_the_specs_example_becomes_a_complaint_on_the_intake_topic(client, intake, tokens):
    response = submit(client, SPEC_EXAMPLE.format(key=tokens["hotline"]))

    [created] = answered(response)
    assert list(created) == ["service_request_id", "service_notice", "account_id"]
    assert re.fullmatch(r"O311-[0-9A-F]{12}", created["service_request_id"])
    assert created["account_id"] is None and created["service_request_id"] in created["service_notice"]
    [complaint] = intake.published
    assert complaint.ticket_id == created["service_request_id"]
    assert (complaint.channel, complaint.kind, complaint.category, complaint.urgency) == (
        "open311",
        "complaint",
        "0101",
        None,
    )
    assert complaint.received_at == NOW and complaint.received_at.isoformat() == "2026-11-26T10:00:00+08:00"
    assert complaint.description == "A large sinkhole is destroying the street"
    assert complaint.location is not None and complaint.requester is not None
    assert complaint.location.model_dump(exclude_none=True) == {
        "address": "1234 5th street",
        "lat": 37.76524078,
        "lon": -122.4212043,
    }
    assert (complaint.requester.name, complaint.requester.phone) == ("john smith", "111111111")
    assert complaint.attachments == ["http://example.com/image.jpg"]


def test_a_request_in_chinese_keeps_the_family_name_first_and_may_omit_coordinates(client, intake, tokens):
    body = urlencode(
        {
            "api_key": tokens["hotline"],
            "service_code": "02",
            "address_string": "朝阳区望京街道花家地北里3号楼",
            "first_name": "小明",
            "last_name": "王",
            "phone": "13812345678",
            "lat": "",  # blank: absent
        }
    )
    root = parsed_xml(submit(client, body, "/open311/v2/requests.xml"))
    assert root.tag == "service_requests" and [field.tag for field in root[0]] == [
        "service_request_id",
        "service_notice",
        "account_id",
    ]
    [complaint] = intake.published
    assert complaint.ticket_id == root[0][0].text
    assert complaint.description == "物业"  # none given: the service's name
    assert complaint.location is not None and complaint.requester is not None
    assert (complaint.location.address, complaint.location.lat) == ("朝阳区望京街道花家地北里3号楼", None)
    assert (complaint.requester.name, complaint.requester.phone) == ("王小明", "13812345678")


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ("service_code=0101&address_string=x", "api_key required: the token of an intake system"),
        ("api_key=xyz&service_code=0101&address_string=x", "invalid api_key: unknown or revoked"),
        ("api_key={li}&service_code=0101&address_string=x", "li is a worker and may not submit"),
    ],
)
def test_without_an_intake_systems_api_key_it_is_403(client, intake, tokens, body, description):
    assert refused(submit(client, body.format(li=tokens["li"])), 403) == description
    assert intake.published == []


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ("address_string=x", "service_code: Field required"),
        ("service_code=0101", "a location is required: lat and long, or address_string"),
        ("service_code=0101&lat=39.9", "lat and long go together"),
        ("service_code=0101&lat=91&long=116.4", "lat: Input should be less than or equal to 90"),
        ("service_code=0101&lat=north&long=116.4", "lat: Input should be a valid number"),
        ("service_code=001&address_string=x", "unknown service_code 001: see services.json"),
        ("service_code=0101&address_string=x&phone=" + "1" * 40, "phone: String should have at most 32"),
    ],
)
def test_a_missing_or_invalid_field_is_400(client, intake, tokens, body, description):
    response = submit(client, f"api_key={tokens['hotline']}&{body}")
    assert refused(response, 400).startswith(description)
    assert intake.published == []


def test_errors_in_xml_and_a_body_that_is_not_a_form(client, tokens):
    root = ET.fromstring(submit(client, "service_code=0101", "/open311/v2/requests.xml").content)
    assert (root.tag, [(e.tag, [f.tag for f in e]) for e in root]) == (
        "errors",
        [("error", ["code", "description"])],
    )
    assert root.findtext("error/code") == "403"
    as_json = client.post("/open311/v2/requests.json", json={"api_key": tokens["hotline"]})
    assert "application/x-www-form-urlencoded" in refused(as_json, 415)


def test_an_unreachable_intake_topic_is_503_in_the_specs_format(client, tokens):
    class Unreachable:
        def publish(self, complaint: object) -> None:
            raise IntakeUnavailableError(
                "the intake topic cannot be reached (KafkaTimeoutError); try again later"
            )

    client.app.state.intake = Unreachable()
    response = submit(client, SPEC_EXAMPLE.format(key=tokens["hotline"]))
    assert "try again later" in refused(response, 503)
    assert response.headers["retry-after"] == "5"


# ---- GET requests ------------------------------------------------------------------------------


def test_a_stored_case_is_open_then_closed_with_its_deadline_and_no_requester(client, system, clock):
    ticket = open_case(system, "BJ1", requester={"name": "王先生", "phone": "13800001111"})

    [request] = answered(client.get(f"/open311/v2/requests/{ticket}.json"))
    assert list(request) == REQUEST_FIELDS
    assert request == {
        "service_request_id": "BJ1",
        "status": "open",
        "status_notes": "已派单，待承办单位签收",
        "service_name": "供热质量",
        "service_code": "0101",
        "description": "家里暖气不热，室温只有十五度，请尽快派人检修。",
        "agency_responsible": "热力集团",
        "service_notice": "承办单位应于 2026-11-27 10:00 前答复",
        "requested_datetime": "2026-11-26T09:30:00+08:00",
        "updated_datetime": "2026-11-26T10:00:00+08:00",
        "expected_datetime": "2026-11-27T10:00:00+08:00",  # urgent: 24 hours after the dispatch
        "address": "朝阳区望京街道花家地北里社区",
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }

    close_case(system, clock, ticket)
    [closed] = answered(client.get(f"/open311/v2/requests/{ticket}.json"))
    assert (closed["status"], closed["status_notes"], closed["service_notice"]) == ("closed", "已结案", None)
    assert closed["updated_datetime"] == "2026-11-27T16:00:00+08:00"  # the callback, 30 hours later
    assert closed["expected_datetime"] == "2026-11-27T10:00:00+08:00"
    for path in (f"/open311/v2/requests/{ticket}.json", f"/open311/v2/requests/{ticket}.xml"):
        text = client.get(path).text
        assert "王先生" not in text and "13800001111" not in text


def test_the_requesters_name_and_numbers_in_the_text_are_masked_and_a_confidential_request_hidden(
    client, system
):
    said = "我是王建国，电话13800001111，家里座机010-65123456，暖气不热。"
    open_case(system, "BJ1", description=said, requester={"name": "王建国", "phone": "13800001111"})
    secret = {"name": "李四", "phone": "13900002222", "confidential": True}
    location = {"district": "朝阳区", "street": "望京街道", "address": "花家地北里3号楼502", "lat": 39.99}
    open_case(system, "BJ2", requester=secret, location=location, attachments=["http://example.com/a.jpg"])

    plain, hidden = answered(
        client.get("/open311/v2/requests.json", params={"service_request_id": "BJ1,BJ2"})
    )
    # a landline keeps only its last two digits: with the area code, 7 of 11 would say who called
    assert plain["description"] == "我是王**，电话138****1111，家里座机*********56，暖气不热。"
    assert (hidden["service_request_id"], hidden["description"], hidden["address"]) == (
        "BJ2",
        None,
        "朝阳区望京街道",
    )
    assert (hidden["lat"], hidden["media_url"], hidden["status"]) == (None, None, "open")


def test_requests_are_found_by_id_code_status_and_window_newest_first(client, system, clock):
    open_case(system, "BJ1", received_at="2026-11-26T09:30:00+08:00")
    open_case(system, "BJ2", received_at="2026-11-26T09:40:00+08:00", category="02")
    open_case(system, "OLD", received_at="2026-06-01T09:00:00+08:00")
    close_case(system, clock, "BJ1")

    def ids(**params: str) -> list[str]:
        found = answered(client.get("/open311/v2/requests.json", params=params))
        return [request["service_request_id"] for request in found]

    assert ids() == ["BJ2", "BJ1"]  # the last 90 days
    assert ids(status="open") == ["BJ2"] and ids(status="closed") == ["BJ1"]
    assert ids(status="open,closed", jurisdiction_id="beijing") == ["BJ2", "BJ1"]
    assert ids(service_code="0101") == ["BJ1"] and ids(service_code="02,0101") == ["BJ2", "BJ1"]
    assert ids(start_date="2026-05-15T00:00:00+08:00") == ["OLD"]  # and the next 90 days
    assert ids(start_date="2026-11-26T09:35:00+08:00", end_date="2026-11-27") == ["BJ2"]
    assert ids(end_date="2026-11-26T01:35:00Z") == ["BJ1"]
    assert ids(service_request_id="OLD,NOPE,BJ1", status="open") == ["BJ1", "OLD"]  # the others ignored
    root = parsed_xml(client.get("/open311/v2/requests.xml"))
    assert root.tag == "service_requests" and [
        request.findtext("service_request_id") for request in root
    ] == [
        "BJ2",
        "BJ1",
    ]
    assert [field.tag for field in root[0]] == REQUEST_FIELDS


def test_a_repeat_request_linked_to_an_open_case_is_closed_and_names_it(client, system):
    caller = {"name": "王先生", "phone": "13800001111"}
    first = open_case(system, "BJ1", requester=caller)
    repeat = open_case(system, "BJ2", requester=caller, description="暖气还是不热，第二次反映。")

    [linked] = answered(client.get(f"/open311/v2/requests/{repeat}.json"))
    assert (linked["status"], linked["status_notes"]) == ("closed", f"重复诉求，已并入工单 {first} 办理")
    [still_open] = answered(client.get(f"/open311/v2/requests/{first}.json"))
    assert still_open["status"] == "open"


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"start_date": "yesterday"}, "start_date: not an ISO 8601 date-time: yesterday"),
        ({"start_date": "2026-01-01", "end_date": "2026-11-01"}, "start_date to end_date may not span more"),
        ({"start_date": "2026-11-02", "end_date": "2026-11-01"}, "end_date is before start_date"),
        ({"status": "pending"}, "status: open or closed, not pending"),
    ],
)
def test_a_filter_that_cannot_be_read_is_400(client, params, description):
    assert refused(client.get("/open311/v2/requests.json", params=params), 400).startswith(description)


def test_a_request_not_stored_yet_is_404(client, intake, tokens):
    [created] = answered(submit(client, SPEC_EXAMPLE.format(key=tokens["hotline"])))
    ticket = created["service_request_id"]
    assert refused(client.get(f"/open311/v2/requests/{ticket}.json"), 404) == (
        f"no request with service_request_id {ticket}"
    )
    root = ET.fromstring(client.get(f"/open311/v2/requests/{ticket}.xml").content)
    assert (root.tag, root.findtext("error/code")) == ("errors", "404")
