"""The message templates: every kind in both languages, the requester masked or absent, free text cut in the
short parts and inert in the HTML, Beijing time throughout, operator overrides and strict templates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
import pytest

from notifications.render import (
    KINDS,
    LANGUAGES,
    PARTS,
    TEMPLATES,
    CaseSnapshot,
    Rendered,
    Renderer,
    beijing,
)
from tests.support.clock import BEIJING

TICKET = "BJ12345-20261126-00317"
REPEAT = "BJ12345-20261126-00401"
MAIN = "BJ12345-20261126-00288"
PHONE, NAME = "13812345678", "张三丰"
MASKED_PHONE, MASKED_NAME = "138****5678", "张**"
UNIT, POST = "朝阳区望京街道办事处", "接诉即办岗"
INJECTION = "<script>alert(1)</script>{{7*7}}"


def snapshot(**overrides: Any) -> CaseSnapshot:
    fields: dict[str, Any] = {
        "ticket_id": TICKET,
        "category": "060102",
        "category_name": "供暖 > 暖气不热",
        "urgency": "urgent",
        "description": f"我是{NAME}，电话{PHONE}。"
        "家里暖气不热，室温只有十五度，家中有八十岁老人，请尽快派人检修。",
        "district": "朝阳区",
        "street": "望京街道",
        "address": "花家地北里12号楼3单元501",
        "requester_name": NAME,
        "requester_phone": PHONE,
        "confidential": False,
        "unit": UNIT,
        "post": POST,
        "person": "李四",
        "reply_due": datetime(2026, 12, 5, 18, 0, tzinfo=BEIJING),
    }
    return CaseSnapshot(**{**fields, **overrides})


ASSIGNMENT = {
    "unit": UNIT,
    "post": POST,
    "person": "李四",
    "rule": "heating-street",
    "catalog_version": "2026.11",
    "reason": "供暖问题派属地街道",
    "co_handlers": ["北京热力集团"],
}


def event_for(kind: str, **overrides: Any) -> dict[str, Any]:
    """The `jiesu.cases` data behind each kind, as it arrives: RFC 3339 text for every moment."""
    at = "2026-11-26T10:00:00+08:00"
    events: dict[str, dict[str, Any]] = {
        "case.dispatched": {
            "at": "2026-11-26T09:30:05+08:00",
            "assignment": ASSIGNMENT,
            "category": "060102",
            "urgency": "urgent",
            "district": "朝阳区",
            "street": "望京街道",
            "deadlines": {
                "acknowledge": {"due_at": "2026-11-26T10:30:00+08:00", "state": "pending"},
                "contact": {"due_at": "2026-11-26T11:30:00+08:00", "state": "pending"},
                "reply": {"due_at": "2026-11-27T09:30:00+08:00", "state": "pending"},
            },
        },
        "case.acknowledge_reminder": {
            "at": at,
            "stage": "acknowledge",
            "due_at": "2026-11-26T10:30:00+08:00",
        },
        "sla.warning": {"at": at, "stage": "contact", "due_at": "2026-11-26T11:30:00+08:00"},
        "sla.breached": {"at": at, "stage": "reply", "due_at": "2026-11-27T09:30:00+08:00"},
        "case.escalated": {"at": at, "level": 2, "target": f"{UNIT}:unit_head", "stage": "reply"},
        "case.returned": {
            "at": at,
            "by": "王五",
            "note": None,
            "reason": "供热设施由热力集团负责，非街道职责",
            "reason_code": "not_our_duty",
            "proposal": {**ASSIGNMENT, "unit": "北京热力集团", "post": "客服调度岗"},
        },
        "case.extension_requested": {
            "at": at,
            "by": "王五",
            "requested_until": "2026-12-10T18:00:00+08:00",
            "reason": "需协调物业更换楼内供暖管道",
        },
        "case.pause_requested": {
            "at": at,
            "by": "王五",
            "reason_code": "requester",
            "reason": "居民出差，回京后入户查看",
            "resume_at": "2026-12-03T09:00:00+08:00",
        },
        "case.extension_decided": {
            "at": at,
            "by": "赵六",
            "note": "同意延期",
            "approved": True,
            "reply_due": "2026-12-10T18:00:00+08:00",
        },
        "case.reopened": {
            "at": at,
            "reason": "诉求人表示暖气仍然不热",
            "round": 2,
            "reply_due": "2026-12-03T17:30:00+08:00",
        },
        "case.linked": {
            "at": at,
            "repeat_ticket_id": REPEAT,
            "description": f"再次反映暖气不热，联系电话{PHONE}",
            "why": "same phone+community+category",
        },
        "digest": {},
        "supervision.ordered": {
            "at": at,
            "order_id": "SO-3F9A2B7C1D",
            "unit": UNIT,
            "addressee": "unit",
            "ask": f"诉求人三次来电，请说明暖气不热的原因，回电{PHONE}",
            "due_at": "2026-12-01T00:00:00+08:00",
            "by": "赵六",
        },
        "supervision.warning": {
            "at": at,
            "order_id": "SO-3F9A2B7C1D",
            "unit": UNIT,
            "addressee": "unit",
            "due_at": "2026-12-01T00:00:00+08:00",
        },
        "supervision.overdue": {
            "at": at,
            "order_id": "SO-3F9A2B7C1D",
            "unit": UNIT,
            "due_at": "2026-12-01T00:00:00+08:00",
            "target": f"{UNIT}:unit_head",
        },
        "supervision.answered": {
            "at": at,
            "order_id": "SO-3F9A2B7C1D",
            "unit": UNIT,
            "by": "王五",
            "answer": "已更换楼内循环泵，室温恢复到二十度",
            "late": True,
        },
        "case.whistled": {
            "at": at,
            "by": "li",
            "unit": "望京街道",
            "ask": f"请约谈物业公司，核查楼内供暖管网，联系电话{PHONE}",
            "post": "desk",
            "person": "wangjing",
            "acknowledge_due": "2026-11-26T14:00:00+08:00",
            "report_due": "2026-11-27T10:00:00+08:00",
        },
        "governance.created": {
            "at": at,
            "task_id": "GT-7C1A2B3D4E",
            "hotspot_id": "HS202611260214-3f9a1c27be",
            "unit": UNIT,
            "district": "110105",
            "category": "010101",
            "ask": f"望京片区暖气不热集中反映，请查明管网原因并整改，联系{PHONE}",
            "due_at": "2026-12-03T00:00:00+08:00",
            "by": "赵六",
            "ticket_ids": [TICKET, "BJ12345-20261126-00002", "BJ12345-20261126-00003"],
        },
        "governance.warning": {
            "at": at,
            "task_id": "GT-7C1A2B3D4E",
            "hotspot_id": "HS202611260214-3f9a1c27be",
            "unit": UNIT,
            "district": "110105",
            "category": "010101",
            "due_at": "2026-12-03T00:00:00+08:00",
        },
        "governance.overdue": {
            "at": at,
            "task_id": "GT-7C1A2B3D4E",
            "hotspot_id": "HS202611260214-3f9a1c27be",
            "unit": UNIT,
            "district": "110105",
            "category": "010101",
            "due_at": "2026-12-03T00:00:00+08:00",
            "target": "center:supervisor",
            "level": 2,
        },
        "case.merged": {
            "at": at,
            "main_ticket_id": MAIN,
            "by": "赵六",
            "reason": "同一处供暖管网故障",
            "auto": False,
            "state_before": "acknowledged",
        },
        "case.unmerged": {
            "at": at,
            "main_ticket_id": MAIN,
            "by": "赵六",
            "reason": "不是同一栋楼的问题",
            "state": "acknowledged",
        },
    }
    data = events[kind]
    return {**({} if kind == "digest" else {"ticket_id": TICKET}), **data, **overrides}


def digest_figures(**overrides: Any) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "day": date(2026, 11, 26),
        "overdue": [
            {
                "ticket_id": "BJ12345-20261120-00011",
                "unit": UNIT,
                "stage": "reply",
                "due_at": datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
            }
        ],
        "escalations": [
            {
                "ticket_id": "BJ12345-20261121-00012",
                "level": 3,
                "unit": "海淀区学院路街道办事处",
                "fired_at": datetime(2026, 11, 25, 17, 30, tzinfo=BEIJING),
            }
        ],
        "volume": [{"category": "供暖", "count": 12}, {"category": "噪音扰民", "count": 5}],
        "rates": [
            {
                "unit": UNIT,
                "valid": 31,
                "response_rate": 0.96,
                "resolution_rate": 0.8,
                "satisfaction_rate": None,
                "composite": 0.875,
            }
        ],
    }
    return {**figures, **overrides}


def render(
    kind: str,
    language: str = "zh",
    renderer: Renderer | None = None,
    case: CaseSnapshot | None = None,
    event: dict[str, Any] | None = None,
    digest: dict[str, Any] | None = None,
) -> Rendered:
    return (renderer or Renderer()).render(
        kind,
        language,
        case=None if kind == "digest" else case or snapshot(),
        event=event_for(kind) if event is None else event,
        recipient="李四",
        digest=digest or digest_figures(),
    )


def parts(rendered: Rendered) -> dict[str, str]:
    return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}


# what each kind must say, in the short text and in the e-mail, per language
FACTS: dict[str, dict[str, list[str]]] = {
    "case.dispatched": {
        "zh": [UNIT, POST, "2026-11-26 10:30前签收", "2026-11-27 09:30", "供暖 > 暖气不热", "朝阳区望京街道"],
        "en": [
            UNIT,
            POST,
            "2026-11-26 10:30",
            "2026-11-27 09:30",
            "供暖 > 暖气不热",
            "望京街道",
        ],
    },
    "case.acknowledge_reminder": {
        "zh": ["签收", "2026-11-26 10:30", "朝阳区望京街道", "供暖 > 暖气不热"],
        "en": ["acknowledge", "2026-11-26 10:30", "望京街道", "供暖 > 暖气不热"],
    },
    "sla.warning": {
        "zh": ["联系诉求人", "2026-11-26 11:30"],
        "en": ["contact the requester", "2026-11-26 11:30"],
    },
    "sla.breached": {"zh": ["办结答复", "超期", "2026-11-27 09:30"], "en": ["reply", "2026-11-27 09:30"]},
    "case.escalated": {
        "zh": ["第2级", f"{UNIT}单位负责人", "2026-11-26 10:00"],
        "en": ["level 2", f"unit head of {UNIT}", "2026-11-26 10:00"],
    },
    "case.returned": {
        "zh": ["王五", "非本单位职责", "供热设施由热力集团负责", "北京热力集团", "审核"],
        "en": ["王五", "not our duty", "供热设施由热力集团负责", "北京热力集团", "decide"],
    },
    "case.extension_requested": {
        "zh": ["2026-12-10 18:00", "2026-12-05 18:00", "需协调物业更换楼内供暖管道", "审批"],
        "en": ["2026-12-10 18:00", "2026-12-05 18:00", "需协调物业更换楼内供暖管道", "promptly"],
    },
    "case.pause_requested": {
        "zh": ["挂起", "等待诉求人", "居民出差，回京后入户查看", "2026-12-03 09:00", "审批"],
        "en": [
            "pause",
            "waiting for the requester",
            "居民出差，回京后入户查看",
            "2026-12-03 09:00",
            "promptly",
        ],
    },
    "case.extension_decided": {
        "zh": ["已批准", "2026-12-10 18:00", "同意延期"],
        "en": ["approved", "2026-12-10 18:00", "同意延期"],
    },
    "case.reopened": {
        "zh": ["重办", "第2轮", "诉求人表示暖气仍然不热", "2026-12-03 17:30"],
        "en": ["reopened", "round 2", "诉求人表示暖气仍然不热", "2026-12-03 17:30"],
    },
    "case.linked": {
        "zh": [REPEAT, "再次反映暖气不热", "一并办理", "2026-12-05 18:00"],
        "en": [REPEAT, "再次反映暖气不热", "together", "2026-12-05 18:00"],
    },
    "case.whistled": {
        "zh": ["望京街道", "约谈物业公司", "2026-11-26 14:00前签收", "2026-11-27 10:00前向主办单位反馈"],
        "en": [
            "望京街道",
            "约谈物业公司",
            "acknowledge by 2026-11-26 14:00",
            "report to the lead by 2026-11-27 10:00",
        ],
    },
    "case.merged": {
        "zh": [MAIN, "并入主工单", "无需单独办理", "仍单独回访", "同一处供暖管网故障"],
        "en": [
            MAIN,
            "merged into main case",
            "nothing to do on it alone",
            "called back",
            "同一处供暖管网故障",
        ],
    },
    "case.unmerged": {
        "zh": [MAIN, "撤销并案", "恢复由本单位单独办理", "2026-12-05 18:00", "不是同一栋楼的问题"],
        "en": [MAIN, "on its own again", "2026-12-05 18:00", "不是同一栋楼的问题"],
    },
    "digest": {
        "zh": ["2026-11-26", "超期未办1件", "BJ12345-20261120-00011", "17件"],
        "en": ["2026-11-26", "BJ12345-20261120-00011", "17"],
    },
    "supervision.ordered": {
        "zh": ["SO-3F9A2B7C1D", "赵六", "请说明暖气不热的原因", "2026-12-01 00:00"],
        "en": ["SO-3F9A2B7C1D", "赵六", "请说明暖气不热的原因", "2026-12-01 00:00"],
    },
    "supervision.warning": {
        "zh": ["SO-3F9A2B7C1D", "2026-12-01 00:00", "尚未答复"],
        "en": ["SO-3F9A2B7C1D", "2026-12-01 00:00", "not answered"],
    },
    "supervision.overdue": {
        "zh": ["SO-3F9A2B7C1D", "逾期未答复", f"{UNIT}单位负责人"],
        "en": ["SO-3F9A2B7C1D", "did not answer", f"unit head of {UNIT}"],
    },
    "supervision.answered": {
        "zh": ["SO-3F9A2B7C1D", "王五", "逾期", "已更换楼内循环泵"],
        "en": ["SO-3F9A2B7C1D", "王五", "late", "已更换楼内循环泵"],
    },
    "governance.created": {
        "zh": ["GT-7C1A2B3D4E", "等3件", "请查明管网原因并整改", "2026-12-03 00:00", "报告办结"],
        "en": ["GT-7C1A2B3D4E", "and 2 more", "请查明管网原因并整改", "2026-12-03 00:00", "report it done"],
    },
    "governance.warning": {
        "zh": ["GT-7C1A2B3D4E", "2026-12-03 00:00", "尚未报告办结"],
        "en": ["GT-7C1A2B3D4E", "2026-12-03 00:00", "not reported done"],
    },
    "governance.overdue": {
        "zh": ["GT-7C1A2B3D4E", "逾期未报告", "市民热线服务中心"],
        "en": ["GT-7C1A2B3D4E", "did not report", "of the 12345 center"],
    },
}
DIGEST_HTML = [
    "BJ12345-20261120-00011",
    "BJ12345-20261121-00012",
    "2026-11-25 16:00",
    "2026-11-25 17:30",
    "噪音扰民",
]


# ---- every kind, both languages ------------------------------------------------------------------


def test_there_is_a_template_for_every_kind_language_and_part():
    expected = {f"{lang}/{kind}.{part}.j2" for lang in LANGUAGES for kind in KINDS for part in PARTS}
    present = {str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.j2")}
    assert expected <= present
    Renderer().check()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_both_languages(kind, language):
    rendered = render(kind, language)
    for part, content in parts(rendered).items():
        assert content.strip(), part
        assert "None" not in content, part
    assert "\n" not in rendered.subject
    assert rendered.html.startswith("<!DOCTYPE html>")
    for fact in FACTS[kind][language]:
        assert fact in rendered.text, fact
        assert fact.replace(">", "&gt;") in rendered.html, fact
    if kind == "digest":
        assert "2026-11-26" in rendered.subject
        for fact in DIGEST_HTML:
            assert fact in rendered.html, fact
    else:
        for content in parts(rendered).values():
            assert TICKET in content


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_rejected_extension_keeps_the_current_reply_deadline(language):
    event = event_for("case.extension_decided", approved=False, note=None)
    del event["reply_due"]
    rendered = render("case.extension_decided", language, event=event)
    word = {"zh": "未获批准", "en": "rejected"}[language]
    for content in parts(rendered).values():
        assert TICKET in content
    for content in (rendered.text, rendered.html):
        assert word in content
        assert "2026-12-05 18:00" in content
        assert "2026-12-10" not in content


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_redispatch_renders_as_a_dispatch(language):
    event = {
        "ticket_id": TICKET,
        "at": "2026-11-26T11:00:00+08:00",
        "assignment": {**ASSIGNMENT, "unit": "北京热力集团", "post": "客服调度岗", "co_handlers": []},
        "by": "赵六",
        "deadlines": {"acknowledge": {"due_at": "2026-11-26T12:00:00+08:00", "state": "pending"}},
        "type": "jiesu.case.redispatched",
    }
    rendered = render("case.dispatched", language, event=event)
    for fact in ("北京热力集团", "2026-11-26 12:00", TICKET):
        assert fact in rendered.text
        assert fact in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_escalation_to_the_center_names_the_level_and_the_target(language):
    event = event_for("case.escalated", level=3, target="center:supervision_order", stage="contact")
    rendered = render("case.escalated", language, event=event)
    expected = {"zh": ["第3级", "市民热线服务中心督办"], "en": ["level 3", "supervision order"]}[language]
    for fact in expected:
        assert fact in rendered.text
        assert fact in rendered.html


def test_the_digest_text_names_the_first_overdue_tickets():
    row = digest_figures()["overdue"][0]
    rows = [{**row, "ticket_id": f"BJ12345-20261120-{n:05d}"} for n in range(1, 8)]
    rendered = render("digest", "zh", digest=digest_figures(overdue=rows))
    assert "超期未办7件（BJ12345-20261120-00001、" in rendered.text
    assert "BJ12345-20261120-00005等）" in rendered.text
    assert "BJ12345-20261120-00006" not in rendered.text
    assert "BJ12345-20261120-00007" in rendered.html


def test_an_empty_digest_still_says_so():
    figures = digest_figures(overdue=[], escalations=[], volume=[], rates=[])
    rendered = render("digest", "zh", digest=figures)
    assert "超期未办0件" in rendered.text
    assert "无。" in rendered.html


@pytest.mark.parametrize(
    ("kind", "language", "fields", "problem"),
    [
        ("case.received", "zh", {}, "unknown kind"),
        ("case.dispatched", "fr", {}, "unknown language"),
        ("case.dispatched", "zh", {"case": None}, "needs the case"),
        ("digest", "zh", {"digest": None}, "needs its figures"),
    ],
)
def test_what_cannot_be_rendered_is_refused(kind, language, fields, problem):
    arguments: dict[str, Any] = {"case": snapshot(), "event": {}, "recipient": "李四", "digest": None}
    with pytest.raises(ValueError, match=problem):
        Renderer().render(kind, language, **{**arguments, **fields})


def test_an_event_of_another_case_is_refused():
    with pytest.raises(ValueError, match="for case"):
        render("sla.warning", event=event_for("sla.warning", ticket_id=REPEAT))


def test_an_acknowledge_reminder_is_a_warning_of_the_acknowledge_stage():
    with pytest.raises(ValueError, match="acknowledge"):
        render("case.acknowledge_reminder", event=event_for("case.acknowledge_reminder", stage="reply"))


# ---- strict templates and operator overrides -----------------------------------------------------


def write(folder: Path, name: str, content: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def test_a_template_that_uses_a_missing_field_fails(tmp_path):
    write(tmp_path, "zh/case.dispatched.text.j2", "工单{{ case.ticket_id }}：{{ case.nonexistent }}")
    with pytest.raises(jinja2.UndefinedError):
        render("case.dispatched", renderer=Renderer(tmp_path))


@pytest.mark.parametrize("field", ["requester_name", "requester_phone"])
def test_the_raw_requester_is_not_in_the_context(tmp_path, field):
    write(tmp_path, "zh/sla.warning.html.j2", f"{{{{ case.{field} }}}}")
    with pytest.raises(jinja2.UndefinedError):
        render("sla.warning", renderer=Renderer(tmp_path))


def test_a_missing_event_field_fails():
    event = event_for("case.escalated")
    del event["level"]
    with pytest.raises(jinja2.UndefinedError):
        render("case.escalated", event=event)


def test_an_operator_override_wins_over_the_packaged_template(tmp_path):
    write(tmp_path, "zh/case.dispatched.subject.j2", "【朝阳12345】新工单{{ case.ticket_id }}")
    write(tmp_path, "en/case.dispatched.text.j2", "Chaoyang: case {{ case.ticket_id }}")
    renderer = Renderer(tmp_path)
    zh = render("case.dispatched", "zh", renderer=renderer)
    assert zh.subject == f"【朝阳12345】新工单{TICKET}"
    assert zh.text == render("case.dispatched", "zh").text  # the parts not overridden stay packaged
    assert render("case.dispatched", "en", renderer=renderer).text == f"Chaoyang: case {TICKET}"


def test_an_operator_folder_must_exist(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        Renderer(tmp_path / "missing")


def test_a_broken_override_fails_the_check(tmp_path):
    write(tmp_path, "en/digest.html.j2", "{% if digest.day %}no end")
    with pytest.raises(jinja2.TemplateSyntaxError):
        Renderer(tmp_path).check()


# ---- the requester -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_the_requester_is_always_masked(kind, language):
    rendered = render(kind, language)
    for part, content in parts(rendered).items():
        assert PHONE not in content, part
        assert NAME not in content, part
    if kind != "digest":
        assert MASKED_PHONE in rendered.html
        assert MASKED_NAME in rendered.html
    if kind == "case.dispatched":
        assert f"{MASKED_NAME} {MASKED_PHONE}" in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_confidential_case_omits_the_requester_entirely(kind, language):
    rendered = render(kind, language, case=snapshot(confidential=True))
    for part, content in parts(rendered).items():
        for shown in (PHONE, NAME, MASKED_PHONE, MASKED_NAME, "5678"):
            assert shown not in content, (part, shown)


def test_a_requester_who_left_no_name_shows_the_masked_phone_only():
    rendered = render("case.dispatched", case=snapshot(requester_name=None))
    assert f"诉求人：{MASKED_PHONE}。" in rendered.text


# ---- free text -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_short_text_cuts_the_description_the_e_mail_carries_it_whole(language):
    description = "".join(f"第{n}段：楼道灯不亮，老人夜间上下楼不便，多次找物业未解决。" for n in range(1, 8))
    limit = 40
    rendered = render(
        "case.dispatched", language, Renderer(short_limit=limit), snapshot(description=description)
    )
    assert description[: limit - 1] + "…" in rendered.text
    assert description[:limit] not in rendered.text
    assert description in rendered.html
    linked = render(
        "case.linked",
        language,
        Renderer(short_limit=limit),
        event=event_for("case.linked", description=description),
    )
    assert description[: limit - 1] + "…" in linked.text
    assert description in linked.html


def test_a_description_within_the_limit_is_not_cut():
    rendered = render("case.acknowledge_reminder", case=snapshot(description="暖气不热"))
    assert rendered.text.endswith("诉求：暖气不热")


def injected(kind: str) -> dict[str, Any]:
    """The event with an injection in every free text it carries."""
    fields = {
        "case.returned": {"reason": INJECTION, "note": INJECTION},
        "case.extension_requested": {"reason": INJECTION, "note": INJECTION},
        "case.extension_decided": {"note": INJECTION},
        "case.pause_requested": {"reason": INJECTION, "note": INJECTION},
        "case.reopened": {"reason": INJECTION},
        "case.linked": {"description": INJECTION, "why": INJECTION},
        "case.whistled": {"ask": INJECTION},
        "case.merged": {"reason": INJECTION},
        "case.unmerged": {"reason": INJECTION},
    }
    return event_for(kind, **fields.get(kind, {}))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_the_html_escapes_what_comes_from_outside(kind, language):
    case = snapshot(description=INJECTION, address=INJECTION, category_name="<b>供暖</b>")
    rows = [{**digest_figures()["overdue"][0], "unit": INJECTION}]
    rendered = render(kind, language, case=case, event=injected(kind), digest=digest_figures(overdue=rows))
    assert "<script>" not in rendered.html
    assert "<b>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "{{7*7}}" in rendered.html
    assert "49" not in rendered.html
    for content in (rendered.subject, rendered.text):
        assert "49" not in content


# ---- Beijing time --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_times_are_shown_in_beijing_time_even_from_utc(language):
    utc_due = "2026-11-26T03:00:00Z"  # 11:00 in Beijing
    case = snapshot(reply_due=datetime(2026, 12, 4, 16, 0, tzinfo=UTC))  # 2026-12-05 00:00 in Beijing
    rendered = render("sla.warning", language, case=case, event=event_for("sla.warning", due_at=utc_due))
    for content in parts(rendered).values():
        assert "2026-11-26 11:00" in content
        assert "03:00" not in content
    assert "2026-12-05 00:00" in rendered.html
    deadlines = {"acknowledge": {"due_at": datetime(2026, 11, 26, 2, 30, tzinfo=UTC), "state": "pending"}}
    dispatched = render("case.dispatched", language, event=event_for("case.dispatched", deadlines=deadlines))
    assert "2026-11-26 10:30" in dispatched.text


def test_a_moment_without_an_offset_is_refused():
    with pytest.raises(ValueError, match="without an offset"):
        beijing(datetime(2026, 11, 26, 11, 0))
    with pytest.raises(ValueError, match="without an offset"):
        render("sla.warning", event=event_for("sla.warning", due_at="2026-11-26T11:00:00"))
