"""Guessing the admin token is slowed down per client: the decision function on a fake clock."""

from __future__ import annotations

import logging

from serve.throttle import LoginThrottle, TokenGate, Verdict


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


ADMIN_TOKEN = "Kx7q-admin-token-0123456789abcdef"


def test_an_attacker_at_the_admins_address_cannot_lock_the_admin_out():

    gate = TokenGate(guesses_per_minute=1000, free_attempts=3, clock=FakeClock())
    verdicts = [gate.check("203.0.113.7", f"guess-{n:04d}", [ADMIN_TOKEN]) for n in range(40)]
    assert not any(v.allowed for v in verdicts)
    assert all(v.wait > 0 for v in verdicts[4:])  # the attacker's guesses are slowed down
    assert gate.check("203.0.113.7", ADMIN_TOKEN, [ADMIN_TOKEN]).allowed  # the admin, behind the same address


def test_guesses_sharing_the_tokens_start_are_slowed_down_with_it():
    """The bucket is the address and the token's start: guessing the end of a known start is slowed down too."""

    clock = FakeClock()
    gate = TokenGate(guesses_per_minute=1000, free_attempts=2, clock=clock)
    for n in range(2):
        assert gate.check("203.0.113.7", ADMIN_TOKEN[:4] + f"x{n}", [ADMIN_TOKEN]) == Verdict(False)
    assert gate.check("203.0.113.7", ADMIN_TOKEN, [ADMIN_TOKEN]).wait > 0
    assert gate.check("198.51.100.1", ADMIN_TOKEN, [ADMIN_TOKEN]).allowed  # another address is not held up


def test_wrong_guesses_are_capped_service_wide_however_they_vary_and_a_known_admin_still_gets_in(monkeypatch):
    import hmac


    clock = FakeClock()
    gate = TokenGate(guesses_per_minute=30, free_attempts=10, clock=clock)
    assert gate.check("203.0.113.7", ADMIN_TOKEN, [ADMIN_TOKEN]).allowed  # the admin logged in once
    compared = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: compared.append(a) or real(a, b))
    # Every guess a fresh token start and a fresh address: no bucket is ever slowed down, the cap still holds.
    verdicts = [gate.check(f"10.1.{n // 250}.{n % 250}", f"{n:04d}-guess", [ADMIN_TOKEN]) for n in range(500)]
    assert len(compared) == 30 and sum(v.wait > 0 for v in verdicts) == 470
    clock.now += 10  # 5 more guesses' worth of the cap
    more = [gate.check("10.2.0.1", f"{n:04d}-later", [ADMIN_TOKEN]) for n in range(20)]
    assert sum(v.wait == 0 for v in more) == 5
    assert gate.check("203.0.113.7", ADMIN_TOKEN, [ADMIN_TOKEN]).allowed  # over the cap, the known admin is compared


def test_a_missing_token_is_no_guess():

    gate = TokenGate(guesses_per_minute=1, free_attempts=1, clock=FakeClock())
    assert [gate.check("10.0.0.1", "", [ADMIN_TOKEN]) for _ in range(5)] == [Verdict(False)] * 5
    assert gate.check("10.0.0.1", "wrong-token", [ADMIN_TOKEN]) == Verdict(False)  # still its first guess
