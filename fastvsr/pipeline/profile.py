"""Where the time of a run goes: seconds per named stage (``scripts/infer.py --profile``, the benchmark).

The pipeline marks its stages with :func:`stage` (``with stage("decode"): ...``), which costs nothing unless
a :class:`StageClock` is active (:func:`profiling`). A clock synchronises the device at every stage boundary,
so asynchronous CUDA kernels are charged to the stage that launched them (on CPU that is a no-op); stages
nested inside another stage are charged to the outer one, so the stages never overlap and add up to at most
the run's wall time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

import torch

T = TypeVar("T")
_END: object = object()  # timed_iter's end-of-items marker


def synchronize(device: torch.device) -> None:
    """Wait for all queued work on ``device`` (CUDA); nothing to wait for on CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class StageTime:
    """What one stage took over a run: ``calls``, wall-clock and process CPU seconds (all threads)."""

    calls: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0


class StageClock:
    """Collects the seconds of named stages (:meth:`stage`; ``seconds``: wall-clock per stage)."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.stages: dict[str, StageTime] = {}
        self._depth = 0

    @property
    def seconds(self) -> dict[str, float]:
        return {name: s.wall_s for name, s in self.stages.items()}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self._depth:  # inside another stage: charged to it
            yield
            return
        synchronize(self.device)
        wall, cpu = time.perf_counter(), time.process_time()
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            synchronize(self.device)
            entry = self.stages.setdefault(name, StageTime())
            entry.calls += 1
            entry.wall_s += time.perf_counter() - wall
            entry.cpu_s += time.process_time() - cpu


_active: ContextVar[StageClock | None] = ContextVar("fastvsr_stage_clock", default=None)


@contextmanager
def profiling(clock: StageClock) -> Iterator[StageClock]:
    """Charge every :func:`stage` inside the block to ``clock``."""
    token = _active.set(clock)
    try:
        yield clock
    finally:
        _active.reset(token)


def stage(name: str) -> AbstractContextManager[None]:
    """A stage of the active clock (:func:`profiling`), or nothing when none is active."""
    clock = _active.get()
    return nullcontext() if clock is None else clock.stage(name)


def timed_iter(items: Iterable[T], name: str) -> Iterator[T]:
    """``items``, the time spent producing each (e.g. reading and decoding input frames) charged to ``name``."""
    iterator = iter(items)
    while True:
        with stage(name):
            item = next(iterator, _END)
        if item is _END:
            return
        yield item


def profile_table(clock: StageClock, total_wall_s: float) -> list[list[str]]:
    """Rows ``stage, calls, wall (s), share of wall, CPU (s)``, the slowest first, then ``other`` (time in
    no stage) and ``total``."""
    rows = []
    for name, s in sorted(clock.stages.items(), key=lambda item: -item[1].wall_s):
        rows.append([name, str(s.calls), f"{s.wall_s:.2f}", f"{100 * s.wall_s / max(total_wall_s, 1e-9):.1f} %",
                     f"{s.cpu_s:.2f}"])
    other = max(0.0, total_wall_s - sum(s.wall_s for s in clock.stages.values()))
    rows.append(["other", "-", f"{other:.2f}", f"{100 * other / max(total_wall_s, 1e-9):.1f} %", "-"])
    rows.append(["total", "-", f"{total_wall_s:.2f}", "100.0 %", "-"])
    return rows


PROFILE_COLUMNS = ("stage", "calls", "wall (s)", "share", "CPU (s)")


def print_profile(clock: StageClock, total_wall_s: float) -> None:
    """:func:`profile_table` as a table on stderr."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"where the time went ({clock.device.type})")
    for column in PROFILE_COLUMNS:
        table.add_column(column, justify="left" if column == "stage" else "right")
    for row in profile_table(clock, total_wall_s):
        table.add_row(*row)
    Console(stderr=True).print(table)
