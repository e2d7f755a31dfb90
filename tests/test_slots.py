"""The API's answering slots: heavy work yields to plain questions waiting for a slot, and is never starved."""

from __future__ import annotations

import threading
import time

from serve.slots import AnswerSlots


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def started(slots: AnswerSlots, heavy: bool, order: list[str], name: str, release: threading.Event) -> threading.Thread:
    def work():
        with slots.slot(heavy):
            order.append(name)
            release.wait(timeout=10)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def settle():
    time.sleep(0.2)  # let the started threads reach their wait


def test_a_freed_slot_goes_to_a_waiting_plain_question_before_heavy_work_within_the_interval():
    clock = FakeClock()
    slots = AnswerSlots(total=1, heavy=1, heavy_interval=60.0, clock=clock)
    with slots.slot(heavy=True):  # heavy work ran a moment ago
        pass
    order: list[str] = []
    hold, rest = threading.Event(), threading.Event()
    first = started(slots, False, order, "plain 1", hold)
    settle()
    heavy = started(slots, True, order, "heavy", rest)
    settle()
    plain = started(slots, False, order, "plain 2", rest)
    settle()
    hold.set()  # the slot is freed with both waiting
    first.join(5)
    settle()
    assert order == ["plain 1", "plain 2"]  # the heavy request waits: a plain question was waiting
    rest.set()
    plain.join(5)
    heavy.join(5)
    assert order == ["plain 1", "plain 2", "heavy"]  # and then it goes: never starved


def test_heavy_work_is_not_held_back_once_its_interval_has_passed_or_nobody_waits():
    clock = FakeClock()
    slots = AnswerSlots(total=2, heavy=1, heavy_interval=1.0, clock=clock)
    with slots.slot(heavy=True):
        pass
    order: list[str] = []
    hold = threading.Event()
    started(slots, False, order, "plain", hold)
    settle()
    heavy = started(slots, True, order, "heavy", hold)  # nobody waits for a slot: it starts at once
    settle()
    assert order == ["plain", "heavy"]
    hold.set()
    heavy.join(5)


def test_at_most_the_heavy_lane_holds_heavy_work():
    slots = AnswerSlots(total=4, heavy=1, heavy_interval=0.0)
    order: list[str] = []
    hold = threading.Event()
    threads = [started(slots, True, order, f"heavy {n}", hold) for n in range(3)]
    settle()
    assert len(order) == 1
    hold.set()
    for thread in threads:
        thread.join(5)
    assert len(order) == 3
