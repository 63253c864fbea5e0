"""The business calendar: China's official working days, holidays and 调休 (weekend days that are worked).

Working days come from `chinesecalendar` (2004-2026). A year it does not cover falls back to
"Monday to Friday" and is reported by `covers()`, so callers can warn.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import chinese_calendar

BEIJING = ZoneInfo("Asia/Shanghai")


class ChineseCalendar:
    def covers(self, day: date) -> bool:
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_working_day(self, day: date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5
