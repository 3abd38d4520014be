"""Config schema of the video degradations (loaded with ``fastvsr.config.load_config``).

Defaults are DOVE's ``finetune/configs/degradation.yaml`` (RealBasicVSR's second-order video degradation): two
stages of blur -> resize -> noise -> JPEG (-> video codec in stage one), then, in shuffled order, video codec
and [resize to exactly 1/scale + sinc blur]. Ranges are ``[low, high]`` and sampled uniformly; ``*_step`` is the
largest per-frame change of a random walk across the frames of a clip ("drift"; 0 keeps the value fixed).
Gaussian noise sigma is in 8-bit units (1-30 means 1/255-30/255).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from fastvsr.config import require

KERNEL_TYPES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso", "sinc")
RESIZE_METHODS = ("bilinear", "area", "bicubic")
CODECS = ("libx264", "h264", "mpeg4")


class DegradationMode(str, Enum):
    """``bicubic``: plain bicubic x``scale`` downscale. ``realworld``: the random second-order pipeline."""

    BICUBIC = "bicubic"
    REALWORLD = "realworld"


def _check_range(name: str, bounds: list[float], low: float = -math.inf) -> None:
    require(len(bounds) == 2 and low <= bounds[0] <= bounds[1],
            f"{name} must be [low, high] with {low} <= low <= high, got {bounds}")


def _check_choices(name: str, choices: list, probs: list[float], allowed: tuple[str, ...]) -> None:
    require(len(choices) == len(probs) and len(choices) > 0, f"{name}: {len(choices)} choices but {len(probs)} probs")
    bad = [c for c in choices if allowed and c not in allowed]
    require(not bad, f"{name}: unknown choice {bad[:1]}; expected one of {', '.join(allowed)}")
    require(all(p >= 0 for p in probs) and abs(sum(probs) - 1) < 1e-3, f"{name}: probs must be >= 0 and sum to 1")


def _check_prob(name: str, p: float) -> None:
    require(0 <= p <= 1, f"{name} must be in [0, 1], got {p}")


@dataclass
class BlurConfig:
    """Random blur kernel: type, odd size, Gaussian sigmas/rotation, shape exponent beta, sinc cut-off omega."""

    prob: float = 1.0
    kernel_sizes: list[int] = field(default_factory=lambda: [7, 9, 11, 13, 15, 17, 19, 21])
    kernel_types: list[str] = field(default_factory=lambda: list(KERNEL_TYPES))
    kernel_probs: list[float] = field(default_factory=lambda: [0.405, 0.225, 0.108, 0.027, 0.108, 0.027, 0.1])
    sigma_x: list[float] = field(default_factory=lambda: [0.2, 3.0])
    sigma_y: list[float] = field(default_factory=lambda: [0.2, 3.0])
    rotation: list[float] = field(default_factory=lambda: [-3.1416, 3.1416])
    beta_gaussian: list[float] = field(default_factory=lambda: [0.5, 4.0])
    beta_plateau: list[float] = field(default_factory=lambda: [1.0, 2.0])
    omega: list[float] = field(default_factory=lambda: [1.0472, 3.1416])  # pi/3 .. pi, as DOVE writes them
    sigma_step: float = 0.0
    rotation_step: float = 0.0
    beta_step: float = 0.0
    omega_step: float = 0.0

    def __post_init__(self) -> None:
        _check_prob("blur.prob", self.prob)
        require(all(k % 2 == 1 and k >= 3 for k in self.kernel_sizes), "blur.kernel_sizes must be odd and >= 3")
        _check_choices("blur.kernel_types", self.kernel_types, self.kernel_probs, KERNEL_TYPES)
        for name in ("sigma_x", "sigma_y", "beta_gaussian", "beta_plateau", "omega"):
            _check_range(f"blur.{name}", getattr(self, name), low=1e-6)
        _check_range("blur.rotation", self.rotation)


@dataclass
class ResizeConfig:
    """Random resize: up (scale in [1, high]) / down (scale in [low, 1]) / keep, with a random method."""

    mode_probs: list[float] = field(default_factory=lambda: [0.2, 0.7, 0.1])  # up, down, keep
    scale: list[float] = field(default_factory=lambda: [0.15, 1.5])
    methods: list[str] = field(default_factory=lambda: list(RESIZE_METHODS))
    method_probs: list[float] = field(default_factory=lambda: [0.3333, 0.3333, 0.3334])
    even_size: bool = True

    def __post_init__(self) -> None:
        _check_choices("resize.mode_probs", ["up", "down", "keep"], self.mode_probs, ())
        _check_range("resize.scale", self.scale, low=1e-3)
        require(self.scale[0] <= 1 <= self.scale[1], f"resize.scale must contain 1, got {self.scale}")
        _check_choices("resize.methods", self.methods, self.method_probs, RESIZE_METHODS)


@dataclass
class NoiseConfig:
    """Gaussian (sigma in 8-bit units) or Poisson (scale) noise, grey (same on all channels) with ``gray_prob``."""

    prob: float = 1.0
    gaussian_prob: float = 0.5
    gaussian_sigma: list[float] = field(default_factory=lambda: [1.0, 30.0])
    poisson_scale: list[float] = field(default_factory=lambda: [0.05, 3.0])
    gray_prob: float = 0.4
    sigma_step: float = 0.0
    poisson_step: float = 0.0

    def __post_init__(self) -> None:
        for name in ("prob", "gaussian_prob", "gray_prob"):
            _check_prob(f"noise.{name}", getattr(self, name))
        _check_range("noise.gaussian_sigma", self.gaussian_sigma, low=0)
        _check_range("noise.poisson_scale", self.poisson_scale, low=0)


@dataclass
class JpegConfig:
    """JPEG re-encoding per frame at a quality in ``quality`` (drifting by up to ``quality_step`` a frame)."""

    prob: float = 1.0
    quality: list[float] = field(default_factory=lambda: [30.0, 95.0])
    quality_step: float = 3.0

    def __post_init__(self) -> None:
        _check_prob("jpeg.prob", self.prob)
        _check_range("jpeg.quality", self.quality, low=1)
        require(self.quality[1] <= 100, f"jpeg.quality must be <= 100, got {self.quality}")


@dataclass
class CodecConfig:
    """Video codec round trip of the whole clip at a bitrate (bits per second at ``fps``; fps 1 = bits per frame)."""

    prob: float = 1.0
    codecs: list[str] = field(default_factory=lambda: list(CODECS))
    codec_probs: list[float] = field(default_factory=lambda: [0.3333, 0.3333, 0.3334])
    bitrate: list[float] = field(default_factory=lambda: [1e4, 1e5])
    fps: int = 1

    def __post_init__(self) -> None:
        _check_prob("codec.prob", self.prob)
        _check_choices("codec.codecs", self.codecs, self.codec_probs, CODECS)
        _check_range("codec.bitrate", self.bitrate, low=1000)
        require(self.fps >= 1, f"codec.fps must be >= 1, got {self.fps}")


@dataclass
class StageConfig:
    """One order of degradation: blur -> resize -> noise -> JPEG -> codec (each skipped with prob 1 - prob);
    ``enabled: false`` skips the whole stage (e.g. ``second.enabled=false`` for a first-order degradation)."""

    enabled: bool = True
    blur: BlurConfig = field(default_factory=BlurConfig)
    resize: ResizeConfig = field(default_factory=ResizeConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    jpeg: JpegConfig = field(default_factory=JpegConfig)
    codec: CodecConfig = field(default_factory=lambda: CodecConfig(prob=0.0))


def first_stage() -> StageConfig:
    """DOVE's ``degradation_1``: strong blur, resize, noise, JPEG and a video codec."""
    return StageConfig(codec=CodecConfig(prob=1.0))


