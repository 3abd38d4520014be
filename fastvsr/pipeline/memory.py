"""Memory of inference: the allocator setting, the memory budget of a chunk, and the per-tile estimate that
sizes automatic tiles (``InferConfig.tile: auto``).

**Allocator.** glibc hands large freed blocks back to the system (``munmap`` of blocks above its mmap
threshold, trimming of the heap top) and faults them in again at the next allocation. A restoration frees
and re-allocates activations of the same sizes layer after layer, so on CPU the kernel's page-fault work
reaches 40-65 % of the user time. :func:`keep_freed_memory` (called by
:func:`fastvsr.pipeline.upscale.upscale_clip`, so every inference entry point gets it) sets
``mallopt(M_MMAP_MAX, 0)`` (large blocks come from the heap) and ``mallopt(M_TRIM_THRESHOLD, -1)`` (the heap
is never trimmed, mallopt(3)) once per process: freed memory stays in the process and is reused, and the
process's resident memory stays at its peak until it exits. It is a no-op off glibc, when
``GLIBC_TUNABLES`` already sets ``glibc.malloc`` tunables, and with the opt-out ``FASTVSR_KEEP_MEMORY=0``.
Measured effect: docs/benchmarks.md ("Inference pipeline on CPU").

**Budget.** :func:`memory_budget_bytes`: ``InferConfig.memory_budget_gb`` when set, else
:data:`MEMORY_FRACTION` of what the device has available when the chunk starts (CUDA: free device memory
plus what torch's caching allocator holds unused; CPU: ``MemAvailable`` of ``/proc/meminfo``, capped by a
cgroup v2 limit, plus free memory inside this process's heap).

**Estimate.** :func:`chunk_bytes`: the memory a chunk needs when restored in tiles of a given output area,
``TILE_FACTOR x widest activation x tile area + FIXED_FACTOR x output bytes``. The widest activation (bytes
per output pixel of one chunk) is measured by :func:`widest_activation_per_pixel` on a tiny tile of the
chunk itself (every tensor an op returns is seen), so it follows any model kind, frame count and dtype. The
two factors were calibrated on CPU (peak RSS of the shipped default model at 1-17 frames and 1-15 tiles,
``configs/bench/default_cpu_memory.yaml``; docs/benchmarks.md): the widest activation is about a quarter of
the peak a tile adds (the rest: its inputs, residual branches, oneDNN's blocked-layout copies), and the
factors overestimate every measured peak by 12-62 %. With the VAE in frame batches
(``InferConfig.frame_batch``) the output-size copies of a chunk weigh more than the tiles; the fixed factor
keeps the estimate above the peaks of 1-4-frame batches at 17 frames (``configs/bench/default_cpu_frames.yaml``:
61-163 % above the measured added RSS since the causal convs reuse their carried frames; a safe side, left
uncalibrated).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import platform
import sys
import weakref
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from fastvsr.pipeline.config import InferConfig

KEEP_MEMORY_ENV = "FASTVSR_KEEP_MEMORY"
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # mallopt parameters (malloc.h)
NO_TRIM = -1  # M_TRIM_THRESHOLD value that disables trimming (a finite one still trims above it: churn on big chunks)

MEMORY_FRACTION = 0.6  # share of the available memory a chunk may use when memory_budget_gb is 0
TILE_FACTOR = 5.0  # peak bytes a tile adds / bytes of its widest activation (calibrated on CPU)
FIXED_FACTOR = 8.0  # bytes a chunk holds besides its tiles / bytes of its float32 output (calibrated on CPU)

_kept: list[bool] = []  # the result of the first keep_freed_memory() call of this process


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """glibc (Linux) or None."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def keep_memory_wanted(environ: dict[str, str] | os._Environ = os.environ) -> bool:
    """Whether :func:`keep_freed_memory` may change the allocator: not with ``FASTVSR_KEEP_MEMORY`` set to
    ``0``/``false``/``no``/``off``, nor when ``GLIBC_TUNABLES`` already tunes ``glibc.malloc``."""
    if environ.get(KEEP_MEMORY_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return "glibc.malloc." not in environ.get("GLIBC_TUNABLES", "")


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory in the process (see the module docstring); only the first call acts.

    Returns:
        True when the setting is in force (this or an earlier call set it).
    """
    if not _kept:
        libc = _libc() if keep_memory_wanted() else None
        _kept.append(libc is not None and bool(libc.mallopt(M_MMAP_MAX, 0))
                     and bool(libc.mallopt(M_TRIM_THRESHOLD, NO_TRIM)))
    return _kept[0]


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap_free_bytes() -> int:
    """Free bytes glibc holds in this process's heap (reusable without asking the system; 0 off glibc)."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return 0
    libc.mallinfo2.restype = _Mallinfo2
    return int(libc.mallinfo2().fordblks)


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room() -> int | None:
    """Bytes left under this process's cgroup v2 memory limit (None without one)."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((root / "memory.current").read_text()))
    except (OSError, ValueError):
        return None


def available_memory_bytes(device: torch.device) -> int:
    """Memory a chunk could use on ``device`` now (see the module docstring)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device))
    system = _meminfo_available()
    if system is None:
        system = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    room = _cgroup_room()
    return (system if room is None else min(system, room)) + heap_free_bytes()


