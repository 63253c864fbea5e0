"""Open311 GeoReport v2 under `/open311/v2/`, for other cities' systems and citizen apps.

Services are the categories of the dispatch catalog in force (one jurisdiction: `jurisdiction_id` is
accepted and ignored). `POST requests` takes the spec's form-encoded fields with an `api_key`: a token of
an intake system (`jiesu users token`), checked as bearer tokens are; the request goes to the intake topic
like any other and is dispatched asynchronously, so it is found by `GET requests` once stored. `GET` is
public, as in the spec: it shows no requester, masks numbers and the requester's name in the text, and
hides a confidential (保密) request's text, exact address and media. Every answer is JSON or XML by the
path's suffix; every error is the spec's list of `{code, description}`.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dispatcher.adapters.catalog import ReloadingRouter
from dispatcher.bootstrap import System
from dispatcher.contract.events import ComplaintReceived, Location, Requester
from dispatcher.domain.access import Action, Principal, check_role
from dispatcher.domain.case import CaseState
from dispatcher.domain.privacy import redact
from dispatcher.reads import open311 as stored
from dispatcher.reads.open311 import MAX_REQUESTS, StoredRequest
from jiesu.web.auth import people_of
from jiesu.web.common import Intake, Route, SystemDep, current_intake
from jiesu.web.schemas import in_range
from rules.catalog import Catalog, Category
from rules.router import CatalogRouter
from sla.calendar import BEIJING

log = logging.getLogger("jiesu.access")
intake_log = logging.getLogger("jiesu.open311")
TICKET_PREFIX = "O311-"
WINDOW = timedelta(days=90)
STATUS_NOTES = {
    CaseState.QUEUED: "已受理，待中心派单",
    CaseState.DISPATCHED: "已派单，待承办单位签收",
    CaseState.ACKNOWLEDGED: "承办单位已签收，正在办理",
    CaseState.CONTACTED: "承办单位已联系诉求人，正在办理",
    CaseState.RETURNED: "承办单位申请退单，中心审核中",
    CaseState.RESOLVED: "已办结，待回访",
    CaseState.CLOSED: "已结案",
    CaseState.LINKED: "重复诉求，已并入工单 {linked_to} 办理",
    CaseState.MERGED: "同一事项已并案，随主工单一并办理",
}
# A phone or ID number in free text: a mobile (spaces allowed), a landline with its area code, or any run
# of seven or more digits.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Where a refusal of the contract's validation comes from, in the form's names.
FORM_FIELDS = {
    "description": "description",
    "location.address": "address_string",
    "location.lat": "lat",
    "location.lon": "long",
    "requester.name": "first_name/last_name",
    "requester.phone": "phone",
    "attachments.0": "media_url",
}
Format = Literal["json", "xml"]


class Open311Error(Exception):
    """A refusal in the spec's terms: an HTTP status and a description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


# ---- the spec's shapes -------------------------------------------------------------------------


class Service(BaseModel):
    """A service: one category of the catalog, leaf or inner."""

    service_code: str = Field(description="the category's code (2, 4 or 6 digits)")
    service_name: str
    description: str = Field(description="the category's path in the tree, top first")
    metadata: bool = Field(description="always false: no attributes to fill in")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str = Field(description="the category's keywords, comma separated")
    group: str = Field(description="the top-level category's name")


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[dict[str, Any]] = Field(description="always empty")


