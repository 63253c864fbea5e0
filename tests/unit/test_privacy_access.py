"""Who may do what to which case, and what each viewer sees of the requester: pure rules, plain objects."""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.domain.access import (
    Action,
    CaseFacts,
    PersonError,
    Principal,
    Role,
    Visible,
    can_act,
    can_read,
    role_of,
    visible_cases,
)
from dispatcher.domain.privacy import Shown, mask_name, mask_phone, redact, requester_view
from rules.complaint import Requester

WORKER_ACTIONS = [Action.ACKNOWLEDGE, Action.CONTACT, Action.RETURN, Action.EXTENSION, Action.RESOLVE]
SUPERVISOR_ACTIONS = [Action.ARBITRATE, Action.EXTENSION_DECISION, Action.DISPATCH]


def facts(**overrides: Any) -> CaseFacts:
    fields: dict[str, Any] = {
        "unit": "street-110105010",
        "post": "desk",
        "co_handlers": (),
        "district": "110105",
        "confidential": False,
    }
    return CaseFacts(**{**fields, **overrides})


def worker(unit: str = "street-110105010", post: str | None = None) -> Principal:
    return Principal("wang", Role.WORKER, unit=unit, post=post)


def supervisor(scope: str = "city") -> Principal:
    return Principal("zhao", Role.SUPERVISOR, scope=scope)


ADMIN = Principal("root", Role.ADMIN)
INTAKE = Principal("hotline", Role.INTAKE)


# ---- workers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", [Action.READ, Action.REVEAL, *WORKER_ACTIONS])
def test_a_worker_reads_and_handles_the_cases_of_their_unit(action):
    assert can_act(worker(), action, facts()) is None


@pytest.mark.parametrize("action", [Action.READ, Action.REVEAL, *WORKER_ACTIONS])
def test_a_worker_of_another_street_may_neither_read_nor_act(action):
    denied = can_act(worker("street-110105011"), action, facts())
    assert denied is not None
    assert "assigned to street-110105010, not to street-110105011" in denied.reason


def test_a_worker_with_a_post_sees_only_the_cases_at_that_post():
    assert can_read(worker(post="desk"), facts()) is None
    denied = can_read(worker(post="night"), facts())
    assert denied is not None and "at post desk" in denied.reason


@pytest.mark.parametrize("action", SUPERVISOR_ACTIONS)
def test_a_worker_may_not_do_what_supervisors_do(action):
    denied = can_act(worker(), action, facts())
    assert denied is not None and f"is a worker and may not {action}" in denied.reason


def test_a_co_handling_unit_reads_and_reveals_but_the_lead_unit_handles():
    co = worker("ent-water")
    case = facts(co_handlers=("ent-water",))
    assert can_read(co, case) is None and can_act(co, Action.REVEAL, case) is None
    denied = can_act(co, Action.RESOLVE, case)
    assert denied is not None and "only the lead unit street-110105010 may resolve" in denied.reason


def test_nobody_at_a_unit_reads_a_queued_case():
    assert can_read(worker(), facts(unit=None, post=None)) is not None


def test_a_confidential_requester_is_never_revealed_to_a_unit():
    denied = can_act(worker(), Action.REVEAL, facts(confidential=True))
    assert denied is not None and "confidential" in denied.reason
    assert can_read(worker(), facts(confidential=True)) is None  # the case itself stays readable
    assert can_act(supervisor(), Action.REVEAL, facts(confidential=True)) is None


# ---- supervisors, admins, intake ---------------------------------------------------------------


@pytest.mark.parametrize("action", [Action.READ, Action.REVEAL, *SUPERVISOR_ACTIONS])
def test_a_supervisor_acts_within_their_district_only(action):
    assert can_act(supervisor("110105"), action, facts()) is None
    denied = can_act(supervisor("110108"), action, facts())
    assert denied is not None and "district 110105, outside the scope of zhao (110108)" in denied.reason


def test_a_city_supervisor_reaches_every_case_even_without_a_district():
    assert can_act(supervisor(), Action.DISPATCH, facts(district=None, unit=None)) is None
    assert can_act(supervisor("110105"), Action.DISPATCH, facts(district=None)) is not None


@pytest.mark.parametrize("action", WORKER_ACTIONS)
def test_a_supervisor_does_not_handle_cases_for_the_unit(action):
    assert can_act(supervisor(), action, facts()) is not None


@pytest.mark.parametrize("action", list(Action))
def test_an_admin_may_do_everything(action):
    assert can_act(ADMIN, action, facts(confidential=True)) is None


# besides submitting: where a request would go (the intake page's preview), the knowledge base (知识库)
INTAKE_MAY = (Action.SUBMIT, Action.PREVIEW, Action.KNOWLEDGE)