def second_stage() -> StageConfig:
    """DOVE's ``degradation_2``: milder blur (prob 0.8), resize, noise, JPEG; its codec runs in the final step."""
    return StageConfig(
        blur=BlurConfig(prob=0.8, sigma_x=[0.2, 1.5], sigma_y=[0.2, 1.5]),
        resize=ResizeConfig(mode_probs=[0.3, 0.4, 0.3], scale=[0.3, 1.2]),
        noise=NoiseConfig(gaussian_sigma=[1.0, 25.0], poisson_scale=[0.05, 2.5]),
    )


@dataclass
class FinalConfig:
    """Last step: resize to exactly 1/scale (+ sinc blur with ``sinc_prob``) and a video codec, in random order."""

    methods: list[str] = field(default_factory=lambda: list(RESIZE_METHODS))
    method_probs: list[float] = field(default_factory=lambda: [0.3333, 0.3333, 0.3334])
    sinc: BlurConfig = field(default_factory=lambda: BlurConfig(prob=0.8, kernel_types=["sinc"], kernel_probs=[1.0]))
    codec: CodecConfig = field(default_factory=CodecConfig)
    shuffle: bool = True

    def __post_init__(self) -> None:
        _check_choices("final.methods", self.methods, self.method_probs, RESIZE_METHODS)


@dataclass
class DegradationConfig:
    """Everything the degradation needs: ``first`` stage, ``second`` stage, ``final`` step. ``mode: bicubic``
    ignores them and only downscales. Every value can be overridden as ``key=value`` (``second.blur.prob=0``)."""

    mode: DegradationMode = DegradationMode.REALWORLD
    scale: int = 4
    first: StageConfig = field(default_factory=first_stage)
    second: StageConfig = field(default_factory=second_stage)

    @property
    def stages(self) -> list[StageConfig]:
        """The enabled stages, in order."""
        return [stage for stage in (self.first, self.second) if stage.enabled]
    final: FinalConfig = field(default_factory=FinalConfig)

    def __post_init__(self) -> None:
        require(self.scale >= 1, f"scale must be >= 1, got {self.scale}")
