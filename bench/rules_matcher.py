"""Rules benchmark: the compiled matcher at 500, 5,000 and 50,000 rules vs rule-engine; the classifier.

Measures, in one run, on one core (single thread):

- `rules.matcher.Matcher.match` over generated catalogs (seeded: category prefix + area → unit, some with
  kind/urgency/channel/group/keyword/hour/working-day conditions, catch-alls at the end) and generated
  requests (the real category tree and Beijing gazetteer of config/catalog): decisions/s and µs per decision;
- the baseline: the same catalogs translated to `rule-engine` expressions, compiled once and evaluated in
  catalog order until the first match; it must pick the same rule as the matcher for every request compared;
- `rules.classifier.Classifier.propose` with 5,000 keywords over ~20 MB of Chinese descriptions: MB/s.

    .venv/bin/python -m bench.rules_matcher [--requests 200000] [--sizes 500,5000,50000]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import time as clock
from pathlib import Path
from typing import Any

import ahocorasick
import rule_engine
from rule_engine import DataType

from rules import schema
from rules.build import areas_of, categories_of
from rules.catalog import (
    Action,
    Area,
    AreaLevel,
    Category,
    Conditions,
    Handling,
    Keywords,
    Rule,
    Target,
)
from rules.classifier import Classifier
from rules.loader import Problem, parse
from rules.matcher import Facts, Matcher

CATALOG = Path(__file__).resolve().parent.parent / "config" / "catalog"
SEED = 12345
BATCH = 1_000  # calls per timed batch: perf_counter_ns around each batch, not each call

KINDS = ("complaint", "help", "inquiry", "report", "suggestion", "praise")
KIND_WEIGHTS = (45, 20, 15, 10, 7, 3)
URGENCIES = ("emergency", "urgent", "general", "complex")
CHANNELS = ("phone", "wechat", "app", "web", "media")
CHANNEL_WEIGHTS = (70, 10, 10, 7, 3)
GROUPS = ("elderly", "disabled", "veteran", "minor", "pregnant", "repeat_caller", "deputy")
HOURS = (
    (clock(8, 30), clock(17, 30)),
    (clock(17, 30), clock(8, 30)),  # wraps past midnight
    (clock(22, 0), clock(6, 0)),
    (clock(9, 0), clock(12, 0)),
    (clock(0, 0), clock.max),  # 00:00-24:00
)
EXCLUDED = ("咨询", "表扬", "感谢", "建议", "已解决", "撤单")
DEPARTMENTS = (
    "heating",
    "housing",
    "ecology",
    "urban-management",
    "transport",
    "water",
    "market-regulation",
    "human-resources",
    "education",
    "health",
    "public-security",
    "civil-affairs",
    "planning",
)
ENTERPRISES = ("beijing-gas", "beijing-water", "sgcc-beijing", "beijing-heat", "beijing-drainage")
HOTLINE_TEXT = (
    "噪音扰民 装修扰民 施工扰民 广场舞 违章停车 占道经营 乱停乱放 私搭乱建 "
    "违法建设 群租房 拖欠工资 欠薪 退费 预付卡 健身房跑路 垃圾清运 垃圾分类 "
    "垃圾满溢 路灯不亮 井盖丢失 井盖破损 道路破损 坑洼 积水 下水道反味 停水 "
    "停电 水压低 燃气泄漏 燃气味 煤气罐 共享单车 电动车充电 飞线充电 楼道堆物 "
    "消防通道 堵塞消防通道 油烟扰民 烧烤 露天烧烤 黑车 出租车拒载 公交车 地铁 "
    "绕路 加塞 红绿灯 斑马线 交通信号灯 校外培训 学位 入学 幼儿园 医保 社保 "
    "养老金 低保 残疾人补贴 高龄津贴 公租房 廉租房 拆迁 腾退 物业费 供暖费 "
    "房产证 不动产登记 网签 二手房 中介 租房押金 黑中介 食品安全 过期食品 "
    "无证经营 价格欺诈 虚假宣传 退换货 快递丢失 外卖 流浪狗 遛狗不拴绳 "
    "犬只扰民 树木倒伏 修剪树木 绿地 公园 公厕 厕所 漏雨 墙皮脱落 外墙保温 "
    "老旧小区改造 加装电梯 疫苗 医院挂号 医疗纠纷 救护车 派出所 报警 诈骗 "
    "扰民 深夜 凌晨 异味 臭味 污水 排污 扬尘 渣土车"
)
HOTLINE_WORDS = tuple(HOTLINE_TEXT.split())
FILLERS = (
    "已经反映过多次",
    "一直没有人处理",
    "对生活造成很大影响",
    "周边居民意见很大",
    "之前打过电话",
    "物业说不归他们管",
    "社区让找街道",
    "家里有老人和孩子",
    "晚上根本睡不着",
    "来电人情绪比较激动",
    "问题持续了一个多月",
    "希望尽快派人来看看",
    "要求相关部门给个说法",
    "之前的工单没有解决",
    "现场情况比较严重",
    "附近很多人都有这个问题",
    "打了好几次电话都没人接",
    "不知道应该找哪个部门",
    "来电人表示不满意",
    "存在安全隐患",
)
ASKS = ("希望尽快处理", "要求相关部门核实处理", "请相关部门尽快解决", "希望给予答复", "要求上门查看")
TEMPLATES = (
    "来电人反映：{place}{kw}，{extra}，{ask}。",
    "市民来电称{place}{kw}，{kw2}，{ask}。",
    "{place}居民反映{kw}问题，{extra}，{ask}。",
    "来电人咨询{kw}相关事宜，{ask}。",
    "{place}附近{kw}，{extra}，来电人{ask}。",
    "来电人表示{place}{kw}，{kw2}，已经{days}天了，{extra}，{ask}。",
)
GENERIC = ("有问题", "情况反映", "环境脏乱", "设施损坏")
# Common characters, for synthetic keywords and noise.
HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定"
    "行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其"
    "些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建"
    "月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接"
    "知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器"
)


@dataclass(frozen=True)
class Tree:
    """What requests and rules are drawn from: the category tree and the gazetteer."""

    categories: dict[str, Category]
    source: str
    districts: list[Area]
    streets: list[Area]
    communities: list[Area]
    areas: dict[str, Area]

    def level(self, digits: int) -> list[str]:
        return [code for code in self.categories if len(code) == digits]

    def keywords_under(self, code: str) -> tuple[str, ...]:
        words = dict.fromkeys(
            word
            for key, category in self.categories.items()
            if key.startswith(code)
            for word in category.keywords
        )
        return tuple(words)


def load_tree() -> Tree:
    problems: list[Problem] = []
    gazetteer = parse(CATALOG, "areas.yaml", schema.AreasFile, problems)
    if gazetteer is None:
        raise SystemExit("config/catalog/areas.yaml: " + "; ".join(str(problem) for problem in problems))
    areas = areas_of(gazetteer.model)
    tree = parse(CATALOG, "categories.yaml", schema.CategoriesFile, problems)
    categories = categories_of(tree.model.categories) if tree else {}
    leaves = [code for code in categories if len(code) == 6]
    if len(leaves) >= 36 and sum(bool(categories[code].keywords) for code in leaves) >= 0.9 * len(leaves):
        source = f"config/catalog/categories.yaml ({len(categories)} codes, {len(leaves)} leaves)"
    else:
        categories, source = synthetic_categories(), "synthetic 12 x 3 x 3 tree (categories.yaml unusable)"
    by_level = {level: [area for area in areas.values() if area.level is level] for level in AreaLevel}
    return Tree(
        categories,
        source,
        by_level[AreaLevel.DISTRICT],
        by_level[AreaLevel.STREET],
        by_level[AreaLevel.COMMUNITY],
        areas,
    )


def synthetic_word(rng: random.Random) -> str:
    return "".join(rng.choices(HANZI, k=rng.choice((2, 2, 3, 3, 4))))


def synthetic_categories() -> dict[str, Category]:
    rng = random.Random(SEED)
    words = iter(dict.fromkeys([*HOTLINE_WORDS, *(synthetic_word(rng) for _ in range(2_000))]))
    found: dict[str, Category] = {}
    for top in range(1, 13):
        code = f"{top:02d}"
        found[code] = Category(code, f"大类{top}", rng.choice(URGENCIES), Handling.TERRITORIAL)
        for middle in range(1, 4):
            for leaf in range(1, 4):
                for child in (f"{code}{middle:02d}", f"{code}{middle:02d}{leaf:02d}"):
                    keywords = tuple(next(words) for _ in range(8)) if len(child) == 6 else ()
                    found.setdefault(child, Category(child, child, "general", Handling.TERRITORIAL, keywords))
    return found


# --- catalogs -----------------------------------------------------------------------------------------


def unit_for(rng: random.Random, category: str | None, area: Area | None) -> Action:
    department = DEPARTMENTS[int(category[:2]) % len(DEPARTMENTS)] if category else "center"
    if area is None:
        return Action(Target.UNIT, rng.choice((*ENTERPRISES, f"{department}-city")))
    if area.level is AreaLevel.DISTRICT:
        return Action(Target.UNIT, f"{department}-{area.code}")
    return Action(
        Target.UNIT,
        f"street-{area.code[:9]}",
        co_handlers=(f"{department}-{area.code[:6]}",) * (rng.random() < 0.1),
    )


EXTRAS = ("kinds", "urgencies", "channels", "groups", "any", "all", "none", "hours", "working_day")
EXTRA_WEIGHTS = (25, 10, 10, 8, 20, 3, 10, 10, 7)
AREA_EXTRA_WEIGHTS = (30, 0, 5, 25, 25, 0, 0, 15, 0)  # an area-wide rule is narrowed by who, what or when


def extra_conditions(
    rng: random.Random, tree: Tree, category: str | None, count: int, weights: Sequence[int] = EXTRA_WEIGHTS
) -> dict[str, Any]:
    words = tree.keywords_under(category) if category else ()
    extra: dict[str, Any] = {}
    for name in set(rng.choices(EXTRAS, weights, k=count)):
        if name == "kinds":
            extra["kinds"] = tuple(rng.sample(KINDS[:4], rng.choice((1, 1, 2))))
        elif name == "urgencies":
            extra["urgencies"] = tuple(rng.sample(URGENCIES, rng.choice((1, 2))))
        elif name == "channels":
            extra["channels"] = tuple(rng.sample(CHANNELS, rng.choice((1, 2))))
        elif name == "groups":
            extra["groups"] = tuple(rng.sample(GROUPS, rng.choice((1, 2))))
        elif name in ("any", "all"):
            pool = words or HOTLINE_WORDS
            extra[name] = tuple(
                rng.sample(pool, min(len(pool), rng.choice((1, 2, 3) if name == "any" else (1, 2))))
            )
        elif name == "none":
            extra["none"] = tuple(rng.sample(EXCLUDED, rng.choice((1, 2))))
        elif name == "hours":
            extra["hours"] = rng.choice(HOURS)
        else:
            extra["working_day"] = rng.random() < 0.6
    return extra


def random_rule(rng: random.Random, tree: Tree, rule_id: str, codes: dict[int, list[str]]) -> Rule:
    def category() -> str:
        return rng.choice(codes[rng.choices((2, 4, 6), (15, 35, 50))[0]])

    def area() -> Area:
        return rng.choice(tree.streets) if rng.random() < 0.7 else rng.choice(tree.districts)

    shape = rng.random()
    categories: tuple[str, ...] = ()
    areas: tuple[Area, ...] = ()
    extras = 0
    if shape < 0.72:  # category prefix + street or district: the bulk of a real catalog
        categories, areas, priority = (category(),), (area(),), rng.randrange(100, 1_000, 10)
        extras = int(rng.random() < 0.12)
    elif shape < 0.82:  # the same, narrowed by one or two more conditions, usually more urgent
        categories, areas, priority = (category(),), (area(),), rng.randrange(10, 500, 10)
        extras = rng.choice((1, 1, 2))
    elif shape < 0.90:  # a citywide department or enterprise
        categories, priority = (category(),), rng.randrange(300, 1_000, 10)
        extras = int(rng.random() < 0.5)
    elif shape < 0.92:  # an area with a special arrangement
        areas, priority, extras = (area(),), rng.randrange(50, 600, 10), 1
    elif shape < 0.95:  # one community
        categories, areas, priority = (
            (category(),),
            (rng.choice(tree.communities),),
            rng.randrange(10, 400, 10),
        )
    else:  # several codes at once
        categories = tuple(dict.fromkeys(category() for _ in range(rng.choice((1, 2, 3)))))
        areas = tuple(dict.fromkeys(area() for _ in range(rng.choice((1, 2, 3)))))
        priority = rng.randrange(100, 1_000, 10)
    weights = EXTRA_WEIGHTS if categories else AREA_EXTRA_WEIGHTS
    extra = (
        extra_conditions(rng, tree, categories[0] if categories else None, extras, weights) if extras else {}
    )
    when = Conditions(
        categories=categories,
        areas=tuple(a.code for a in areas),
        kinds=extra.get("kinds", ()),
        urgencies=extra.get("urgencies", ()),
        channels=extra.get("channels", ()),
        groups=extra.get("groups", ()),
        keywords=Keywords(extra.get("any", ()), extra.get("all", ()), extra.get("none", ())),
        working_day=extra.get("working_day"),
        hours=extra.get("hours"),
    )
    action = unit_for(rng, categories[0] if categories else None, areas[0] if areas else None)
    return Rule(rule_id, priority, when, action, source=f"bench:{rule_id}")


def make_rules(count: int, tree: Tree, seed: int) -> tuple[Rule, ...]:
    """`count` rules in catalog order: (priority, most specific first), as `rules.build` sorts them."""
    rng = random.Random(seed * 1_000_003 + count)
    codes = {digits: tree.level(digits) for digits in (2, 4, 6)}
    closing = [
        Rule(
            f"catch-{top}",
            990_000,
            Conditions(categories=(top,)),
            Action(Target.STREET_OF_LOCATION)
            if tree.categories[top].handling is Handling.TERRITORIAL
            else Action(Target.DISTRICT_OF_LOCATION),
        )
        for top in codes[2]
    ]
    closing.append(Rule("catch-all", 1_000_000, Conditions(), Action(Target.QUEUE, queue="manual-dispatch")))
    made = [random_rule(rng, tree, f"r{number:06d}", codes) for number in range(count - len(closing))]
    return tuple(sorted(made + closing, key=lambda rule: (rule.priority, -rule.when.specificity())))


# --- requests -----------------------------------------------------------------------------------------


def make_requests(count: int, tree: Tree, seed: int) -> list[Facts]:
    rng = random.Random(seed)
    leaves = tree.level(6)
    leaf_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(leaves))]  # a few categories take most cases
    rng.shuffle(leaves)
    keywords = {code: tree.keywords_under(code) or GENERIC for code in leaves}
    hour_weights = [1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 7, 8, 9, 9, 8, 7, 6, 6, 5, 4, 3, 2]
    chosen_leaves = rng.choices(leaves, leaf_weights, k=count)
    chosen_kinds = rng.choices(KINDS, KIND_WEIGHTS, k=count)
    chosen_channels = rng.choices(CHANNELS, CHANNEL_WEIGHTS, k=count)
    chosen_hours = rng.choices(range(24), hour_weights, k=count)
    requests = []
    for number in range(count):
        leaf = chosen_leaves[number]
        community = rng.choice(tree.communities)
        street = tree.areas[community.parent or ""]
        district = tree.areas[street.parent or ""]
        known = rng.random()
        if known < 0.90:
            areas: tuple[str, ...] = (district.code, street.code, community.code)
        elif known < 0.96:
            areas = (district.code, street.code)
        elif known < 0.99:
            areas = (district.code,)
        else:
            areas = ()
        words = keywords[leaf]
        found = rng.random()
        kw = rng.choice(words) if found < 0.8 else rng.choice(GENERIC)
        kw2 = rng.choice(words) if found < 0.5 else rng.choice(FILLERS)
        if rng.random() < 0.05:
            kw2 = rng.choice(EXCLUDED)
        description = rng.choice(TEMPLATES).format(
            place=f"{street.name}{community.name}{rng.randint(1, 30)}号楼",
            kw=kw,
            kw2=kw2,
            extra=rng.choice(FILLERS),
            ask=rng.choice(ASKS),
            days=rng.randint(2, 40),
        )
        requests.append(
            Facts(
                category=leaf if rng.random() < 0.97 else None,
                areas=areas,
                kind=chosen_kinds[number],
                urgency=tree.categories[leaf].urgency if rng.random() < 0.8 else rng.choice(URGENCIES),
                channel=chosen_channels[number],
                groups=frozenset(rng.sample(GROUPS, rng.choice((1, 1, 2))))
                if rng.random() < 0.15
                else frozenset(),
                description=description,
                working_day=rng.random() < 0.7,
                local_time=clock(chosen_hours[number], rng.randrange(60), rng.randrange(60)),
            )
        )
    return requests


# --- measuring ----------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


@dataclass(frozen=True)
class Timing:
    calls: int
    per_second: float
    p50_us: float  # of the mean per call within each batch of BATCH calls
    p99_us: float
    single_p50_us: float  # calls timed one by one (includes ~0.1 µs of timer)
    single_p99_us: float


def time_matcher(match: Callable[[Facts], object], requests: Sequence[Facts], calls: int) -> Timing:
    """`calls` decisions in batches of BATCH (throughput, batch percentiles), then 20,000 timed one by one."""
    batches: list[int] = []
    count = len(requests) - len(requests) % BATCH
    now = time.perf_counter_ns
    for number in range(calls // BATCH):
        start = number * BATCH % count
        chunk = requests[start : start + BATCH]
        began = now()
        for facts in chunk:
            match(facts)
        batches.append(now() - began)
    singles: list[int] = []
    for facts in requests[:20_000]:
        began = now()
        match(facts)
        singles.append(now() - began)
    per_call = [elapsed / BATCH / 1_000 for elapsed in batches]
    return Timing(
        len(batches) * BATCH,
        len(batches) * BATCH / (sum(batches) / 1e9),
        percentile(per_call, 50),
        percentile(per_call, 99),
        percentile([elapsed / 1_000 for elapsed in singles], 50),
        percentile([elapsed / 1_000 for elapsed in singles], 99),
    )


# --- the rule-engine baseline -------------------------------------------------------------------------

BASELINE_TYPES = {
    "category": DataType.STRING,
    "areas": DataType.ARRAY(DataType.STRING),
    "kind": DataType.STRING,
    "urgency": DataType.STRING,
    "channel": DataType.STRING,
    "groups": DataType.SET(DataType.STRING),
    "description": DataType.STRING,
    "working_day": DataType.BOOLEAN,
    "seconds": DataType.FLOAT,  # local time, seconds since midnight
}


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def seconds_of(moment: clock) -> int:
    """Whole seconds since midnight; `24:00` (time.max) is 86400, so `[start, 24:00)` keeps 23:59:59."""
    return 86_400 if moment == clock.max else moment.hour * 3_600 + moment.minute * 60 + moment.second


def either(terms: Sequence[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " or ".join(terms) + ")"


def expression_of(rule: Rule) -> str:
    """The rule's conditions as a rule-engine expression over `baseline_facts`."""
    when = rule.when
    if when.expression:
        raise ValueError(f"{rule.id}: Jinja2 expressions have no rule-engine translation here")
    terms = []
    if when.categories:
        terms.append(f"category =~ {quoted('^(?:' + '|'.join(when.categories) + ')')}")
    if when.areas:
        terms.append(either([f"{quoted(code)} in areas" for code in when.areas]))
    for name, allowed in (("kind", when.kinds), ("urgency", when.urgencies), ("channel", when.channels)):
        if allowed:
            terms.append(f"{name} in [{', '.join(quoted(value) for value in allowed)}]")
    if when.groups:
        terms.append(either([f"{quoted(group)} in groups" for group in when.groups]))
    if when.keywords.any:
        terms.append(either([f"{quoted(word)} in description" for word in when.keywords.any]))
    terms += [f"{quoted(word)} in description" for word in when.keywords.all]
    if when.keywords.none:
        terms.append("not " + either([f"{quoted(word)} in description" for word in when.keywords.none]))
    if when.working_day is not None:
        terms.append("working_day" if when.working_day else "not working_day")
    if when.hours:
        start, end = (seconds_of(moment) for moment in when.hours)
        terms.append(
            f"(seconds >= {start} and seconds < {end})"
            if start < end
            else f"(seconds >= {start} or seconds < {end})"
        )
    return " and ".join(terms) or "true"


