"""Keyset cursors: opaque to clients, read back exactly, refused when another list's or mangled."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.reads.paging import CursorError, Keyset, maybe_moment, moment, number, text
from tests.support.clock import BEIJING

CASES = Keyset("cases", (moment, text))
INBOX = Keyset("inbox", (maybe_moment, text))


def test_a_cursor_gives_back_the_key_it_was_made_of():
    key = (datetime(2026, 11, 26, 9, 30, 0, 123456, tzinfo=BEIJING), "W024")
    cursor = CASES.encode(key)
    assert CASES.decode(cursor) == key and "=" not in cursor and "W024" not in cursor
    assert json.loads(base64.urlsafe_b64decode(cursor + "==")) == ["cases", key[0].isoformat(), "W024"]
    assert INBOX.decode(INBOX.encode((None, "W1"))) == (None, "W1")
    assert CASES.decode(None) is None and CASES.decode("") is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "e30",  # {}
        INBOX.encode((datetime(2026, 11, 26, tzinfo=UTC), "W1")),  # another list's
        Keyset("cases", (number, text)).encode((3, "W1")),  # a number where a time goes
        Keyset("cases", (text, text)).encode(("2026-11-26T09:30:00", "W1")),  # a time without its offset
        Keyset("cases", (text,)).encode(("W1",)),  # too short
        "A" * 600,
    ],
)
def test_a_cursor_of_another_list_or_mangled_is_refused(cursor):
    with pytest.raises(CursorError):
        CASES.decode(cursor)


def test_a_page_hands_out_the_next_cursor_only_when_there_is_more():
    rows = [(datetime(2026, 11, 26, tzinfo=UTC) + timedelta(minutes=n), f"T{n}") for n in range(3)]
    full = CASES.page(rows, 2, lambda row: row)
    assert full.items == rows[:2] and CASES.decode(full.next) == rows[1]
    last = CASES.page(rows[:2], 2, lambda row: row)
    assert last.items == rows[:2] and last.next is None
    assert CASES.page([], 2, lambda row: row).next is None
