"""The login limiter: failures per account and per address in a sliding window, the wait it answers,
what a success forgets, and that it forgets what is past."""

from __future__ import annotations

from datetime import timedelta

from jiesu.web.security import LoginLimiter
from tests.support.clock import NOW, Clock

WINDOW = timedelta(minutes=15)


def limiter(clock: Clock, max_keys: int = 100_000) -> LoginLimiter:
    return LoginLimiter(clock, per_account=5, per_address=20, window=WINDOW, max_keys=max_keys)


def test_the_fifth_failure_of_an_account_holds_it_until_the_oldest_leaves_the_window():
    clock = Clock()
    limits = limiter(clock)
    for minute in range(5):
        assert limits.wait("li", "10.0.0.1") == 0
        clock.now = NOW + timedelta(minutes=minute)
        limits.failed("li", "10.0.0.1")
    assert limits.wait("li", "10.0.0.2") == 11 * 60  # the account, from anywhere: the first failure + 15 min
    assert limits.wait("zhao", "10.0.0.1") == 0  # the address: 5 of 20
    clock.now = NOW + WINDOW
    assert limits.wait("li", "10.0.0.1") == 0  # the first one left: 4 in the window


def test_twenty_failures_from_one_address_hold_every_account_there():
    clock = Clock()
    limits = limiter(clock)
    for n in range(20):
        limits.failed(f"guess{n}", "10.0.0.9")
    assert limits.wait("li", "10.0.0.9") == 15 * 60
    assert limits.wait("li", "10.0.0.1") == 0


def test_a_success_forgets_the_accounts_failures_but_not_the_addresss():
    clock = Clock()
    limits = limiter(clock)
    for _ in range(4):
        limits.failed("li", "10.0.0.1")
    limits.succeeded("li")
    for _ in range(4):
        limits.failed("li", "10.0.0.1")
    assert limits.wait("li", "10.0.0.1") == 0  # 4 since the success, 8 from the address
    for n in range(12):
        limits.failed(f"other{n}", "10.0.0.1")
    assert limits.wait("li", "10.0.0.1") == 15 * 60


def test_a_wait_is_at_least_a_second_and_past_failures_are_dropped():
    clock = Clock()
    limits = limiter(clock, max_keys=50)
    for _ in range(5):
        limits.failed("li", "10.0.0.1")
    clock.now = NOW + WINDOW - timedelta(milliseconds=10)
    assert limits.wait("li", "10.0.0.1") == 1
    for n in range(60):
        limits.failed(f"spray{n}", f"10.1.0.{n}")
    clock.now = NOW + 2 * WINDOW
    limits.failed("late", "10.2.0.1")
    assert len(limits) <= 2  # only what is still in the window is kept
