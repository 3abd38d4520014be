"""What a benchmark run produces: per-variant costs and the f8/f16 ratios, as plain data (JSON-ready)."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from fastvsr.bench.macs import ZERO_MACS, MacCount
from fastvsr.bench.memory import PeakMemory
from fastvsr.bench.timing import Timing

STAGES = ("upscale", "encode", "denoise", "decode")  # upscale = bilinear LR upscale + pad to the model's multiples


@dataclass
class VariantResult:
    """Costs of one pipeline variant on the benchmark clip.

    ``macs`` per stage (counted on the meta device), ``timing``/``memory`` when latency was measured, else
    ``note`` says why not (e.g. "n/a (no GPU)").
    """

    name: str
    label: str
    params: int = 0
    weight_bytes: int = 0  # params x bytes per weight in the timing dtype
    macs: dict[str, MacCount] = field(default_factory=dict)
    encoder_input: tuple[int, ...] = ()  # (T, H, W) after upscale and padding
    latent: tuple[int, ...] = ()  # (c, t, h, w)
    tokens: int = 0  # denoiser tokens per clip: latent t*h*w over the denoiser's patch sizes
    output: tuple[int, ...] = ()  # (T, H, W) after unpadding
    timing: Timing | None = None
    memory: PeakMemory | None = None
    note: str = ""

    @property
    def total_macs(self) -> MacCount:
        return sum(self.macs.values(), ZERO_MACS)

    @property
    def peak_memory_bytes(self) -> int | None:
        """Own weights + the peak the run added over what was resident before it (None if unmeasured)."""
        return None if self.memory is None else self.weight_bytes + self.memory.added_bytes

    def fps(self, frames: int) -> float | None:
        """Output frames per second end to end (``frames`` = frames of the clip times the batch)."""
        return None if self.timing is None else frames / self.timing.total


@dataclass
class Target:
    """A reference figure and whether the measurement meets it."""

    what: str
    reference: float
    measured: float | None
    tolerance: float = 0.0  # relative, for "within" targets
    kind: str = "within"  # "within" (|measured/reference - 1| <= tolerance) or "at_least"

    @property
    def met(self) -> bool | None:
        if self.measured is None:
            return None
        if self.kind == "at_least":
            return self.measured >= self.reference
        return abs(self.measured / self.reference - 1.0) <= self.tolerance

    @property
    def deviation(self) -> float | None:
        return None if self.measured is None else self.measured / self.reference - 1.0


def _paired_ratio(base: Timing | None, other: Timing | None) -> float | None:
    """Median over rounds of ``base[i] / other[i]`` (the timed runs are interleaved, so round ``i`` of both
    ran under the same load)."""
    if base is None or other is None or len(base.samples) != len(other.samples) or not base.samples:
        return None
    return statistics.median(a / b for a, b in zip(base.samples, other.samples))


@dataclass
class BenchReport:
    """Everything one run measured: the setting, the device, per-variant results and targets."""

    name: str
    title: str
    device: str
    dtype: str
    clip: dict[str, int]
    variants: list[VariantResult]
    targets: list[Target] = field(default_factory=list)
    baseline: str = "baseline_f8"  # the variant every ratio divides

    @property
    def frames(self) -> int:
        return self.clip["frames"] * self.clip["batch"]

    def variant(self, name: str) -> VariantResult | None:
        return next((v for v in self.variants if v.name == name), None)

    def ratios(self, name: str) -> dict[str, float | None]:
        """``baseline`` / ``name`` for MACs (both conventions), latency (ratio of the medians, and the median of
        the per-round ratios, which cancels load drift between rounds) and peak memory (None if unmeasured)."""
        base, other = self.variant(self.baseline), self.variant(name)
        if base is None or other is None:
            return {}

        def ratio(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None or b == 0 else a / b

        return {
            "macs_total": ratio(base.total_macs.total, other.total_macs.total),
            "macs_without_attention": ratio(base.total_macs.without_attention, other.total_macs.without_attention),
            "latency": ratio(base.timing and base.timing.total, other.timing and other.timing.total),
            "latency_paired": _paired_ratio(base.timing, other.timing),
            "peak_memory": ratio(base.peak_memory_bytes, other.peak_memory_bytes),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: raw counts (MACs, bytes, seconds) plus derived totals, fps and ratios."""
        variants = []
        for v in self.variants:
            item = asdict(v)
            item["macs"] = {stage: {"total": m.total, "attention": m.attention,
                                    "without_attention": m.without_attention} for stage, m in v.macs.items()}
            total = v.total_macs
            item["total_macs"] = {"total": total.total, "attention": total.attention,
                                  "without_attention": total.without_attention}
            item["fps"] = v.fps(self.frames)
            item["peak_memory_bytes"] = v.peak_memory_bytes
            item["ratios_vs_baseline"] = self.ratios(v.name) if v.name != self.baseline else {}
            variants.append(item)
        targets = [asdict(t) | {"met": t.met, "deviation": t.deviation} for t in self.targets]
        return {"name": self.name, "title": self.title, "device": self.device, "dtype": self.dtype,
                "clip": self.clip, "variants": variants, "targets": targets}
