"""What the web API takes, and what it answers to an action or an error: pydantic models, separate from
the event contract and the domain.

Requests are validated here (a bad body is a 422 before any command is built); what the API reads (cases,
lists, escalations, scores...) are the read models of `dispatcher.reads.views`. Times are RFC 3339 with
their offset. Who acts is never in a body: it is the person or system the bearer token authenticates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dispatcher.contract.events import Channel, Kind
from dispatcher.contract.events import Urgency as UrgencyName
from dispatcher.domain.case import CaseState, ReturnReason

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Words = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Note = Annotated[str, StringConstraints(max_length=500)]
LongWords = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
CategoryCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}([0-9]{2}){0,2}$")]


# The moments and months the API takes: wide enough for any case, narrow enough that a day, a month or a
# 90-day window either side, in any timezone, stays inside what datetime and the databases can hold.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
RANGE = "between 1900-01-01 and 2999-12-31 (UTC)"


def in_range(moment: datetime) -> datetime:
    """`moment` (aware) if it is within the range the API takes, else ValueError saying the range."""
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"must be {RANGE}, not {moment.isoformat()}")
    return moment


# A moment in a request: RFC 3339 with its offset, 1900 to 2999.
Moment = Annotated[AwareDatetime, AfterValidator(in_range)]
NUL = "text must not contain the NUL character (U+0000)"
# Ids are 64-bit signed integers in every table.
BIGGEST_ID = 2**63 - 1


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """No text may hold a NUL character: PostgreSQL cannot store one, and no field means one."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(NUL)
        return value


# ---- requests ----------------------------------------------------------------------------------


class LoginBody(Body):
    username: Name
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class AcknowledgeBody(Body):
    """签收 (acknowledge): nothing to say but who signs, and that is the caller. The body may be omitted."""


class ContactBody(Body):
    note: Note | None = Field(None, description="what was said or agreed with the requester")


class ReturnBody(Body):
    """退单: why the unit returns the case."""

    code: ReturnReason = Field(description="not_our_duty, wrong_area, duplicate or other")
    reason: Words = Field(description="the reason in words, for the arbitrating supervisor")


class ExtensionBody(Body):
    """延期: the deadline the unit proposes and why."""

    until: Moment = Field(description="proposed reply deadline, RFC 3339 with offset")
    reason: Words


class ResolveBody(Body):
    """办结: the result as reported to the requester."""

    result: LongWords
    without_reports_reason: Note | None = Field(
        None, description="why to resolve before every co-handling unit has reported to the lead"
    )


class ReportBody(Body):
    """A co-handling unit's report to the lead unit."""

    report: LongWords


class WhistleCallBody(Body):
    unit: Name = Field(description="the unit called in (a catalog unit id)")
    ask: LongWords = Field(description="what the lead asks of it")


class WhistleBody(Body):
    """吹哨报到: the units called in on the case, each with what it is asked."""

    calls: list[WhistleCallBody] = Field(min_length=1, max_length=20)


class WaiveBody(Body):
    """Why the lead may resolve without this co-handling unit's report."""

    reason: Words


class ArbitrationBody(Body):
    decision: Literal["redispatch", "reject"] = Field(
        description="redispatch: the return is upheld; reject: the case goes back to the unit"
    )
    unit: Name | None = Field(None, description="redispatch to this unit; default: the rules' proposal")
    post: Name | None = Field(None, description="the unit's post; default: its usual post")
    reason: Note | None = None


class ExtensionDecisionBody(Body):
    approve: bool
    until: Moment | None = Field(None, description="approved deadline; default: the one proposed")
    reason: Note | None = None


class DispatchBody(Body):
    """Manual dispatch of a queued case (人工派单)."""

    unit: Name
    post: Name | None = Field(None, description="default: the unit's usual post")
    category: CategoryCode | None = Field(None, description="set or correct the category while dispatching")
    reason: Note | None = None


# ---- responses ---------------------------------------------------------------------------------


class LoggedIn(BaseModel):
    token: str = Field(description="send it as `Authorization: Bearer <token>`; shown once")
    username: str
    role: str


