"""Guessing the admin token is slowed down per client: the decision function on a fake clock."""

from __future__ import annotations

import logging

from serve.throttle import LoginThrottle


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_few_failures_are_free_then_each_one_doubles_the_wait():
    clock = FakeClock()
    throttle = LoginThrottle(free_attempts=3, base_delay=1.0, max_delay=8.0, clock=clock)
    assert [throttle.failed("10.0.0.1") for _ in range(3)] == [0.0, 0.0, 1.0]
    assert throttle.wait("10.0.0.1") == 1.0
    clock.now += 0.25
    assert throttle.wait("10.0.0.1") == 0.75
    clock.now += 0.75
    assert throttle.wait("10.0.0.1") == 0.0
    assert [throttle.failed("10.0.0.1") for _ in range(4)] == [2.0, 4.0, 8.0, 8.0]  # capped


def test_clients_are_throttled_separately_and_success_forgets_the_failures():
    clock = FakeClock()
    throttle = LoginThrottle(free_attempts=1, base_delay=2.0, clock=clock)
    throttle.failed("10.0.0.1")
    assert throttle.wait("10.0.0.1") == 2.0 and throttle.wait("10.0.0.2") == 0.0
    clock.now += 2.0
    throttle.succeeded("10.0.0.1")
    assert throttle.failed("10.0.0.1") == 2.0  # counting starts again


def test_failures_are_forgotten_after_a_quiet_while():
    clock = FakeClock()
    throttle = LoginThrottle(free_attempts=1, base_delay=1.0, forget_after=600.0, clock=clock)
    assert [throttle.failed("a") for _ in range(5)] == [1.0, 2.0, 4.0, 8.0, 16.0]
    clock.now += 601
    assert throttle.wait("a") == 0.0 and throttle.failed("a") == 1.0


def test_repeated_failures_are_logged(caplog):
    throttle = LoginThrottle(free_attempts=2, clock=FakeClock())
    with caplog.at_level(logging.WARNING, logger="serve.throttle"):
        throttle.failed("10.0.0.9")
        assert not caplog.records
        throttle.failed("10.0.0.9")
    assert "10.0.0.9" in caplog.text and "2 failed" in caplog.text


def test_the_number_of_remembered_clients_is_bounded():
    clock = FakeClock()
    throttle = LoginThrottle(free_attempts=1, max_clients=3, clock=clock)
    for n in range(10):
        clock.now += 1
        throttle.failed(f"10.0.0.{n}")
    assert throttle.clients() <= 3 and throttle.wait("10.0.0.9") > 0
