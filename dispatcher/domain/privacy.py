"""The requester's personal data (诉求人信息) as each viewer may see it. Pure.

Stored in full; shown in full to the center (supervisors, admins); masked to the handling unit (138****1234,
张*) unless a worker reveals it, an action the web layer audits; a confidential (保密) request hides the
requester from units entirely, revealed or not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from dispatcher.domain.access import Role
from rules.complaint import Requester


class Shown(StrEnum):
    FULL = "full"
    MASKED = "masked"
    CONFIDENTIAL = "confidential"  # hidden: the requester asked that units not see who they are
    HIDDEN = "hidden"  # the viewer reads no cases (an intake system)


@dataclass(frozen=True)
class RequesterView:
    """The requester as one viewer sees it: `requester` is None when it is hidden."""

    requester: Requester | None
    shown: Shown


def mask_phone(phone: str | None) -> str | None:
    """13812341234 -> 138****1234: the first three and last four characters stay, the rest are starred."""
    if phone is None:
        return None
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * (len(phone) - 2) + phone[-2:] if len(phone) > 2 else "*" * len(phone)


def mask_name(name: str | None) -> str | None:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the first character (the surname, or its start) stays."""
    if name is None:
        return None
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


_DIGITS = "0-9０-９零〇一二三四五六七八九幺两"
_AS_DIGIT = str.maketrans("０１２３４５６７８９零〇一二三四五六七八九幺两", "012345678900123456789" + "12")
# seven or more digits (Arabic, full-width or Chinese numerals), separators between them allowed:
# 13811112222, 138.1111.2222, 6512-3456, (010)6512 3456, 一三八一一一一二二二二
NUMBER = re.compile(rf"[{_DIGITS}](?:[ \t\-.·()（）]{{0,2}}[{_DIGITS}]){{6,}}")


def mask_number(found: str, starred: bool = False) -> str:
    """A number written in free text, masked: a mobile keeps its first three and last four digits, any
    other number (a landline, an ID) only its last two; `starred`: nothing of it is kept."""
    digits = re.sub(rf"[^{_DIGITS}]", "", found).translate(_AS_DIGIT)
    if starred:
        return "*" * len(digits)
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    return "*" * (len(digits) - 2) + digits[-2:]


def redact(text: str, name: str | None = None, starred: bool = False) -> str:
    """Free text as a unit (or the public) may read it: every phone-like number masked, the requester's
    `name` masked; `starred` (a confidential request) leaves nothing of either."""
    text = NUMBER.sub(lambda found: mask_number(found.group(), starred), text)
    if name and len(name) >= 2:  # one character is too common to replace
        text = text.replace(name, "*" * len(name) if starred else mask_name(name) or "")
    return text


def masked(requester: Requester) -> Requester:
    return replace(requester, name=mask_name(requester.name), phone=mask_phone(requester.phone))


def requester_view(requester: Requester, role: Role, revealed: bool = False) -> RequesterView:
    """What a viewer with `role` sees of `requester`; `revealed`: a worker asked (and was audited)."""
    if role in (Role.SUPERVISOR, Role.ADMIN):
        return RequesterView(requester, Shown.FULL)
    if role is not Role.WORKER:
        return RequesterView(None, Shown.HIDDEN)
    if requester.confidential:
        return RequesterView(None, Shown.CONFIDENTIAL)
    if revealed:
        return RequesterView(requester, Shown.FULL)
    return RequesterView(masked(requester), Shown.MASKED)