def baseline_facts(facts: Facts) -> dict[str, Any]:
    moment = facts.local_time
    return {
        "category": facts.category or "",
        "areas": facts.areas,
        "kind": facts.kind,
        "urgency": facts.urgency,
        "channel": facts.channel,
        "groups": set(facts.groups),
        "description": facts.description,
        "working_day": facts.working_day,
        "seconds": moment.hour * 3_600 + moment.minute * 60 + moment.second,
    }


def named(rule: Rule | None, position: dict[str, int]) -> str:
    return f"{rule.id} (#{position[rule.id]} in catalog order)" if rule else "no rule"


class Baseline:
    """What a Python team would write: each rule compiled once, evaluated in order until one matches."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        context = rule_engine.Context(type_resolver=BASELINE_TYPES)
        self.compiled = [(rule_engine.Rule(expression_of(rule), context=context), rule) for rule in rules]

    def match(self, facts: Facts) -> Rule | None:
        data = baseline_facts(facts)
        for compiled, rule in self.compiled:
            if compiled.matches(data):
                return rule
        return None


@dataclass
class BaselineResult:
    rules: int
    compile_s: float
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    mismatches: int


def run_baseline(
    rules: tuple[Rule, ...], matcher: Matcher, requests: Sequence[Facts], sample: int, budget_s: float
) -> BaselineResult:
    """Compile, then compare and time up to `sample` requests (fewer, not under 200, to fit `budget_s`)."""
    began = time.perf_counter()
    baseline = Baseline(rules)
    compile_s = time.perf_counter() - began
    position = {rule.id: number for number, rule in enumerate(rules)}
    pilot = requests[-20:]  # warm-up, and the cost per request, from requests outside the sample
    began = time.perf_counter()
    for facts in pilot:
        baseline.match(facts)
    each_s = (time.perf_counter() - began) / len(pilot)
    fits = int((budget_s - compile_s) / each_s)
    if fits < sample:
        sample = max(200, fits // 100 * 100)
        print(
            f"{len(rules):>6,} rules: rule-engine at ~{each_s * 1e3:.0f} ms/request: {sample:,} requests fit"
        )
    elapsed: list[int] = []
    mismatches = []
    for facts in requests[:sample]:
        began_ns = time.perf_counter_ns()
        theirs = baseline.match(facts)
        elapsed.append(time.perf_counter_ns() - began_ns)
        ours = matcher.match(facts)
        if ours is not theirs:
            mismatches.append((facts, ours, theirs))
    for facts, ours, theirs in mismatches[:10]:
        reference, _ = matcher.explain(facts)  # walks every rule in order: the truth by definition
        verdict = (
            "the matcher's index skipped a rule explain() finds"
            if reference is theirs
            else "translation differs"
            if reference is ours
            else "all three differ"
        )
        print(
            f"  MISMATCH at {len(rules)} rules: ours {named(ours, position)}, "
            f"rule-engine {named(theirs, position)}: {verdict}"
        )
        print(f"    facts: {facts}")
        for rule in (ours, theirs):
            if rule:
                print(f"    {rule.id}: {rule.when}\n      rule-engine: {expression_of(rule)}")
    return BaselineResult(
        len(rules),
        compile_s,
        len(elapsed),
        len(elapsed) / (sum(elapsed) / 1e9),
        percentile([ns / 1e6 for ns in elapsed], 50),
        percentile([ns / 1e6 for ns in elapsed], 99),
        len(mismatches),
    )


# --- the classifier -----------------------------------------------------------------------------------


def classifier_keywords(tree: Tree, total: int, categories: int, seed: int) -> dict[str, tuple[str, ...]]:
    """`total` distinct keywords over `categories` categories: the tree's, common hotline words, made up."""
    rng = random.Random(seed)
    leaves = tree.level(6)
    codes = (
        leaves[:categories] if len(leaves) >= categories else [f"{n:06d}" for n in range(1, categories + 1)]
    )
    owned: dict[str, list[str]] = {
        code: list(tree.categories[code].keywords) if code in tree.categories else [] for code in codes
    }
    seen = {word for words in owned.values() for word in words}
    spare = [word for code in leaves[categories:] for word in tree.categories[code].keywords]
    spare += HOTLINE_WORDS
    while len(seen) + len(spare) < total * 2:
        spare.append(synthetic_word(rng))
    for word in spare:
        if len(seen) >= total:
            break
        if word not in seen:
            seen.add(word)
            owned[rng.choice(codes)].append(word)
    return {code: tuple(words) for code, words in owned.items()}


