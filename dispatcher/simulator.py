"""A small simulated hotline feed: realistic Beijing requests, deterministic for a seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from dispatcher.contract.events import ComplaintReceived, Location, Requester

PLACES: list[tuple[str, str, str | None]] = [
    ("东城区", "东华门街道", "多福巷社区"),
    ("西城区", "什刹海街道", "兴华社区"),
    ("朝阳区", "望京街道", "花家地北里社区"),
    ("朝阳区", "三里屯街道", "幸福二村社区"),
    ("海淀区", "中关村街道", "科育社区"),
    ("丰台区", "方庄街道", None),
    ("石景山区", "八宝山街道", "鲁谷住宅社区"),
    ("通州区", "北苑街道", "西营前街社区"),
    ("昌平区", "回龙观街道", "龙跃苑社区"),
    ("大兴区", "亦庄镇", "亦庄村"),
]
MATTERS = [
    ("010101", "家里暖气不热，室温只有十五度，老人孩子受不了，请尽快派人检修。", "urgent"),
    ("020101", "小区物业长期不清理垃圾，楼道堆满杂物，存在消防隐患。", "general"),
    ("030101", "楼下商铺每天夜里十一点后还在装修施工，噪音很大，影响休息。", "general"),
    ("040101", "在超市买到过期食品，商家拒绝退换，要求市场监管部门处理。", "general"),
    ("050101", "小区门口长期有车辆违停，堵塞消防通道，救护车进不来。", "urgent"),
    ("070101", "在工地干活三个月，老板拖欠工资不给，多次讨要无果。", "complex"),
    ("090101", "整栋楼突然停水，没有任何通知，请自来水公司尽快恢复供水。", "urgent"),
    ("100101", "小区从早上开始停电，冰箱里的东西都坏了，请供电公司处理。", "urgent"),
    ("110101", "楼道里有明显的燃气味道，担心泄漏，请燃气公司马上来查看。", "emergency"),
    ("080101", "路边绿化带里堆放大量建筑垃圾，很久没人清运。", "general"),
]
SURNAMES = "王李张刘陈杨赵黄周吴"


def complaints(count: int, start: datetime, seed: int = 12345) -> Iterator[ComplaintReceived]:
    """`count` requests received one second apart from `start`."""
    rng = random.Random(seed)
    for number in range(count):
        district, street, community = rng.choice(PLACES)
        category, description, urgency = rng.choice(MATTERS)
        yield ComplaintReceived(
            ticket_id=f"SIM{start:%Y%m%d%H%M%S}-{number:06d}",
            received_at=start + timedelta(seconds=number),
            channel=rng.choice(["phone"] * 9 + ["wechat"]),
            kind=rng.choice(["complaint", "help", "report"]),
            description=description,
            # most requests are classified by the operator at intake; the rest go to the classifier
            category=category if rng.random() < 0.8 else None,
            urgency=urgency,
            location=Location(district=district, street=street, community=community),
            requester=Requester(
                name=rng.choice(SURNAMES) + rng.choice(["先生", "女士"]),
                phone=f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}",
                groups=["elderly"] if rng.random() < 0.1 else [],
            ),
        )
