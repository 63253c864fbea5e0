"""The dashboard's search: the visible cases with a ticket id, a requester's phone, a street (any part of
the stored location), a category (and its subcategories) or a state; over every case, newest dispatch first,
a page at a time. Who may search by phone is the route's decision."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import ColumnElement, Engine, Text, cast, false, or_

from dispatcher.adapters.database import stored_forms
from dispatcher.domain.access import Visible
from dispatcher.reads import rows as r
from dispatcher.reads import views as v
from dispatcher.reads.paging import Page

By = Literal["ticket", "phone", "street", "category", "state"]
BY: tuple[By, ...] = get_args(By)
SEARCH = r.keyset("search")
PAGE = 50


def matching(by: By, q: str) -> ColumnElement[bool]:
    """The condition a case meets when `q` is its ticket, phone, street, category or state."""
    k = r.K
    q = q.strip()
    if not q:
        return false()
    if by == "phone":
        return k.requester_phone == re.sub(r"[\s-]", "", q)
    if by == "street":  # the text inside a JSON string, as new or older rows store it
        located = cast(k.location, Text)
        return or_(*(located.contains(form[1:-1], autoescape=True) for form in stored_forms(q)))
    if by == "category":
        return k.category.startswith(q, autoescape=True)
    if by == "state":
        return k.state == q
    return k.ticket_id == q


def search(
    engine: Engine,
    *,
    now: datetime,
    visible: Visible,
    by: By,
    q: str,
    limit: int = PAGE,
    cursor: str | None = None,
) -> Page[v.CaseSummary]:
    """The visible cases `q` matches `by`, newest dispatch first; `CursorError` for another list's cursor."""
    found = r.line_page(engine, SEARCH, [matching(by, q)], visible, limit, cursor, newest_first=True)
    return r.lines(found, now, visible)