def classifier_texts(
    tree: Tree, keywords: dict[str, tuple[str, ...]], megabytes: float, seed: int
) -> tuple[list[str], int]:
    rng = random.Random(seed)
    codes = list(keywords)
    texts: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        community = rng.choice(tree.communities)
        street = tree.areas[community.parent or ""]
        words = keywords[rng.choice(codes)]
        roll = rng.random()
        if roll < 0.7:
            found = rng.sample(words, min(len(words), rng.choice((1, 2, 2, 3))))
        elif roll < 0.85:
            found = [rng.choice(words), rng.choice(keywords[rng.choice(codes)])]
        else:
            found = []
        parts = [f"来电人反映：{street.name}{community.name}{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元"]
        for word in found:
            parts += [word, rng.choice(FILLERS)]
        parts += rng.sample(FILLERS, rng.randint(1, 4))
        if rng.random() < 0.3:
            parts.append("".join(rng.choices(HANZI, k=rng.randint(5, 40))))
        parts.append(rng.choice(ASKS))
        text = "，".join(parts) + "。"
        texts.append(text)
        size += len(text.encode())
    return texts, size


def bench_classifier(tree: Tree, seed: int, megabytes: float) -> dict[str, float]:
    keywords = classifier_keywords(tree, 5_000, 80, seed)
    texts, size = classifier_texts(tree, keywords, megabytes, seed + 1)
    began = time.perf_counter()
    classifier = Classifier(keywords)
    build_s = time.perf_counter() - began
    automaton = ahocorasick.Automaton()  # the floor: scanning alone, no scoring
    for word in {word for words in keywords.values() for word in words}:
        automaton.add_word(word, word)
    automaton.make_automaton()
    propose = classifier.propose
    for text in texts[:2_000]:
        propose(text)
    began = time.perf_counter()
    proposed = sum(propose(text).category is not None for text in texts)
    propose_s = time.perf_counter() - began
    began = time.perf_counter()
    for text in texts:
        for _ in automaton.iter(text):
            pass
    scan_s = time.perf_counter() - began
    return {
        "keywords": sum(len(words) for words in keywords.values()),
        "categories": len(keywords),
        "texts": len(texts),
        "megabytes": size / 1e6,
        "build_s": build_s,
        "mb_per_s": size / 1e6 / propose_s,
        "per_second": len(texts) / propose_s,
        "us_each": propose_s / len(texts) * 1e6,
        "with_category": proposed / len(texts),
        "scan_mb_per_s": size / 1e6 / scan_s,
    }