class Accepted(BaseModel):
    ticket_id: str
    status: Literal["accepted"] = "accepted"


class ErrorBody(BaseModel):
    error: str = Field(
        description="unauthenticated, forbidden, not_found, transition, conflict, invalid, validation, "
        "too_large (a body over the limit), unavailable, or another HTTP status's name (bad_request...)"
    )
    detail: str = Field(description="what went wrong, for a person")


class ConflictBody(ErrorBody):
    """`transition`: the state does not allow the action (state and allowed_actions say what does);
    `conflict`: another action changed the case first: reload it and try again."""

    state: CaseState | None = Field(None, description="with `transition`: the case's state")
    allowed_actions: list[str] | None = Field(None, description="with `transition`: what is allowed now")


class ValidationErrorBody(ErrorBody):
    """`validation`: the request does not fit the schema (`errors` says where and why); `invalid`: the
    action's data is refused by the case model (`detail` says why)."""

    errors: list[dict[str, Any]] | None = Field(
        None,
        description="with `validation`, each error: where (`loc`), why (`msg`, `type`, `ctx`) and the "
        "value sent (`input`: never for secret fields, cut when long)",
    )


# ---- the closed loop and the assessment ---------------------------------------------------------


def _month(value: Any, handler: ValidatorFunctionWrapHandler) -> str:
    try:
        month: str = handler(value)
    except ValidationError:
        raise PydanticCustomError("month", "a month is YYYY-MM, from 1900-01 to 2999-12") from None
    return month


Month = Annotated[
    str, StringConstraints(pattern=r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"), WrapValidator(_month)
]


class ReasonBody(Body):
    reason: Words = Field(description="why, in words (kept in the audit trail)")


class AppealBody(Body):
    """申诉: why the callback should not count against the unit."""

    reason: Words


class AppealDecisionBody(Body):
    accept: bool = Field(description="true: the callback leaves the unit's base; false: it stays")
    reason: Words


# ---- the operator's intake page -----------------------------------------------------------------

PlaceName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def _without_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError(NUL)
    return text


Group = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), AfterValidator(_without_nul)
]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=32, pattern=r"^\+?[0-9][0-9 ()-]*$"),
]


class RequestFacts(Body):
    """What the operator has typed so far of a request, as routing reads it; an empty text is left out."""

    description: LongWords | None = None
    district: PlaceName | None = Field(None, description="a name (朝阳区), alias or code")
    street: PlaceName | None = Field(None, description="a street or township: name, alias or code")
    community: PlaceName | None = None
    address: PlaceName | None = None
    kind: Kind = "complaint"
    channel: Channel = "phone"
    urgency: UrgencyName | None = Field(None, description="default: the category's")
    groups: list[Group] = Field(
        default_factory=list, max_length=10, description="the requester's groups: elderly, disabled..."
    )
    category: CategoryCode | None = Field(None, description="the operator's choice; none: classified")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                key: value
                for key, value in data.items()
                if not (isinstance(value, str) and not value.strip())
            }
        return data


class PreviewBody(RequestFacts):
    """A request as typed, to see where it would go."""

    description: LongWords


class CallerBody(RequestFacts):
    """A caller's phone, with what is typed of the new request (to find the case it would repeat)."""

    phone: Phone = Field(description="the caller's number; spaces and hyphens are ignored")


class PauseBody(Body):
    """挂起: what the unit waits for, and when it expects to resume if it knows."""

    reason_code: Literal["requester", "third_party", "court", "season"] = Field(
        description="requester, third_party, court (or a ruling), season"
    )
    reason: Words
    resume_at: Moment | None = Field(None, description="the expected resume date, RFC 3339 with offset")


class PauseApprovalBody(Body):
    resume_at: Moment | None = Field(
        None, description="the case resumes by itself then; default: the date the unit asked, if any"
    )
    reason: Note | None = None


class PauseRejectionBody(Body):
    reason: Note | None = None


class ResumeBody(Body):
    """The body may be omitted."""

    note: Note | None = Field(None, description="what came (the requester's answer, the ruling...)")
