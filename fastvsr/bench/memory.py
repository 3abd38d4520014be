"""Peak memory of a block of work: CUDA peak allocated bytes, or the process's peak resident set on CPU.

On CPU the Linux high-water mark (``VmHWM``) is reset by writing ``5`` to ``/proc/self/clear_refs`` before the
block, so each measured block gets its own peak even when an earlier one used more, and glibc's
``malloc_trim(0)`` first hands freed heap memory back to the system, so memory an earlier block freed but
the allocator kept does not hide this block's needs.  Where the reset is not possible the peak since process
start (``ru_maxrss``) is reported and ``resettable`` is False.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

PROC_STATUS = Path("/proc/self/status")
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")
RESET_PEAK_RSS = "5"  # proc(5): "5" resets the peak resident set size (VmHWM)


@dataclass
class PeakMemory:
    """Bytes at the start of the block (``baseline``) and the peak during it; ``kind`` names what is measured."""

    kind: str = ""
    baseline_bytes: int = 0
    peak_bytes: int = 0
    resettable: bool = True

    @property
    def added_bytes(self) -> int:
        """Peak above the baseline: what the block itself needed."""
        return max(0, self.peak_bytes - self.baseline_bytes)


def _status_kib(field: str) -> int | None:
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        PROC_CLEAR_REFS.write_text(RESET_PEAK_RSS)
    except OSError:
        return False
    return True


def _trim_heap() -> None:
    """Return freed heap pages to the system (glibc only; a no-op elsewhere)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def _max_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # macOS reports bytes, Linux KiB


def current_rss_bytes() -> int:
    """Resident set size of this process now (0 where /proc is unavailable)."""
    kib = _status_kib("VmRSS")
    return 0 if kib is None else kib * 1024


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (``VmHWM``, or ``ru_maxrss`` where /proc is unavailable)."""
    kib = _status_kib("VmHWM")
    return kib * 1024 if kib is not None else _max_rss_bytes()


@contextmanager
def track_peak_memory(device: torch.device) -> Iterator[PeakMemory]:
    """Measure the peak memory of the ``with`` block; the yielded :class:`PeakMemory` is filled on exit."""
    reading = PeakMemory()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        reading.kind, reading.baseline_bytes = "CUDA peak allocated", torch.cuda.memory_allocated(device)
        yield reading
        torch.cuda.synchronize(device)
        reading.peak_bytes = torch.cuda.max_memory_allocated(device)
        return
    _trim_heap()
    reading.resettable = _reset_peak_rss()
    reading.kind = "process peak RSS" if reading.resettable else "process peak RSS since start"
    reading.baseline_bytes = current_rss_bytes()
    yield reading
    hwm = _status_kib("VmHWM") if reading.resettable else None
    reading.peak_bytes = hwm * 1024 if hwm is not None else _max_rss_bytes()