class RequestForm(BaseModel):
    """The fields of `POST requests`, form-encoded; blank ones count as absent."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    api_key: str | None = Field(None, description="a token of an intake system")
    jurisdiction_id: str | None = Field(None, description="ignored: one jurisdiction")
    service_code: str = Field(description="a service code from `services`")
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False, description="WGS84")
    long: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False, description="WGS84")
    address_string: str | None = Field(None, description="required unless lat and long are given")
    address_id: str | None = Field(None, description="ignored")
    email: str | None = Field(None, description="ignored: not kept")
    device_id: str | None = Field(None, description="ignored")
    account_id: str | None = Field(None, description="ignored")
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    description: str | None = Field(None, description="up to 4000 characters; default: the service name")
    media_url: str | None = None


class CreatedRequest(BaseModel):
    service_request_id: str = Field(description="the ticket id: O311- and 12 hex digits")
    service_notice: str
    account_id: str | None


class ServiceRequest(BaseModel):
    """A case as the public sees it."""

    service_request_id: str
    status: Literal["open", "closed"] = Field(description="closed: closed, or linked to another case")
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str | None = Field(description="masked; null for a confidential request")
    agency_responsible: str | None = Field(description="the assigned unit's name (its id if unknown)")
    service_notice: str | None
    requested_datetime: str = Field(description="when the hotline received it, +08:00")
    updated_datetime: str | None = Field(description="the latest change, +08:00")
    expected_datetime: str | None = Field(description="the reply deadline, +08:00")
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311ErrorBody(BaseModel):
    code: int
    description: str


def errors(description: str) -> dict[str, Any]:
    """An error response for the docs: the spec's list of `{code, description}`."""
    return {"model": list[Open311ErrorBody], "description": description}


# ---- answers, JSON or XML ----------------------------------------------------------------------


def format_of(request: Request) -> Format:
    return "xml" if request.url.path.endswith(".xml") else "json"


def answer(request: Request, root: str, item: str, data: Any, status_code: int = 200) -> Response:
    """`data` (a model, or a list of them under `root`/`item` in XML) in the format the path asks for."""
    if isinstance(data, BaseModel):
        body: Any = data.model_dump(mode="json")
    else:
        body = [element.model_dump(mode="json") for element in data]
    if format_of(request) == "json":
        return JSONResponse(body, status_code)
    element = ET.Element(root)
    if isinstance(body, dict):
        _fill(element, body)
    else:
        for value in body:
            _fill(ET.SubElement(element, item), value)
    document = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode")
    return Response(document.encode(), status_code, media_type="text/xml")


