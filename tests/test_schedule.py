"""Which chunk goes to Triton next: earliest deadline first, no more at once than the servers can run."""
from __future__ import annotations

import asyncio

import pytest

from frontend.errors import BackendTimeout
from frontend.synthesis.schedule import EarliestDeadlineFirst
from frontend.synthesis.triton_client import TritonSynthesizer
from frontend.synthesis.voices import VoiceCatalog
from kokoro_core.contract import SAMPLES_PER_FRAME


async def _hold(slots: EarliestDeadlineFirst, deadline: float, entered: list, name: str) -> None:
    await slots.enter(deadline)
    entered.append(name)
    await asyncio.sleep(0.01)
    slots.leave()


def test_waiters_enter_by_deadline_and_a_cancelled_waiter_gives_way():
    async def scenario():
        slots, entered = EarliestDeadlineFirst(1), []
        holder = asyncio.create_task(_hold(slots, 0.0, entered, "holder"))
        await asyncio.sleep(0)
        waiters = {name: asyncio.create_task(_hold(slots, deadline, entered, name))
                   for name, deadline in [("late", 30.0), ("tie, first come", 20.0), ("gone", 5.0),
                                          ("tie, second", 20.0), ("soon", 10.0)]}
        await asyncio.sleep(0)
        assert (slots.holders, slots.waiting) == (1, 5)
        waiters["gone"].cancel()
        await asyncio.gather(holder, *waiters.values(), return_exceptions=True)
        return slots, entered

    slots, entered = asyncio.run(scenario())
    assert entered == ["holder", "soon", "tie, first come", "tie, second", "late"]
    assert (slots.holders, slots.waiting) == (0, 0)


def test_a_waiter_cancelled_as_its_turn_comes_passes_the_slot_on():
    async def scenario():
        slots, entered, tasks = EarliestDeadlineFirst(1), [], {}

        async def holder():
            await slots.enter(0.0)
            await asyncio.sleep(0.01)
            slots.leave()
            tasks["unlucky"].cancel()  # its turn was handed over on leaving, before it could run

        tasks["holder"] = asyncio.create_task(holder())
        await asyncio.sleep(0)
        tasks["unlucky"] = asyncio.create_task(_hold(slots, 1.0, entered, "unlucky"))
        tasks["next"] = asyncio.create_task(_hold(slots, 2.0, entered, "next"))
        # A slot lost with the cancelled waiter would leave "next" waiting for ever.
        await asyncio.wait_for(asyncio.gather(*tasks.values(), return_exceptions=True), 10)
        return slots, entered, tasks["unlucky"].cancelled()

    slots, entered, cancelled = asyncio.run(scenario())
    assert cancelled and entered == ["next"]
    assert slots.holders == 0


def test_an_unknown_capacity_makes_nobody_wait():
    async def scenario():
        slots, entered = EarliestDeadlineFirst(None), []
        await asyncio.gather(*(_hold(slots, float(i), entered, i) for i in range(5)))
        return slots.holders, entered

    assert asyncio.run(scenario()) == (0, [0, 1, 2, 3, 4])


def test_triton_calls_take_the_servers_capacity_and_wait_earliest_deadline_first(triton, tiny_repository):
    voices = VoiceCatalog(tiny_repository / "kokoro" / "assets" / "voices")
    token_ids = [50, 83, 54, 156, 57, 135, 16, 43, 102, 56]
    style = voices.style([("af_heart", 1.0)], len(token_ids))

    async def scenario():
        synthesizer = TritonSynthesizer([triton.http_url, "127.0.0.1:9"], "kokoro", 60)
        try:
            capacity = await synthesizer.capacity()
            synthesizer.slots.capacity = 1  # one at Triton at a time: the order they finish is the order sent
            finished = []

            async def say(name: str, deadline: float) -> None:
                synthesis = await synthesizer.synthesize(token_ids, style, 1.0, deadline=deadline)
                assert len(synthesis.samples) == synthesis.durations.sum() * SAMPLES_PER_FRAME > 0
                finished.append(name)

            first = asyncio.create_task(say("first", 0.0))
            await asyncio.sleep(0)
            await asyncio.gather(first, *(say(name, deadline) for name, deadline in
                                          [("due last", 3.0), ("due first", 1.0), ("due second", 2.0)]))
            return capacity, finished
        finally:
            await synthesizer.close()

    capacity, finished = asyncio.run(scenario())
    assert capacity == 2  # the one server that answers: two instances, batches of one (config.pbtxt)
    assert finished == ["first", "due first", "due second", "due last"]


def test_waiting_for_a_slot_has_the_call_timeout_and_gives_the_slot_up():
    async def scenario():
        synthesizer = TritonSynthesizer(["127.0.0.1:9"], "kokoro", timeout_s=0.2, max_inflight=1)
        await synthesizer.slots.enter(0.0)  # the only slot, held by a call that does not end
        with pytest.raises(BackendTimeout, match="no slot"):
            await synthesizer.synthesize([50, 83], [0.0] * 256, 1.0)
        return synthesizer.slots.holders, synthesizer.slots.waiting

    assert asyncio.run(scenario()) == (1, 0)
