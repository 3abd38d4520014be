"""Typed benchmark settings (schema of ``configs/bench/*.yaml``), loaded with ``fastvsr.config.load_config``."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastvsr.config import require
from fastvsr.diffusion.sampler import SamplerConfig
from fastvsr.models.denoisers import DenoiserConfig
from fastvsr.models.f16_decoder import F16DecoderConfig
from fastvsr.models.turbo import LTXDiTConfig, TurboVSRConfig
from fastvsr.models.vae import VAEConfig
from fastvsr.pipeline.config import Precision

VARIANTS = ("baseline_f8", "fastvsr_f16", "fastvsr_f16_folded", "turbovsr", "turbovsr_4step")


@dataclass
class ClipConfig:
    """The low-resolution input every variant restores: ``batch x frames x lr_height x lr_width``, x ``scale``."""

    frames: int = 17
    lr_height: int = 64
    lr_width: int = 96
    scale: int = 4
    batch: int = 1

    def __post_init__(self) -> None:
        require(min(self.frames, self.lr_height, self.lr_width, self.scale, self.batch) >= 1,
                "clip sizes (frames, lr_height, lr_width, scale, batch) must be >= 1")


@dataclass
class TimingConfig:
    """How latency is measured: medians of ``repeats`` runs after ``warmup`` untimed ones.

    ``cpu: false`` skips latency when no CUDA device is present (paper scale: it would take hours on a CPU;
    the table then says "n/a (no GPU)"). ``threads`` sets torch's CPU threads (0 leaves them as they are).
    """

    device: str = "auto"
    dtype: Precision = Precision.FP32
    warmup: int = 1
    repeats: int = 5
    cpu: bool = True
    threads: int = 0

    def __post_init__(self) -> None:
        require(self.repeats >= 1 and self.warmup >= 0, "timing.repeats must be >= 1 and timing.warmup >= 0")
        require(self.threads >= 0, "timing.threads must be >= 0")
        require(self.device in ("auto", "cpu") or self.device.split(":")[0] == "cuda",
                f"timing.device must be auto, cpu, cuda or cuda:N, got '{self.device}'")


@dataclass
class TargetConfig:
    """Figures printed beside the measurements.

    ``macs_t``: variant -> reference MACs in T (the paper convention, attention products excluded), met when
    within ``macs_tolerance`` (relative); ``min_latency_ratio``: the f8/f16 latency ratio to reach (0 = none).
    """

    macs_t: dict[str, float] = field(default_factory=dict)
    macs_tolerance: float = 0.05
    min_latency_ratio: float = 0.0
    source: str = ""


@dataclass
class TurboBenchConfig:
    """The TurboVSR variants: ``model`` (32x32x8 AE, UNet denoiser, flow sampler; ``configs/turbovsr/*.yaml``
    schema) and, when ``ltx_dit`` is set, the LTX-Video DiT in place of the UNet (the paper's denoiser)."""

    model: TurboVSRConfig = field(default_factory=TurboVSRConfig)
    ltx_dit: LTXDiTConfig | None = None


@dataclass
class BenchConfig:
    """One benchmark setting: the models (sizes only, random weights), the clip, the variants and targets.

    Variants: ``baseline_f8`` (x4 upscale, f8 decode), ``fastvsr_f16`` (x2 upscale, f16 decode as in the
    paper's figure), ``fastvsr_f16_folded`` (norm before the shuffle, copy folded into conv_out),
    ``turbovsr`` / ``turbovsr_4step`` (``turbo``: x4 upscale, 32x32x8 AE, factorised restoration in 1 or 4
    sampler steps per pass). Costs do not depend on weight values, so
    ``pretrained`` folders are not used here.
    """

    name: str = "tiny"
    title: str = ""
    vae: VAEConfig = field(default_factory=VAEConfig)
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)
    decoder: F16DecoderConfig = field(default_factory=F16DecoderConfig)
    turbo: TurboBenchConfig = field(default_factory=TurboBenchConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    timing: TimingConfig = field(default_factory=TimingConfig)
    targets: TargetConfig = field(default_factory=TargetConfig)
    variants: list[str] = field(default_factory=lambda: ["baseline_f8", "fastvsr_f16"])
    count_macs: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [v for v in self.variants if v not in VARIANTS]
        require(not unknown, f"unknown variant '{unknown[0]}' (choose from {', '.join(VARIANTS)})" if unknown else "")
        require(len(self.variants) > 0, "variants must name at least one pipeline")
        require(self.vae.pretrained is None and self.denoiser.pretrained is None,
                "the benchmark measures architectures with random weights; remove vae/denoiser.pretrained")
        require(self.turbo.model.ae.kind == "patchified" or not any(v.startswith("turbo") for v in self.variants),
                "the benchmark builds the TurboVSR AE with random weights; use turbo.model.ae.kind=patchified")
        require(self.name.replace("-", "").replace("_", "").isalnum(),
                f"name '{self.name}' must be letters, digits, '-' or '_' (it names the output folder)")