@pytest.mark.parametrize("action", [a for a in Action if a not in INTAKE_MAY])
def test_an_intake_system_only_submits(action):
    assert all(can_act(INTAKE, allowed, None) is None for allowed in INTAKE_MAY)
    denied = can_act(INTAKE, action, facts())
    assert denied is not None and f"hotline is an intake and may not {action}" in denied.reason


def test_each_role_lists_what_it_may_see():
    assert visible_cases(worker(post="desk")) == Visible(unit="street-110105010", post="desk")
    assert visible_cases(supervisor("110105")) == Visible(district="110105")
    assert visible_cases(supervisor()) == Visible(everything=True)
    assert visible_cases(ADMIN) == Visible(everything=True)
    assert visible_cases(INTAKE) == Visible()  # nothing


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: role_of("clerk"), "unknown role 'clerk': expected intake, worker, supervisor, admin"),
        (lambda: Principal("wang", Role.WORKER), "worker wang needs a unit"),
        (lambda: Principal("zhao", Role.SUPERVISOR), "supervisor zhao needs a scope"),
        (lambda: Principal("zhao", Role.SUPERVISOR, scope="朝阳"), "expected 'city' or a six-digit"),
        (lambda: Principal("wang", Role.WORKER, unit="u", scope="city"), "only supervisors have a scope"),
        (lambda: Principal("zhao", Role.SUPERVISOR, post="desk", scope="city"), "a post belongs to a unit"),
        (lambda: Principal("li na", Role.ADMIN), "username 'li na'"),
    ],
)
def test_an_account_that_cannot_exist_is_refused_in_one_line(make, message):
    with pytest.raises(PersonError) as refused:
        make()
    assert message in str(refused.value) and "\n" not in str(refused.value)


# ---- requester privacy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812341234", "138****1234"),
        ("010-87654321", "010*****4321"),
        ("12345", "***45"),
        ("", ""),
        (None, None),
    ],
)
def test_a_phone_keeps_its_first_three_and_last_four(phone, shown):
    assert mask_phone(phone) == shown


@pytest.mark.parametrize(
    ("name", "shown"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("王先生", "王**"), ("李", "*"), (None, None)]
)
def test_a_name_keeps_its_first_character(name, shown):
    assert mask_name(name) == shown


REQUESTER = Requester(name="张三", phone="13812341234", groups=("elderly",))


def test_a_unit_worker_sees_the_requester_masked_until_revealing():
    view = requester_view(REQUESTER, Role.WORKER)
    assert view.shown is Shown.MASKED
    assert view.requester == Requester(name="张*", phone="138****1234", groups=("elderly",))
    revealed = requester_view(REQUESTER, Role.WORKER, revealed=True)
    assert (revealed.shown, revealed.requester) == (Shown.FULL, REQUESTER)


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_the_center_sees_the_requester_in_full(role):
    assert requester_view(REQUESTER, role) == requester_view(REQUESTER, role, revealed=True)
    assert requester_view(REQUESTER, role).requester == REQUESTER


def test_a_confidential_requester_is_hidden_from_units_even_when_revealed():
    secret = Requester(name="张三", phone="13812341234", confidential=True)
    for revealed in (False, True):
        view = requester_view(secret, Role.WORKER, revealed=revealed)
        assert (view.requester, view.shown) == (None, Shown.CONFIDENTIAL)
    assert requester_view(secret, Role.SUPERVISOR).requester == secret


def test_an_intake_system_sees_no_requester():
    assert requester_view(REQUESTER, Role.INTAKE).requester is None


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("请回电13811112222", "请回电138****2222"),
        ("请回电138.1111.2222", "请回电138****2222"),
        ("请回电138 1111 2222", "请回电138****2222"),
        ("座机6512-3456", "座机******56"),
        ("座机(010)6512 3456", "座机(*********56"),
        ("电话一三八一一一一二二二二", "电话138****2222"),
        ("电话１３８１１１１２２２２", "电话138****2222"),
        ("身份证110101199001011234", "身份证****************34"),
        ("2026年11月26日起暖气不热，交了3000元供暖费", "2026年11月26日起暖气不热，交了3000元供暖费"),
    ],
)
def test_every_way_of_writing_a_number_is_masked_in_free_text_and_dates_and_sums_are_not(written, masked):
    assert redact(written) == masked


def test_a_confidential_requests_text_keeps_nothing_of_the_number_or_the_name():
    text = "我是王小明，电话6512-3456，楼上漏水"
    assert redact(text, "王小明") == "我是王**，电话******56，楼上漏水"
    assert redact(text, "王小明", starred=True) == "我是***，电话********，楼上漏水"
