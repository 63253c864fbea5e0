"""The requester's personal data (诉求人信息) as each viewer may see it. Pure.

Stored in full; shown in full to the center (supervisors, admins); masked to the handling unit (138****1234,
张*) unless a worker reveals it, an action the web layer audits; a confidential (保密) request hides the
requester from units entirely, revealed or not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from dispatcher.domain.access import Role
from dispatcher.domain.complaint import Requester


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