def _fill(element: ET.Element, fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        child = ET.SubElement(element, name)
        if isinstance(value, list):
            for entry in value:
                _fill(ET.SubElement(child, name.removesuffix("s")), entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = NOT_IN_XML.sub("", str(value))


def error_answer(request: Request, code: int, description: str) -> Response:
    return answer(request, "errors", "error", [Open311ErrorBody(code=code, description=description)], code)


class Open311Route(APIRoute):
    """Answers every error of its route in the spec's format: its own refusals, and what the app's handlers
    make of the others (status and headers kept, the detail as the description)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_open311(request: Request) -> Response:
            try:
                return await handle(request)
            except Open311Error as error:
                return error_answer(request, error.code, error.description)
            except Exception as error:
                reshaped = await _app_error(request, error)
                if reshaped is None:
                    raise
                return reshaped

        return handle_open311


async def _app_error(request: Request, error: Exception) -> Response | None:
    handlers: dict[Any, Any] = request.app.exception_handlers
    handler = next((handlers[kind] for kind in type(error).__mro__ if kind in handlers), None)
    if handler is None:
        return None
    response = handler(request, error)
    if inspect.isawaitable(response):
        response = await response
    assert isinstance(response, Response)
    try:
        detail = json.loads(bytes(response.body)).get("detail")
    except (ValueError, AttributeError):
        detail = None
    code = 400 if response.status_code == 422 else response.status_code
    reshaped = error_answer(request, code, str(detail or HTTPStatus(code).phrase))
    for name in ("retry-after", "www-authenticate"):
        if name in response.headers:
            reshaped.headers[name] = response.headers[name]
    return reshaped


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)
JurisdictionQuery = Annotated[str | None, Query(description="ignored: one jurisdiction")]


def both_formats(method: str, path: str, summary: str, **options: Any) -> Callable[[Route], Route]:
    """The route at `path.json` and at `path.xml`, which answers the same in XML."""

    def register(route: Route) -> Route:
        router.api_route(f"{path}.json", methods=[method], summary=summary, **options)(route)
        router.api_route(f"{path}.xml", methods=[method], summary=f"{summary} (XML)", **options)(route)
        return route

    return register


# ---- the catalog -------------------------------------------------------------------------------


def catalog_in_force(system: System) -> Catalog | None:
    """The dispatch catalog the system routes with now (reloaded if its files changed); None without one."""
    router = system.router
    if isinstance(router, ReloadingRouter):
        return router.catalog()
    if isinstance(router, CatalogRouter):
        return router.catalog
    return None


def categories(system: System) -> dict[str, Category]:
    catalog = catalog_in_force(system)
    return catalog.categories if catalog else {}


def service_of(category: Category, tree: Mapping[str, Category]) -> Service:
    above = (tree.get(category.code[:end]) for end in range(2, len(category.code), 2))
    path = [found.name for found in above if found] + [category.name]
    return Service(
        service_code=category.code,
        service_name=category.name,
        description=" / ".join(path),
        metadata=False,
        type="realtime",
        keywords=",".join(category.keywords),
        group=path[0],
    )


# ---- services ----------------------------------------------------------------------------------


@both_formats("GET", "/services", "The services: the catalog's categories", response_model=list[Service])
def get_services(request: Request, system: SystemDep, jurisdiction_id: JurisdictionQuery = None) -> Response:
    """Every category of the catalog in force, leaf or inner, by code; `group` is the top-level one."""
    tree = categories(system)
    services = [service_of(tree[code], tree) for code in sorted(tree)]
    return answer(request, "services", "service", services)


@both_formats(
    "GET",
    "/services/{service_code}",
    "A service's definition",
    response_model=ServiceDefinition,
    responses={404: errors("No such service.")},
)
def get_service_definition(
    service_code: str, request: Request, system: SystemDep, jurisdiction_id: JurisdictionQuery = None
) -> Response:
    """No service has attributes: the definition is the code and an empty list."""
    if service_code not in categories(system):
        raise Open311Error(404, f"no service with service_code {service_code}")
    return answer(
        request, "service_definition", "", ServiceDefinition(service_code=service_code, attributes=[])
    )


# ---- POST requests -----------------------------------------------------------------------------


async def form_fields(request: Request) -> dict[str, str]:
    """The form-encoded body, without blank fields."""
    kind = request.headers.get("content-type", "application/x-www-form-urlencoded").split(";")[0].strip()
    if kind.lower() != "application/x-www-form-urlencoded":
        raise Open311Error(415, f"send the fields as application/x-www-form-urlencoded, not {kind}")
    try:
        pairs = parse_qsl(
            (await request.body()).decode("utf-8"), keep_blank_values=True, strict_parsing=False
        )
    except UnicodeDecodeError:
        raise Open311Error(400, "the body is not UTF-8") from None
    return {name: value for name, value in pairs if value.strip()}


FormDep = Annotated[dict[str, str], Depends(form_fields)]


def submitter(request: Request, api_key: str | None) -> Principal:
    """The intake system (or admin) whose token `api_key` is; 403 otherwise."""
    where = f"POST {request.url.path} from {request.client.host if request.client else '?'}"
    if not api_key:
        log.warning("unauthenticated: %s without an api_key", where)
        raise Open311Error(403, "api_key required: the token of an intake system")
    principal = people_of(request).principal_for_token(api_key)
    if principal is None:
        log.warning("unauthenticated: %s with an unknown or revoked api_key", where)
        raise Open311Error(403, "invalid api_key: unknown or revoked")
    denied = check_role(principal, Action.SUBMIT)
    if denied is not None:
        log.warning("denied: %s (%s) may not submit on %s", principal.username, principal.role, where)
        raise Open311Error(403, denied.reason)
    return principal


def requester_name(first: str | None, last: str | None) -> str | None:
    """john + smith -> "john smith"; 小明 + 王 -> "王小明" (the family name first, no space)."""
    parts = [part for part in (first, last) if part]
    if not parts:
        return None
    if all(part.isascii() for part in parts):
        return " ".join(parts)
    return "".join(part for part in (last, first) if part)


def complaint_from(
    form: RequestForm, tree: Mapping[str, Category], received_at: datetime
) -> ComplaintReceived:
    """The request as the contract's `ComplaintReceived`, with a new ticket id; 400 if it cannot be one."""
    category = tree.get(form.service_code)
    if category is None:
        raise Open311Error(400, f"unknown service_code {form.service_code}: see services.json")
    if (form.lat is None) != (form.long is None):
        raise Open311Error(400, "lat and long go together")
    if form.lat is None and not form.address_string:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    name = requester_name(form.first_name, form.last_name)
    try:
        return ComplaintReceived(
            ticket_id=f"{TICKET_PREFIX}{uuid.uuid4().hex[:12].upper()}",
            received_at=received_at.astimezone(BEIJING),
            channel="open311",
            kind="complaint",
            description=form.description or category.name,
            category=category.code,
            location=Location(address=form.address_string, lat=form.lat, lon=form.long),
            requester=Requester(name=name, phone=form.phone) if name or form.phone else None,
            attachments=[form.media_url] if form.media_url else [],
        )
    except ValidationError as error:
        raise Open311Error(400, _problems(error)) from None


def _problems(error: ValidationError) -> str:
    """The contract's or the form's refusals, one per field, in the form's names."""
    found = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        found.append(f"{FORM_FIELDS.get(field, field)}: {problem['msg']}")
    return "; ".join(found)


SUBMIT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: errors("A required field is missing or invalid, or the service_code is unknown."),
    403: errors("No api_key, an unknown or revoked one, or not an intake system's."),
    415: errors("The body is not application/x-www-form-urlencoded."),
    503: errors("The intake topic cannot be reached now; try again."),
}
FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": RequestForm.model_json_schema()}},
    }
}