def memory_budget_bytes(cfg: InferConfig, device: torch.device) -> int:
    """Bytes one chunk may use: ``cfg.memory_budget_gb`` (GB = 1e9 bytes), or :data:`MEMORY_FRACTION` of
    :func:`available_memory_bytes` when it is 0."""
    if cfg.memory_budget_gb:
        return int(cfg.memory_budget_gb * 1e9)
    return int(MEMORY_FRACTION * available_memory_bytes(device))


class _WidestTensor(TorchDispatchMode):
    """Records the largest tensor (bytes) any op returns; outputs on an input's storage (views, in-place ops)
    allocate nothing and do not count."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204 (torch's signature)
        out = func(*args, **(kwargs or {}))
        inputs = {_storage(item) for item in tree_flatten((args, kwargs))[0] if isinstance(item, torch.Tensor)}
        for item in tree_flatten(out)[0]:
            if isinstance(item, torch.Tensor) and _storage(item) not in inputs:
                self.bytes = max(self.bytes, item.numel() * item.element_size())
        return out


def _storage(tensor: torch.Tensor) -> int | None:
    """Address of ``tensor``'s storage (None for layouts without one, e.g. oneDNN's opaque tensors)."""
    try:
        return tensor.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):
        return None


_probed: weakref.WeakKeyDictionary[torch.nn.Module, dict[tuple, float]] = weakref.WeakKeyDictionary()


def widest_activation_per_pixel(model: torch.nn.Module, x: torch.Tensor, probe: int,
                                run: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """Bytes per output pixel of the widest tensor of restoring encoder input ``x`` ``(B, 3, T, H, W)``.

    ``run(piece)`` restores one input piece to its output ``(B, 3, T, h', w')``; it is called once on the
    top-left ``probe x probe`` encoder pixels of ``x`` (a latent multiple), under torch's forked RNG so that
    the chunk's own random draws are unchanged. The result is cached per model, input shape and dtype.
    """
    key = (tuple(x.shape[:3]), probe, x.dtype, x.device)
    cache = _probed.setdefault(model, {})
    if key not in cache:
        devices = [x.device] if x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode(), _WidestTensor() as widest:
            out = run(x[..., :probe, :probe])
        cache[key] = widest.bytes / (out.shape[-2] * out.shape[-1])
    return cache[key]


def chunk_bytes(widest_per_pixel: float, tile_pixels: int, output_bytes: int) -> int:
    """Estimated peak bytes of a chunk restored in tiles of ``tile_pixels`` output pixels (the largest tile)
    whose float32 output takes ``output_bytes``."""
    return int(TILE_FACTOR * widest_per_pixel * tile_pixels + FIXED_FACTOR * output_bytes)


def max_tile_pixels(budget: int, widest_per_pixel: float, output_bytes: int) -> int:
    """The largest tile (output pixels) whose :func:`chunk_bytes` fits ``budget`` (0 when none does)."""
    room = budget - FIXED_FACTOR * output_bytes
    return max(0, int(room / (TILE_FACTOR * widest_per_pixel)))
