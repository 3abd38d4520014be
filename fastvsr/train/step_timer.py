"""Wall time of training steps and the device's peak memory, for the run summary (``summary.json``'s
``timed_steps``, ``first_step_seconds``, ``median_step_seconds`` and ``peak_memory_gib``)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import torch


@dataclass
class StepTimer:
    """Seconds of each optimiser step this process ran (data loading, forward, backward, update), excluding
    validation and checkpoints; CUDA work is synchronised before each reading."""

    device: torch.device
    seconds: list[float] = field(default_factory=list)
    _started: float | None = None

    def _now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def restart(self) -> None:
        """Start timing the next step now (before the first batch, and after validation or a checkpoint)."""
        self._started = self._now()

    def lap(self) -> None:
        """A step ended: record its time and start the next one."""
        now = self._now()
        if self._started is not None:
            self.seconds.append(now - self._started)
        self._started = now

    def summary(self) -> dict[str, float | int | None]:
        """Steps timed, the first step's seconds (warm-up: allocation, autotuning), the median of the others (of
        all when only one ran), and the CUDA allocator's peak in GiB (None on CPU)."""
        rest = self.seconds[1:] or self.seconds
        peak = torch.cuda.max_memory_allocated(self.device) / 2**30 if self.device.type == "cuda" else None
        return {"timed_steps": len(self.seconds), "first_step_seconds": self.seconds[0] if self.seconds else None,
                "median_step_seconds": statistics.median(rest) if rest else None, "peak_memory_gib": peak}
