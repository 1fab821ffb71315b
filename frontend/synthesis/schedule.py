"""Which chunk goes to Triton next: at most `capacity` at once, the rest waiting here, earliest deadline
first. A chunk's deadline is when its audio is due at the client, so a stream's later chunks and new
requests' first chunks take turns by need; a fixed priority for first chunks starves later ones under
sustained load (bench/NOTES.md, change 18). Triton itself then serves in arrival order."""
from __future__ import annotations

import asyncio
import heapq
import itertools


class EarliestDeadlineFirst:
    """Slots at Triton. `capacity` None: not known yet, nobody waits."""

    def __init__(self, capacity: int | None = None):
        self.capacity = capacity
        self.holders = 0
        self._waiting: list[tuple[float, int, asyncio.Future]] = []
        self._arrival = itertools.count()  # equal deadlines: first come, first served

    @property
    def waiting(self) -> int:
        return sum(not future.done() for _, _, future in self._waiting)

    async def enter(self, deadline: float) -> None:
        """Take a slot, waiting behind every earlier deadline when none is free; pair with `leave`."""
        # A free slot means nobody waits: `leave` hands each freed slot to a waiter when there is one.
        if self.capacity is None or self.holders < self.capacity:
            self.holders += 1
            return
        turn = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (deadline, next(self._arrival), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed the slot just as it was cancelled
                self.leave()
            raise

    def leave(self) -> None:
        self.holders -= 1
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():  # a cancelled waiter's turn is done
                self.holders += 1
                turn.set_result(None)
                return