# --- main ---------------------------------------------------------------------------------------------


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "?",
    )
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="500,5000,50000", help="catalog sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=200_000, help="matcher decisions timed per size")
    parser.add_argument("--pool", type=int, default=50_000, help="distinct requests generated (cycled)")
    parser.add_argument("--check", type=int, default=1_000, help="requests run through rule-engine too")
    parser.add_argument(
        "--baseline-budget", type=float, default=60.0, help="seconds allowed per rule-engine baseline"
    )
    parser.add_argument("--matcher-budget", type=float, default=20.0, help="seconds of timed calls per size")
    parser.add_argument("--classifier-mb", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    started = time.perf_counter()
    tree = load_tree()
    requests = make_requests(args.pool, tree, args.seed)
    print(f"machine: {machine()}")
    print(f"categories: {tree.source}; areas: {len(tree.districts)} districts, {len(tree.streets)} streets,")
    print(
        f"  {len(tree.communities)} communities; {len(requests):,} distinct requests, cycled; single thread"
    )

    rows: list[tuple[int, float, Timing]] = []
    baselines: dict[int, BaselineResult | str] = {}
    compile_per_rule_s: float | None = None  # to skip a baseline that could not even compile in time
    for size in sizes:
        rules = make_rules(size, tree, args.seed)
        began = time.perf_counter()
        matcher = Matcher(rules)
        build_s = time.perf_counter() - began
        gc.collect()
        gc.freeze()  # the catalog and the requests are long-lived: keep them out of the collector's way
        match = matcher.match
        for facts in requests[:5_000]:  # warm-up, and a first estimate of the cost per call
            match(facts)
        began = time.perf_counter()
        for facts in requests[5_000:10_000]:
            match(facts)
        estimate = (time.perf_counter() - began) / 5_000
        calls = min(args.requests, max(20_000, int(args.matcher_budget / estimate) // BATCH * BATCH))
        timing = time_matcher(match, requests, calls)
        rows.append((size, build_s, timing))
        print(
            f"{size:>6,} rules: matcher {timing.per_second:>9,.0f} decisions/s over {timing.calls:,} "
            f"(p50 {timing.p50_us:.1f} µs, p99 {timing.p99_us:.1f} µs; built in {build_s:.2f} s)"
        )
        if compile_per_rule_s is not None and size * compile_per_rule_s > args.baseline_budget:
            baselines[size] = f"skipped (compiling alone: ~{size * compile_per_rule_s:.0f} s)"
            print(f"{size:>6,} rules: rule-engine {baselines[size]}")
            gc.unfreeze()
            continue
        result = run_baseline(rules, matcher, requests, args.check, args.baseline_budget)
        baselines[size] = result
        compile_per_rule_s = result.compile_s / size
        print(
            f"{size:>6,} rules: rule-engine {result.per_second:>9,.1f} decisions/s over {result.requests:,} "
            f"(compiled in {result.compile_s:.1f} s); same rule: {result.requests - result.mismatches:,}/"
            f"{result.requests:,}"
        )
        del matcher, rules, match
        gc.unfreeze()

    classifier = bench_classifier(tree, args.seed, args.classifier_mb)
    total_s = time.perf_counter() - started
    failed = report(rows, baselines, classifier)
    print(f"\ntotal {total_s:.0f} s")
    if failed:
        raise SystemExit(
            f"FAILED: {failed} requests where the matcher and rule-engine picked different rules"
        )


def report(
    rows: list[tuple[int, float, Timing]],
    baselines: dict[int, BaselineResult | str],
    classifier: dict[str, float],
) -> int:
    """Print the table and the ratios; return the number of mismatches."""
    print()
    print(
        "| rules | matcher decisions/s | p50 µs | p99 µs | p99 µs, single calls | build s "
        "| rule-engine decisions/s | p50 ms | ours/rule-engine | same rule |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    failed = 0
    for size, build_s, timing in rows:
        baseline = baselines.get(size)
        if isinstance(baseline, BaselineResult):
            failed += baseline.mismatches
            theirs = (
                f"{baseline.per_second:,.1f} | {baseline.p50_ms:,.2f} "
                f"| {timing.per_second / baseline.per_second:,.0f}x "
                f"| {baseline.requests - baseline.mismatches:,}/{baseline.requests:,}"
            )
        else:
            theirs = f"{baseline or 'not run'} | | | "
        print(
            f"| {size:,} | {timing.per_second:,.0f} | {timing.p50_us:.1f} | {timing.p99_us:.1f} "
            f"| {timing.single_p99_us:.1f} | {build_s:.2f} | {theirs} |"
        )
    print()
    for (small, _, before), (large, _, after) in itertools.pairwise(rows):
        print(
            f"rules x{large / small:g} ({small:,} -> {large:,}): time per decision "
            f"x{before.per_second / after.per_second:.2f}"
        )
    for size, _, timing in rows:
        if size == 5_000:
            verdict = "met" if timing.per_second >= 100_000 else "MISSED"
            print(f"target >= 100,000 decisions/s at 5,000 rules: {verdict} ({timing.per_second:,.0f})")
            baseline = baselines.get(size)
            if isinstance(baseline, BaselineResult):
                ratio = timing.per_second / baseline.per_second
                verdict = "met" if ratio >= 20 else "MISSED"
                print(f"target >= 20x rule-engine at 5,000 rules: {verdict} ({ratio:,.0f}x)")
    print(
        f"\nclassifier: {classifier['keywords']:,.0f} keywords over "
        f"{classifier['categories']:.0f} categories, "
        f"{classifier['texts']:,.0f} descriptions, {classifier['megabytes']:.1f} MB UTF-8 "
        f"(built in {classifier['build_s']:.2f} s)"
    )
    print(
        f"  propose: {classifier['mb_per_s']:.1f} MB/s, {classifier['per_second']:,.0f} decisions/s "
        f"({classifier['us_each']:.1f} µs each, {classifier['with_category']:.0%} with a category); "
        f"automaton scan alone: {classifier['scan_mb_per_s']:.1f} MB/s"
    )
    return failed


if __name__ == "__main__":
    main()
