"""Typed benchmark settings (schema of ``configs/bench/*.yaml``), loaded with ``fastvsr.config.load_config``."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastvsr.config import require
from fastvsr.frame_batch import DEFAULT_FRAME_BATCH
from fastvsr.models.config import ModelConfig
from fastvsr.ops.color_fix_mode import ColorFix
from fastvsr.precision import Precision


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
    dtype: Precision = Precision.FP32  # auto: bf16 on a CUDA device that supports it
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
class BenchConfig:
    """One benchmark setting: the models (random weights), the clip, and the targets.

    ``models``: variant name -> model description (:class:`fastvsr.models.ModelConfig`, usually
    ``{_base_: ../models/<file>.yaml}`` plus a few keys), built and measured side by side in this order; the
    ratios compare every variant with ``baseline`` (the f8 one-step model FastVSR accelerates) and the latency
    target is ``baseline`` over ``compared``. Costs do not depend on weight values, so ``pretrained`` folders
    are not used here. Variants whose parts have the same description share them (one VAE, one denoiser).
    """

    MOVED_KEYS = {**{key: "every variant is one model description under models (models.<name>: {_base_: "
                          "../models/<file>.yaml, ...})" for key in ("vae", "denoiser", "decoder", "turbo", "sampler")},
                  "variants": "list the models to run in only (e.g. only=[baseline_f8,fastvsr_f16])"}

    name: str = "tiny"
    title: str = ""
    models: dict[str, ModelConfig] = field(default_factory=dict)
    only: list[str] = field(default_factory=list)  # run just these models (empty: all)
    baseline: str = "baseline_f8"
    compared: str = "fastvsr_f16"
    clip: ClipConfig = field(default_factory=ClipConfig)
    timing: TimingConfig = field(default_factory=TimingConfig)
    targets: TargetConfig = field(default_factory=TargetConfig)
    count_macs: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        require(len(self.models) > 0, "models must name at least one variant")
        unknown = [name for name in self.only if name not in self.models]
        require(not unknown, f"unknown variant '{unknown[0]}' in only (choose from {', '.join(self.models)})"
                if unknown else "")
        if self.only:
            self.models = {name: model for name, model in self.models.items() if name in self.only}
        loaded = [name for name, m in self.models.items()
                  if m.vae.pretrained or m.denoiser.pretrained or m.decoder.pretrained]
        require(not loaded, f"models.{loaded[0]}: the benchmark measures architectures with random weights; remove "
                "its pretrained folders" if loaded else "")
        require(self.name.replace("-", "").replace("_", "").isalnum(),
                f"name '{self.name}' must be letters, digits, '-' or '_' (it names the output folder)")


PLANNERS = ("even", "fixed")


@dataclass
class PipelineVariantConfig:
    """One way of running the inference pipeline (``fastvsr.bench.pipeline``).

    ``tile``, ``tile_overlap``, ``memory_budget_gb``, ``frame_batch`` (0: whole chunks), ``fold_copy``,
    ``channels_last`` and ``color_fix`` are :class:`fastvsr.pipeline.config.InferConfig`'s;
    ``planner``: ``even`` (the pipeline's tile plan) or ``fixed`` (full-size tiles at a fixed stride, the last
    one moved back inside the frame; needs an int ``tile``); ``keep_memory: false`` runs the process with
    ``FASTVSR_KEEP_MEMORY=0`` (glibc's default allocator behaviour).
    """

    tile: int | str = "auto"
    tile_overlap: int | None = None
    memory_budget_gb: float = 0.0
    frame_batch: int = DEFAULT_FRAME_BATCH
    fold_copy: bool = True
    channels_last: bool = True
    color_fix: str = "none"
    planner: str = "even"
    keep_memory: bool = True

    def __post_init__(self) -> None:
        require(self.color_fix in {c.value for c in ColorFix},
                f"color_fix must be one of {', '.join(c.value for c in ColorFix)}, got '{self.color_fix}'")
        require(self.planner in PLANNERS, f"planner must be one of {', '.join(PLANNERS)}, got '{self.planner}'")
        require(self.planner == "even" or isinstance(self.tile, int),
                f"planner fixed needs an int tile, got '{self.tile}'")


@dataclass
class PipelineBenchConfig:
    """The inference pipeline on a saved model and a real clip: each variant restores the clip's first
    ``frames`` frames as one chunk x ``scale`` in a fresh process (the allocator setting is per process),
    ``warmup`` untimed restorations then one timed, ``repeats`` processes per variant, interleaved.

    ``model``: a model folder ("" = the shipped default model); ``clip``: a video file (relative to the
    working directory); ``only``: run just these variants (empty: all); ``baseline``: the variant every ratio
    divides ("" = the first that runs).
    """

    name: str = "default_cpu"
    title: str = ""
    model: str = ""
    clip: str = "tests/data/bbb_320x180_17f.mp4"
    frames: int = 3
    scale: int = 4
    threads: int = 2
    warmup: int = 1
    repeats: int = 3
    baseline: str = ""
    variants: dict[str, PipelineVariantConfig] = field(default_factory=dict)
    only: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        require(len(self.variants) > 0, "variants must name at least one pipeline variant")
        unknown = [name for name in self.only if name not in self.variants]
        require(not unknown, f"unknown variant '{unknown[0]}' in only (choose from {', '.join(self.variants)})"
                if unknown else "")
        if self.only:
            self.variants = {name: v for name, v in self.variants.items() if name in self.only}
        require(min(self.frames, self.scale, self.threads, self.repeats) >= 1 and self.warmup >= 0,
                "frames, scale, threads and repeats must be >= 1 and warmup >= 0")
        require(not self.baseline or self.baseline in self.variants,
                f"baseline '{self.baseline}' is not a variant (choose from {', '.join(self.variants)})")
        require(self.name.replace("-", "").replace("_", "").isalnum(),
                f"name '{self.name}' must be letters, digits, '-' or '_' (it names the output folder)")
        self.baseline = self.baseline or next(iter(self.variants))