@both_formats(
    "POST",
    "/requests",
    "Submit a request (受理) with an intake system's api_key",
    response_model=list[CreatedRequest],
    responses=SUBMIT_ERRORS,
    openapi_extra=FORM_BODY,
)
def post_request(
    request: Request,
    system: SystemDep,
    intake: Annotated[Intake, Depends(current_intake)],
    fields: FormDep,
) -> Response:
    """Publishes the request to the intake topic as channel `open311`, kind `complaint`, the service code
    as its category, and answers its ticket id once the broker has it. The case is opened and dispatched
    asynchronously: `GET requests/{id}` finds it shortly after. `email`, `device_id` and `account_id` are
    not kept."""
    principal = submitter(request, fields.get("api_key"))
    try:
        form = RequestForm.model_validate(fields)
    except ValidationError as error:
        raise Open311Error(400, _problems(error)) from None
    complaint = complaint_from(form, categories(system), system.clock())
    intake.publish(complaint)
    intake_log.info("%s submitted %s", principal.username, complaint.ticket_id)
    notice = f"已受理，工单号 {complaint.ticket_id}；派单后可凭工单号查询办理进度。"
    created = CreatedRequest(service_request_id=complaint.ticket_id, service_notice=notice, account_id=None)
    return answer(request, "service_requests", "request", [created])


# ---- GET requests ------------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds") if moment else None


def masked_text(text: str, requester_name: str | None) -> str:
    """`text` with every phone-like number masked, and the requester's name."""
    return redact(text, requester_name)


# where a public address stops: the first number of a building, entrance, floor, flat (3号楼2单元501)
FLAT = re.compile(r"[0-9０-９一二三四五六七八九十百甲乙丙-]+(?:号楼|号院|栋|幢|单元|层|楼|室|号|门)")


def public_address(address: str) -> str:
    """A stored address without the flat: the road or compound people can find, not the door."""
    found = FLAT.search(address)
    return (address[: found.start()] if found else address).rstrip(" ,，") or address[:0]


def public_view(found: StoredRequest, catalog: Catalog | None) -> ServiceRequest:
    """A stored case in the spec's fields: nothing of the requester, nothing exact if confidential."""
    state, location, confidential = found.state, found.location, found.confidential
    places = [location.district, location.street, location.community]
    if confidential:
        address = "".join(place for place in places[:2] if place) or None
    else:
        exact = location.address
        address = (public_address(exact) if exact else "") or "".join(p for p in places if p) or None
    category = catalog.categories.get(found.category) if catalog and found.category else None
    unit = catalog.units.get(found.unit) if catalog and found.unit else None
    is_open = not found.closed
    due = found.reply_due
    attachments = found.attachments
    return ServiceRequest(
        service_request_id=found.ticket_id,
        status="open" if is_open else "closed",
        status_notes=STATUS_NOTES.get(state, state.value).format(linked_to=found.linked_to),
        service_name=category.name if category else None,
        service_code=found.category,
        description=None if confidential else masked_text(found.description, found.requester_name),
        agency_responsible=unit.name if unit else found.unit,
        service_notice=f"承办单位应于 {due.astimezone(BEIJING):%Y-%m-%d %H:%M} 前答复"
        if due and is_open and state is not CaseState.MERGED  # 并案: its main case's deadline governs
        else None,
        requested_datetime=iso(found.received_at) or "",
        updated_datetime=iso(found.updated_at),
        expected_datetime=iso(due),
        address=address,
        address_id=None,
        zipcode=None,
        lat=None if confidential else location.lat,
        long=None if confidential else location.lon,
        media_url=None if confidential or not attachments else attachments[0],
    )


