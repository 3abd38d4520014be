"""Multiply-accumulate counts with ``torch.utils.flop_counter.FlopCounterMode``, in both conventions.

Run the model on the ``meta`` device and nothing is allocated or computed, yet every aten op (with its
shapes) is seen, so paper-scale counts take seconds on a laptop.  ``MACs = FLOPs / 2``.

Two conventions are reported, because papers differ:

* ``total``: every matmul and convolution ``FlopCounterMode`` counts, the attention score ``Q K^T`` and value
  ``P V`` products included.
* ``without_attention``: the same minus the products inside ``scaled_dot_product_attention``.  Module-hook
  counters (thop, calflops, fvcore's defaults) never see those, and FastVSR's Table 2 (504.8 T / 125.7 T) and
  DOVE's complexity table are counted this way.

The attention part is attributed exactly: a function mode wraps each ``scaled_dot_product_attention`` call and
takes the counter's increase during it, whichever kernel (math path, flash, memory-efficient) runs.  Kernels
the counter has no formula for (the CPU flash kernel on real tensors) count 0; for them the two products are
added from the shapes, ``prod(batch) * L * S * (E + Ev)`` MACs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.utils.flop_counter import FlopCounterMode

ATTENTION_FUNCTIONS = (F.scaled_dot_product_attention,)


@dataclass(frozen=True)
class MacCount:
    """MACs of one forward: ``total`` (all counted ops) and ``attention`` (inside SDPA calls)."""

    total: int
    attention: int = 0

    @property
    def without_attention(self) -> int:
        """The paper convention: everything except attention score/value products."""
        return self.total - self.attention

    def __add__(self, other: MacCount) -> MacCount:
        return MacCount(self.total + other.total, self.attention + other.attention)


ZERO_MACS = MacCount(0, 0)


class _AttentionMeter(TorchFunctionMode):
    """Adds to ``flops`` what ``counter`` counts while an attention function runs."""

    def __init__(self, counter: FlopCounterMode) -> None:
        super().__init__()
        self.counter = counter
        self.flops = 0
        self.uncounted_flops = 0  # attention the counter missed (added to both conventions' totals)

    def __torch_function__(self, func: Callable[..., Any], types: Any, args: tuple = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        if func not in ATTENTION_FUNCTIONS:
            return func(*args, **(kwargs or {}))
        before = self.counter.get_total_flops()
        out = func(*args, **(kwargs or {}))
        counted = self.counter.get_total_flops() - before
        if counted == 0:
            named = dict(zip(("query", "key", "value"), args)) | (kwargs or {})
            counted = 2 * attention_macs(named["query"], named["key"], named["value"])
            self.uncounted_flops += counted
        self.flops += counted
        return out


def attention_macs(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> int:
    """MACs of ``softmax(Q K^T) V`` for ``(..., L, E)`` queries, ``(..., S, E)`` keys, ``(..., S, Ev)`` values."""
    *batch, length, dim = query.shape
    return int(torch.Size(batch).numel()) * length * key.shape[-2] * (dim + value.shape[-1])


@contextmanager
def counting_macs() -> Iterator[list[MacCount]]:
    """Count the MACs of the ``with`` block (no autograd); the yielded list holds the count on exit."""
    counter = FlopCounterMode(display=False)
    meter = _AttentionMeter(counter)
    found: list[MacCount] = []
    with counter, meter, torch.no_grad():
        yield found
    total = counter.get_total_flops() + meter.uncounted_flops
    found.append(MacCount(total=total // 2, attention=meter.flops // 2))


def count_macs(fn: Callable[[], Any]) -> tuple[MacCount, Any]:
    """Run ``fn()`` once under the FLOP counter (no autograd) and return its MACs and its result.

    Call it with meta-device modules and inputs to count without allocating anything.
    """
    with counting_macs() as found:
        result = fn()
    return found[0], result


class StageMacs:
    """Per-stage MAC counts of one run: wrap each stage in ``stage(name)`` (same interface as
    :class:`fastvsr.pipeline.profile.StageClock`, so one pipeline function serves counting and timing)."""

    def __init__(self) -> None:
        self.macs: dict[str, MacCount] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        with counting_macs() as found:
            yield
        self.macs[name] = self.macs.get(name, ZERO_MACS) + found[0]
