"""The knowledge base (知识库) pages: its list, search and entries for those who may read it (operators,
supervisors, admins), add, edit and retire for admins; the intake page's 知识库 panel (its search, a POST
so that what the caller said stays out of URLs) and 直接办结 (a consultation answered from an entry, filed
through the intake topic like any request, marked with the answer: the worker opens the case closed)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from dispatcher.adapters.knowledge import KnowledgeStore, new_entry_id
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain.access import Action, Principal, check_role
from dispatcher.domain.knowledge import KnowledgeError
from dispatcher.reads import knowledge
from jiesu.web.common import current_intake
from jiesu.web.intake_api import normalized_phone
from jiesu.web.knowledge import KnowledgeBody
from jiesu.web.pages.base import Me, SystemDep, back, forbidden, page, words_of
from jiesu.web.session import check_csrf

router = APIRouter(include_in_schema=False)
SUGGESTED = 5  # matches the intake panel shows
CATEGORY = re.compile(r"^[0-9]{2}([0-9]{2}){0,2}$")
KEYWORD_SEPARATORS = re.compile(r"[,，、;；\s]+")
PLACE = ("district", "street", "community", "address")  # the intake form's place, as the contract names it
ENTRY_FIELDS = ("id", "question", "answer", "category", "keywords", "source", "valid_from", "valid_to")


async def _form(request: Request) -> dict[str, str]:
    form = {key: str(value).strip() for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    return form


def _said(error: ValidationError) -> str:
    """What is wrong, where, without what was typed."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in error.errors()[:3])


# ---- the list, the search, one entry ----------------------------------------------------------------


@router.get("/knowledge")
def knowledge_list(
    request: Request, me: Me, system: SystemDep, category: str = "", retired: str = ""
) -> Response:
    if check_role(me, Action.KNOWLEDGE) is not None:
        return forbidden(request, me, "")
    now = system.clock()
    listed = knowledge.listing(system.engine, now=now, category=category or None, retired=bool(retired))
    return _list_page(request, me, system, listed=listed, category=category, retired=bool(retired))


@router.post("/knowledge/search")
async def knowledge_search(request: Request, me: Me, system: SystemDep) -> Response:
    """The list page's search: a POST, so that a question typed as a caller put it is in no URL."""
    form = await _form(request)
    if check_role(me, Action.KNOWLEDGE) is not None:
        return forbidden(request, me, "")
    q, category = form.get("q", "")[:4000], form.get("category", "")[:64]
    every = bool(form.get("retired"))
    found = knowledge.search(
        system.engine, q, now=system.clock(), category=category or None, every=every, limit=50
    )
    return _list_page(request, me, system, listed=found, q=q, category=category, retired=every)


def _list_page(request: Request, me: Principal, system: Any, **context: Any) -> HTMLResponse:
    return page(
        request,
        "knowledge.html",
        me,
        categories=knowledge.categories(system.engine),
        editor=check_role(me, Action.KNOWLEDGE_EDIT) is None,
        **{"q": "", **context},
    )


@router.get("/knowledge/new")
def new_entry(request: Request, me: Me) -> Response:
    if check_role(me, Action.KNOWLEDGE_EDIT) is not None:
        return forbidden(request, me, "")
    return page(request, "knowledge_entry.html", me, entry=None, values={}, editor=True)


@router.post("/knowledge/new")
async def add_entry(request: Request, me: Me, system: SystemDep) -> Response:
    form = await _form(request)
    if check_role(me, Action.KNOWLEDGE_EDIT) is not None:
        return forbidden(request, me, "")
    return _save(request, me, system, form, None)


@router.post("/knowledge/suggest")
async def suggest(request: Request, me: Me, system: SystemDep) -> Response:
    """The intake page's 知识库 panel: the entries valid today that best answer what the operator typed
    (JSON). A POST with the form's CSRF token: the description is what the caller said."""
    form = await _form(request)
    if check_role(me, Action.KNOWLEDGE) is not None:
        return JSONResponse({"detail": "you may not search the knowledge base"}, status_code=403)
    q = form.get("q", "")[:4000]
    found = knowledge.search(system.engine, q, now=system.clock(), limit=SUGGESTED) if len(q) >= 2 else []
    return JSONResponse(
        {
            "matches": [
                {
                    "id": match.id,
                    "question": match.question,
                    "answer": match.answer,
                    "category": match.category,
                    "source": match.source,
                    "score": match.score,
                    "keywords": match.matched_keywords,
                }
                for match in found
            ]
        }
    )


@router.get("/knowledge/{entry_id}")
def entry_page(request: Request, entry_id: str, me: Me, system: SystemDep) -> Response:
    if check_role(me, Action.KNOWLEDGE) is not None:
        return forbidden(request, me, "")
    found = knowledge.entry(system.engine, entry_id, now=system.clock())
    if found is None:
        w = words_of(request)
        return page(request, "message.html", me, 404, title=w["knowledge_not_found"], detail=entry_id)
    editor = check_role(me, Action.KNOWLEDGE_EDIT) is None
    return page(request, "knowledge_entry.html", me, entry=found, values=_values(found), editor=editor)


@router.post("/knowledge/{entry_id}")
async def edit_entry(request: Request, entry_id: str, me: Me, system: SystemDep) -> Response:
    form = await _form(request)
    if check_role(me, Action.KNOWLEDGE_EDIT) is not None:
        return forbidden(request, me, "")
    return _save(request, me, system, form, entry_id)


