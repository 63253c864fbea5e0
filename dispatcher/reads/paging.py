"""Keyset paging: a list is read in its order from just after the last row of the previous page, never with
an offset, so a deep page costs what the first one does and a case changing state meanwhile shifts no page.

The cursor a page hands out is opaque to clients: the URL-safe base64 (no padding) of the compact JSON list
`[order, key...]`, where `order` names the list's ordering (`cases`, `inbox`, `search`, `escalations`...) and
the key is the last row's sort values (times as ISO 8601 with their offset). A cursor of another list, or one
that does not decode, is refused (`CursorError`); a cursor only moves the position: the filters and the
caller's scope are applied again on every page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, literal, or_, tuple_

T = TypeVar("T")
U = TypeVar("U")
Key = tuple[Any, ...]
MAX_CURSOR = 512  # characters: a key is a few values


class CursorError(ValueError):
    """A cursor that is not one of this list's."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page of a list, in the list's order, and the cursor of the next page (None on the last one)."""

    items: list[T]
    next: str | None = None

    def map(self, change: Callable[[T], U]) -> Page[U]:
        return Page([change(item) for item in self.items], self.next)


def moment(value: Any) -> datetime:
    if not isinstance(value, str):
        raise CursorError("expected a time")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise CursorError("a time without its offset")
    return parsed


def maybe_moment(value: Any) -> datetime | None:
    return None if value is None else moment(value)


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise CursorError("expected a string")
    return value


def number(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise CursorError("expected an integer")
    return value


@dataclass(frozen=True)
class Keyset:
    """How one list orders its rows: its name and how each value of its key is read back."""

    order: str
    fields: tuple[Callable[[Any], Any], ...]

    def encode(self, key: Sequence[Any]) -> str:
        values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
        data = json.dumps([self.order, *values], ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")

    def decode(self, cursor: str | None) -> Key | None:
        """The key a cursor holds; None for none (the first page). `CursorError` if it is not this list's."""
        if not cursor:
            return None
        if len(cursor) > MAX_CURSOR:
            raise CursorError("cursor too long")
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError):
            raise CursorError("not a cursor of this list") from None
        if not isinstance(data, list) or len(data) != len(self.fields) + 1 or data[0] != self.order:
            raise CursorError("not a cursor of this list")
        try:
            return tuple(read(value) for read, value in zip(self.fields, data[1:], strict=True))
        except ValueError as error:  # CursorError, or a time that does not parse
            raise CursorError(f"not a cursor of this list: {error}") from None

    def page(self, rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]) -> Page[T]:
        """`rows` read with `limit + 1`: the first `limit`, and the next page's cursor if there is more."""
        items = list(rows[:limit])
        more = len(rows) > limit and items
        return Page(items, self.encode(key(items[-1])) if more else None)


def after(
    columns: Sequence[ColumnElement[Any]], key: Key, *, descending: bool = False
) -> ColumnElement[bool]:
    """Rows strictly after `key` in the order of `columns` (all ascending, or all descending): a row-value
    comparison, which both databases read as one range of an index on those columns."""
    values = tuple_(*(literal(value, column.type) for column, value in zip(columns, key, strict=True)))
    return tuple_(*columns) < values if descending else tuple_(*columns) > values


def after_nulls_last(nullable: ColumnElement[Any], tie: ColumnElement[Any], key: Key) -> ColumnElement[bool]:
    """Rows after `key` = (value or None, tie) in the order `nullable` ascending with NULLs last, then
    `tie`."""
    value, last = key
    if value is None:
        return and_(nullable.is_(None), tie > last)
    return or_(nullable.is_(None), after((nullable, tie), key))
