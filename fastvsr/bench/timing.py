"""Latency: the median of N timed runs after warm-up, device-synchronised, with a per-stage breakdown.

A run is a callable that receives a :class:`~fastvsr.pipeline.profile.StageClock` and wraps each of its stages
(e.g. encode, denoise, decode) in ``clock.stage(name)``. Every stage boundary synchronises the device, so
asynchronous CUDA kernels are charged to the stage that launched them; on CPU synchronising is a no-op.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm import tqdm

from fastvsr.pipeline.profile import StageClock, synchronize


@dataclass(frozen=True)
class Timing:
    """Timed runs of one pipeline: ``total`` and ``stages`` are medians in seconds over ``samples``."""

    total: float
    stages: dict[str, float]
    samples: list[float] = field(default_factory=list)
    warmup: int = 0

    @property
    def repeats(self) -> int:
        return len(self.samples)


def time_stages(runs: dict[str, Callable[[StageClock], Any]], device: torch.device, repeats: int = 5,
                warmup: int = 1, progress: bool = False) -> dict[str, Timing]:
    """Time each run ``repeats`` times after ``warmup`` untimed runs, interleaved (A, B, A, B, ...).

    Interleaving puts every variant under the same background load, so their ratio stays fair on a shared
    machine even when the absolute figures drift.

    Args:
        runs: name -> callable taking a fresh :class:`StageClock` per run (its result is discarded).
        device: where the work runs (synchronised around every run and stage).
        repeats: timed runs per name (>= 1); the reported figures are medians.
        warmup: untimed runs per name first (allocator, cuDNN autotuning, lazy initialisation).
        progress: show a tqdm bar over all runs.
    Returns:
        name -> :class:`Timing` (median end-to-end seconds, median seconds per stage, every sample).
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats}, {warmup}")
    totals: dict[str, list[float]] = {name: [] for name in runs}
    per_stage: dict[str, dict[str, list[float]]] = {name: {} for name in runs}
    bar = tqdm(total=(warmup + repeats) * len(runs), desc="timing", disable=not progress, leave=False)
    for i in range(warmup + repeats):
        for name, run in runs.items():
            clock = StageClock(device)
            synchronize(device)
            start = time.perf_counter()
            run(clock)
            synchronize(device)
            elapsed = time.perf_counter() - start
            bar.update()
            if i < warmup:
                continue
            totals[name].append(elapsed)
            for stage, seconds in clock.seconds.items():
                per_stage[name].setdefault(stage, []).append(seconds)
    bar.close()
    return {name: Timing(total=statistics.median(totals[name]), warmup=warmup, samples=totals[name],
                         stages={s: statistics.median(v) for s, v in per_stage[name].items()})
            for name in runs}