@router.post("/knowledge/{entry_id}/retire")
async def retire_entry(request: Request, entry_id: str, me: Me, system: SystemDep) -> Response:
    await _form(request)
    if check_role(me, Action.KNOWLEDGE_EDIT) is not None:
        return forbidden(request, me, "")
    try:
        KnowledgeStore(system.engine, system.clock).retire(entry_id, me.username)
    except KnowledgeError as error:
        return back(f"/knowledge/{entry_id}", error=str(error))
    return back(f"/knowledge/{entry_id}", ok=words_of(request)["knowledge_retired"])


def _values(view: Any) -> dict[str, str]:
    """An entry as its form shows it."""
    return {
        "id": view.id,
        "question": view.question,
        "answer": view.answer,
        "category": view.category,
        "keywords": "、".join(view.keywords),
        "source": view.source,
        "valid_from": view.valid_from.isoformat() if view.valid_from else "",
        "valid_to": view.valid_to.isoformat() if view.valid_to else "",
    }


def _save(
    request: Request, me: Principal, system: Any, form: dict[str, str], entry_id: str | None
) -> Response:
    """Add (`entry_id` None) or edit an entry from its form; the form again (422) with what is wrong."""
    values = {key: form.get(key, "") for key in ENTRY_FIELDS}
    found = knowledge.entry(system.engine, entry_id, now=system.clock()) if entry_id else None
    if entry_id and found is None:
        return page(
            request, "message.html", me, 404, title=words_of(request)["knowledge_not_found"], detail=""
        )
    try:
        body = KnowledgeBody.model_validate(
            {
                "id": values["id"] or None,
                "question": values["question"],
                "answer": values["answer"],
                "category": values["category"],
                "keywords": [word for word in KEYWORD_SEPARATORS.split(values["keywords"]) if word],
                "source": values["source"],
                "valid_from": _day(values["valid_from"]),
                "valid_to": _day(values["valid_to"]),
            }
        )
        store = KnowledgeStore(system.engine, system.clock)
        if entry_id is None:
            saved = store.add(body.entry(body.id or new_entry_id()), me.username)
        else:
            saved = store.update(body.entry(entry_id), me.username)
    except (ValidationError, KnowledgeError, ValueError) as error:
        said = _said(error) if isinstance(error, ValidationError) else str(error)
        return page(
            request, "knowledge_entry.html", me, 422, entry=found, values=values, editor=True, error=said
        )
    return back(f"/knowledge/{saved.id}", ok=words_of(request)["saved"])


def _day(text: str) -> date | None:
    """A date field: empty is none; anything but YYYY-MM-DD a ValueError saying so."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:20]!r} is not a date (YYYY-MM-DD)") from None


# ---- 直接办结: a consultation answered at intake -----------------------------------------------------


@router.post("/intake/direct")
async def close_directly(request: Request, me: Me, system: SystemDep) -> Response:
    """The intake form, submitted with the 知识库 entry the operator answered from (直接办结): the request is
    filed on the intake topic like any other (same path, same exactly-once), marked with the answer; the
    worker opens the case closed (`jiesu.case.closed`, `how: direct`), never dispatched. Only a
    consultation, only an entry offered today. A refusal is shown in words: the browser's Back returns to
    the form as typed."""
    posted = await request.form()
    form = {key: str(value).strip() for key, value in posted.items()}
    check_csrf(request, form.get("csrf"))
    if check_role(me, Action.SUBMIT) is not None:
        return forbidden(request, me, "")
    w = words_of(request)
    kind = form.get("kind") or "consultation"
    entry = knowledge.offered(system.engine, form.get("knowledge_entry", ""), now=system.clock())
    if kind != "consultation":
        return _not_closed(request, me, w["only_consultation"])
    if entry is None:
        return _not_closed(request, me, w["knowledge_not_offered"])
    requester: dict[str, Any] = {
        "anonymous": bool(form.get("anonymous")),
        "confidential": bool(form.get("confidential")),
        "groups": [group for group in (str(value).strip() for value in posted.getlist("groups")) if group],
    }
    if form.get("name"):
        requester["name"] = form["name"]
    if form.get("phone"):  # as the intake form files it: repeats are found by it
        requester["phone"] = normalized_phone(form["phone"])
    ticket = f"W{datetime.now(UTC):%Y%m%d}{uuid.uuid4().hex[:6].upper()}"
    data: dict[str, Any] = {
        "ticket_id": ticket,
        "received_at": system.clock(),
        "channel": form.get("channel") or "phone",
        "kind": "consultation",
        "description": form.get("description", ""),
        "location": {key: form[key] for key in PLACE if form.get(key)},
        "requester": requester,
        "direct_answer": {"entry_id": entry.id, "answer": entry.answer, "by": me.username},
    }
    category = form.get("category") or (entry.category if CATEGORY.match(entry.category) else "")
    for key, value in (("category", category), ("urgency", form.get("urgency"))):
        if value:
            data[key] = value
    try:
        complaint = ComplaintReceived.model_validate(data)
    except ValidationError as error:  # what is wrong, not what was typed
        return _not_closed(request, me, _said(error))
    current_intake(request).publish(complaint)
    return RedirectResponse(f"/intake/{ticket}", status_code=303)


def _not_closed(request: Request, me: Principal, why: str) -> HTMLResponse:
    w = words_of(request)
    return page(request, "message.html", me, 422, title=f"{w['answer_directly']}: {w['refused']}", detail=why)