def listed(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def moment_of(name: str, value: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset, Beijing time. A `+` sent unencoded reads as a
    space: taken back. 400 if it cannot be read or is out of the API's range (`schemas.in_range`)."""
    text = re.sub(r" (\d\d:?\d\d)$", r"+\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name}: not an ISO 8601 date-time: {value[:64]}") from None
    try:
        return in_range(moment if moment.tzinfo else moment.replace(tzinfo=BEIJING))
    except ValueError as error:
        raise Open311Error(400, f"{name}: {error}") from None


def window(start_date: str | None, end_date: str | None, now: datetime) -> tuple[datetime, datetime]:
    """[start, end] of requested_datetime: the last 90 days by default, 90 days at most."""
    start = moment_of("start_date", start_date) if start_date else None
    end = moment_of("end_date", end_date) if end_date else None
    if start is None:
        end = end or now
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date to end_date may not span more than 90 days")
    return start, end


@both_formats(
    "GET",
    "/requests",
    "Requests, newest first: their public status",
    response_model=list[ServiceRequest],
    responses={400: errors("A date or a status that cannot be read.")},
)
def get_requests(
    request: Request,
    system: SystemDep,
    service_request_id: Annotated[
        str | None,
        Query(description="ticket ids, comma separated; when given, the other filters are ignored"),
    ] = None,
    service_code: Annotated[str | None, Query(description="service codes, comma separated")] = None,
    start_date: Annotated[str | None, Query(description="ISO 8601; default: 90 days before end_date")] = None,
    end_date: Annotated[
        str | None, Query(description="ISO 8601; default: now, or start_date + 90 days")
    ] = None,
    status: Annotated[str | None, Query(description="open, closed, or both comma separated")] = None,
    jurisdiction_id: JurisdictionQuery = None,
) -> Response:
    """Requests received in a window of at most 90 days (default: the last 90), at most 1000. Public: no
    api_key."""
    ids = listed(service_request_id)
    if len(ids) > MAX_REQUESTS:
        raise Open311Error(400, f"service_request_id: at most {MAX_REQUESTS} ids")
    if ids:
        found = stored.by_ids(system.engine, ids)
    else:
        start, end = window(start_date, end_date, system.clock())
        statuses = set(listed(status))
        if statuses - {"open", "closed"}:
            raise Open311Error(400, f"status: open or closed, not {status}")
        either = None if len(statuses) != 1 else next(iter(statuses))
        found = stored.requests(
            system.engine, start=start, end=end, service_codes=listed(service_code), status=either
        )
    catalog = catalog_in_force(system)
    views = [public_view(row, catalog) for row in found]
    return answer(request, "service_requests", "request", views)


@both_formats(
    "GET",
    "/requests/{service_request_id}",
    "One request: its public status",
    response_model=list[ServiceRequest],
    responses={404: errors("No such request, or not stored yet.")},
)
def get_request(
    service_request_id: str, request: Request, system: SystemDep, jurisdiction_id: JurisdictionQuery = None
) -> Response:
    """A list of one, as the spec has it. A request just submitted is found once the intake has stored it;
    until then, 404."""
    found = stored.by_ids(system.engine, [service_request_id])
    if not found:
        raise Open311Error(404, f"no request with service_request_id {service_request_id}")
    return answer(request, "service_requests", "request", [public_view(found[0], catalog_in_force(system))])
