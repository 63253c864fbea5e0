"""The knowledge base (知识库) API: searched by intake systems, supervisors and admins; entries added, edited
and retired by admins only. Its request bodies are here, with the routes that take them.

`GET /api/knowledge?q=` searches with the question as the caller asked it (only entries valid today unless
`all=true`). The question travels in the URL: send the question, not the caller's whole account (a name or
a phone number in it would land in access logs); the intake page searches with a POST instead.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Depends, Query, status
from fastapi.exceptions import HTTPException
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from dispatcher.adapters.knowledge import (
    KnowledgeExistsError,
    KnowledgeNotFoundError,
    KnowledgeStore,
    new_entry_id,
)
from dispatcher.domain.access import Action, Principal
from dispatcher.domain.knowledge import (
    ANSWER_MAX,
    CATEGORY_MAX,
    KEYWORD_MAX,
    KEYWORDS_MAX,
    QUESTION_MAX,
    TEXT_MAX,
    KnowledgeEntry,
    KnowledgeError,
)
from dispatcher.reads import knowledge
from dispatcher.reads import views as v
from jiesu.web import schemas as s
from jiesu.web.auth import allowed
from jiesu.web.common import AUTH, SystemDep

router = APIRouter(prefix="/api", tags=["knowledge"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **AUTH,
    404: {"model": s.ErrorBody, "description": "No knowledge base entry has this id."},
}
EDIT: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"model": s.ErrorBody, "description": "An entry with this id exists (adding)."},
    422: {"model": s.ValidationErrorBody, "description": "The entry is invalid: `detail` says why."},
}
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=QUESTION_MAX)]
Answer = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ANSWER_MAX)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, max_length=CATEGORY_MAX)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=KEYWORD_MAX)]
Source = Annotated[str, StringConstraints(strip_whitespace=True, max_length=TEXT_MAX)]


class KnowledgeBody(BaseModel):
    """An entry of the knowledge base, as an admin writes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")] | None = Field(
        None, description="adding: the new entry's id (none: one is made); editing: none, or the same id"
    )
    question: Question = Field(description="the question as callers ask it")
    answer: Answer = Field(description="what the operator tells the requester")
    category: Category = Field("", description="a category code of the catalog, or empty")
    keywords: list[Keyword] = Field(
        default_factory=list, max_length=KEYWORDS_MAX, description="the words callers use, for the search"
    )
    source: Source = Field("", description="what the answer rests on")
    valid_from: date | None = Field(None, description="first day it is right (none: always)")
    valid_to: date | None = Field(None, description="last day it is right (none: open-ended)")

    @field_validator("question", "answer", "category", "source", "keywords", mode="after")
    @classmethod
    def _storable(cls, value: str | list[str]) -> str | list[str]:
        if any("\x00" in text for text in ([value] if isinstance(value, str) else value)):
            raise ValueError(s.NUL)
        return value

    @model_validator(mode="after")
    def _in_order(self) -> KnowledgeBody:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    def entry(self, entry_id: str) -> KnowledgeEntry:
        return KnowledgeEntry(
            entry_id,
            self.question,
            self.answer,
            self.category,
            tuple(self.keywords),
            self.source,
            self.valid_from,
            self.valid_to,
        )


def store(system: SystemDep) -> KnowledgeStore:
    return KnowledgeStore(system.engine, system.clock)


Store = Annotated[KnowledgeStore, Depends(store)]


def refuse(error: KnowledgeError) -> NoReturn:
    """A refusal of the store as the app's error body: 404, 409 or 422."""
    code = (
        status.HTTP_404_NOT_FOUND
        if isinstance(error, KnowledgeNotFoundError)
        else status.HTTP_409_CONFLICT
        if isinstance(error, KnowledgeExistsError)
        else status.HTTP_422_UNPROCESSABLE_CONTENT
    )
    raise HTTPException(code, str(error)) from error


@router.get(
    "/knowledge",
    summary="Search the knowledge base (知识库)",
    response_model=list[v.KnowledgeMatch],
    responses=AUTH,
)
def search(
    system: SystemDep,
    _: Annotated[Principal, Depends(allowed(Action.KNOWLEDGE))],
    q: Annotated[
        str, Query(max_length=4000, description="the question, as the caller asked it (none: list)")
    ] = "",
    category: Annotated[
        str | None, Query(max_length=64, description="a category code or its prefix (`01`: heating)")
    ] = None,
    every: Annotated[
        bool,
        Query(alias="all", description="also entries retired or not valid today (default: only valid today)"),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=100, description="at most this many")] = 10,
) -> list[v.KnowledgeMatch]:
    """With `q`: the entries that answer the question best first, ranked by the keywords found whole in it
    and the character bigrams it shares with each entry's question (and, less, its answer), each weighted
    by its rarity among the entries; callers' fillers (请问, 怎么...) count nothing. Without `q`: the
    entries by category and id (`score` null). Only the entries valid today (Beijing) unless `all=true`.

    Allowed: intake systems, supervisors and admins."""
    now = system.clock()
    if q.strip():
        return knowledge.search(system.engine, q, now=now, category=category, every=every, limit=limit)
    listed = knowledge.listing(system.engine, now=now, category=category, retired=every)
    return [
        v.KnowledgeMatch(**view.model_dump(), score=None, matched_keywords=[])
        for view in listed
        if every or view.valid_today
    ][:limit]


@router.get(
    "/knowledge/{entry_id}",
    summary="One knowledge base entry",
    response_model=v.KnowledgeView,
    responses=NOT_FOUND,
)
def get_entry(
    entry_id: str, system: SystemDep, _: Annotated[Principal, Depends(allowed(Action.KNOWLEDGE))]
) -> v.KnowledgeView:
    """The entry, retired or not. Allowed: intake systems, supervisors and admins."""
    found = knowledge.entry(system.engine, entry_id, now=system.clock())
    if found is None:
        refuse(KnowledgeNotFoundError(f"no knowledge base entry with id {entry_id}"))
    return found


@router.post(
    "/knowledge",
    status_code=status.HTTP_201_CREATED,
    summary="Add a knowledge base entry (admin)",
    response_model=v.KnowledgeView,
    responses=EDIT,
)
def add_entry(
    body: KnowledgeBody,
    system: SystemDep,
    entries: Store,
    principal: Annotated[Principal, Depends(allowed(Action.KNOWLEDGE_EDIT))],
) -> v.KnowledgeView:
    """A new entry, with the id given or a new one. Allowed: admins."""
    try:
        added = entries.add(body.entry(body.id or new_entry_id()), principal.username)
    except KnowledgeError as error:
        refuse(error)
    return get_entry(added.id, system, principal)


@router.put(
    "/knowledge/{entry_id}",
    summary="Edit a knowledge base entry (admin)",
    response_model=v.KnowledgeView,
    responses=EDIT,
)
def edit_entry(
    entry_id: str,
    body: KnowledgeBody,
    system: SystemDep,
    entries: Store,
    principal: Annotated[Principal, Depends(allowed(Action.KNOWLEDGE_EDIT))],
) -> v.KnowledgeView:
    """Replaces the entry's question, answer, category, keywords, source and validity (a retired entry
    stays retired). Allowed: admins."""
    if body.id is not None and body.id != entry_id:
        refuse(KnowledgeError(f"the body's id {body.id} is not the entry's ({entry_id}): ids do not change"))
    try:
        entries.update(body.entry(entry_id), principal.username)
    except KnowledgeError as error:
        refuse(error)
    return get_entry(entry_id, system, principal)


@router.delete(
    "/knowledge/{entry_id}",
    summary="Retire a knowledge base entry (admin)",
    response_model=v.KnowledgeView,
    responses=NOT_FOUND,
)
def retire_entry(
    entry_id: str,
    system: SystemDep,
    entries: Store,
    principal: Annotated[Principal, Depends(allowed(Action.KNOWLEDGE_EDIT))],
) -> v.KnowledgeView:
    """The entry is no longer offered; it is kept, since the cases it answered name it. Allowed: admins."""
    try:
        entries.retire(entry_id, principal.username)
    except KnowledgeError as error:
        refuse(error)
    return get_entry(entry_id, system, principal)
