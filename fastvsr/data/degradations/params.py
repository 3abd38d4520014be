"""Per-clip degradation parameters and their sampling.

Sampling (``sample_*``) draws every random choice of a clip from an explicit ``numpy.random.Generator``;
applying (``fastvsr.data.degradations.pipeline``) is deterministic given the parameters. Values that may
drift across frames are stored as arrays of length T (constant when the config's ``*_step`` is 0).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import torch

from fastvsr.data.degradations.config import (
    BlurConfig,
    CodecConfig,
    DegradationConfig,
    FinalConfig,
    JpegConfig,
    NoiseConfig,
    ResizeConfig,
    StageConfig,
)
from fastvsr.data.degradations.kernels import anisotropic_kernel, isotropic_gaussian, sinc_kernel


def random_walk(rng: np.random.Generator, bounds: list[float], step: float, num_frames: int) -> np.ndarray:
    """A value uniform in ``bounds`` for frame 0, then moved by ``U(-step, step)`` per frame and clipped to
    ``bounds``. Returns ``(num_frames,)`` float64; all equal when ``step == 0``."""
    low, high = bounds
    start = rng.uniform(low, high)
    moves = rng.uniform(-step, step, size=num_frames - 1) if step > 0 else np.zeros(num_frames - 1)
    values = [start]
    for move in moves:
        values.append(float(np.clip(values[-1] + move, low, high)))
    return np.asarray(values)


def _choice(rng: np.random.Generator, choices: list, probs: list[float]):
    p = np.asarray(probs, dtype=np.float64)
    return choices[int(rng.choice(len(choices), p=p / p.sum()))]


@dataclass
class BlurParams:
    """One kernel type and size for the clip; per-frame ``(T,)`` sigmas, rotation, beta and sinc omega."""

    kind: str
    size: int
    sigma_x: np.ndarray
    sigma_y: np.ndarray
    rotation: np.ndarray
    beta: np.ndarray
    omega: np.ndarray

    def kernels(self) -> torch.Tensor:
        """``(T, size, size)`` float32 kernels, each summing to 1."""
        if self.kind == "iso":
            return isotropic_gaussian(self.size, self.sigma_x)
        if self.kind == "sinc":
            return sinc_kernel(self.size, self.omega)
        family = {"aniso": "gaussian"}.get(self.kind, self.kind.split("_")[0])
        isotropic = self.kind.endswith("_iso")
        sigma_y = self.sigma_x if isotropic else self.sigma_y
        rotation = np.zeros_like(self.rotation) if isotropic else self.rotation
        return anisotropic_kernel(family, self.size, self.sigma_x, sigma_y, rotation, self.beta)


@dataclass
class ResizeParams:
    """Target ``(height, width)`` and interpolation method (``bilinear``, ``area`` or ``bicubic``)."""

    size: tuple[int, int]
    method: str


@dataclass
class NoiseParams:
    """``kind`` ``gaussian`` (level = sigma in 8-bit units) or ``poisson`` (level = scale), per-frame ``(T,)``
    levels, grey or colour, and the seed of the torch generator that draws the noise."""

    kind: str
    level: np.ndarray
    gray: bool
    seed: int


@dataclass
class JpegParams:
    """Per-frame ``(T,)`` integer JPEG qualities in [1, 100]."""

    quality: np.ndarray


@dataclass
class CodecParams:
    """Codec name (PyAV encoder), bitrate (bits per second at ``fps``) and frame rate given to the encoder."""

    codec: str
    bitrate: int
    fps: int


@dataclass
class StageParams:
    """One order of degradation; a ``None`` op is skipped."""

    blur: BlurParams | None = None
    resize: ResizeParams | None = None
    noise: NoiseParams | None = None
    jpeg: JpegParams | None = None
    codec: CodecParams | None = None


@dataclass
class FinalParams:
    """Resize to the exact LR ``size`` (+ optional sinc) and an optional codec; ``codec_first`` orders them."""

    resize: ResizeParams
    sinc: BlurParams | None = None
    codec: CodecParams | None = None
    codec_first: bool = False


@dataclass
class DegradationParams:
    """Everything random about one clip's degradation."""

    stages: list[StageParams] = field(default_factory=list)
    final: FinalParams | None = None


def sample_blur(rng: np.random.Generator, cfg: BlurConfig, num_frames: int) -> BlurParams | None:
    """Draw a blur (or ``None`` with probability ``1 - cfg.prob``)."""
    if rng.uniform() >= cfg.prob:
        return None
    kind = _choice(rng, cfg.kernel_types, cfg.kernel_probs)
    beta_bounds = cfg.beta_plateau if kind.startswith("plateau") else cfg.beta_gaussian
    return BlurParams(
        kind=kind,
        size=int(_choice(rng, cfg.kernel_sizes, [1.0] * len(cfg.kernel_sizes))),
        sigma_x=random_walk(rng, cfg.sigma_x, cfg.sigma_step, num_frames),
        sigma_y=random_walk(rng, cfg.sigma_y, cfg.sigma_step, num_frames),
        rotation=random_walk(rng, cfg.rotation, cfg.rotation_step, num_frames),
        beta=random_walk(rng, beta_bounds, cfg.beta_step, num_frames),
        omega=random_walk(rng, cfg.omega, cfg.omega_step, num_frames),
    )


def _rounded_size(height: float, width: float, even: bool) -> tuple[int, int]:
    step = 2 if even else 1
    return tuple(max(step, int(round(v / step)) * step) for v in (height, width))  # type: ignore[return-value]


def sample_resize(rng: np.random.Generator, cfg: ResizeConfig, size: tuple[int, int]) -> ResizeParams | None:
    """Draw up/down/keep and a method for frames of ``size``; ``None`` for keep."""
    mode = _choice(rng, ["up", "down", "keep"], cfg.mode_probs)
    method = _choice(rng, cfg.methods, cfg.method_probs)
    if mode == "keep":
        return None
    scale = rng.uniform(1.0, cfg.scale[1]) if mode == "up" else rng.uniform(cfg.scale[0], 1.0)
    return ResizeParams(_rounded_size(size[0] * scale, size[1] * scale, cfg.even_size), method)


def sample_noise(rng: np.random.Generator, cfg: NoiseConfig, num_frames: int) -> NoiseParams | None:
    """Draw Gaussian or Poisson noise (or ``None`` with probability ``1 - cfg.prob``)."""
    if rng.uniform() >= cfg.prob:
        return None
    gaussian = rng.uniform() < cfg.gaussian_prob
    level = (random_walk(rng, cfg.gaussian_sigma, cfg.sigma_step, num_frames) if gaussian
             else random_walk(rng, cfg.poisson_scale, cfg.poisson_step, num_frames))
    return NoiseParams("gaussian" if gaussian else "poisson", level, bool(rng.uniform() < cfg.gray_prob),
                       int(rng.integers(0, 2**62)))


def sample_jpeg(rng: np.random.Generator, cfg: JpegConfig, num_frames: int) -> JpegParams | None:
    """Draw per-frame JPEG qualities (or ``None`` with probability ``1 - cfg.prob``)."""
    if rng.uniform() >= cfg.prob:
        return None
    return JpegParams(np.round(random_walk(rng, cfg.quality, cfg.quality_step, num_frames)).astype(int))


def sample_codec(rng: np.random.Generator, cfg: CodecConfig, num_frames: int) -> CodecParams | None:
    """Draw a codec and bitrate; ``None`` with probability ``1 - cfg.prob`` and always for one-frame clips."""
    if rng.uniform() >= cfg.prob or num_frames < 2:
        return None
    codec = _choice(rng, cfg.codecs, cfg.codec_probs)
    return CodecParams(codec, int(rng.uniform(cfg.bitrate[0], cfg.bitrate[1])), cfg.fps)


def sample_stage(rng: np.random.Generator, cfg: StageConfig, num_frames: int,
                 size: tuple[int, int]) -> tuple[StageParams, tuple[int, int]]:
    """Draw one stage for frames of ``size``; returns the parameters and the frame size after the stage."""
    params = StageParams(blur=sample_blur(rng, cfg.blur, num_frames), resize=sample_resize(rng, cfg.resize, size),
                         noise=sample_noise(rng, cfg.noise, num_frames), jpeg=sample_jpeg(rng, cfg.jpeg, num_frames),
                         codec=sample_codec(rng, cfg.codec, num_frames))
    return params, params.resize.size if params.resize else size


def sample_final(rng: np.random.Generator, cfg: FinalConfig, num_frames: int, lr_size: tuple[int, int]) -> FinalParams:
    """Draw the final resize method to ``lr_size``, optional sinc, optional codec and their order."""
    return FinalParams(resize=ResizeParams(lr_size, _choice(rng, cfg.methods, cfg.method_probs)),
                       sinc=sample_blur(rng, cfg.sinc, num_frames), codec=sample_codec(rng, cfg.codec, num_frames),
                       codec_first=bool(cfg.shuffle and rng.uniform() < 0.5))


def sample_degradation(rng: np.random.Generator, cfg: DegradationConfig, num_frames: int,
                       size: tuple[int, int]) -> DegradationParams:
    """Draw all parameters of a real-world degradation for a clip of ``num_frames`` frames of ``size = (H, W)``;
    ``H`` and ``W`` must be multiples of ``cfg.scale``."""
    stages = []
    current = size
    for stage_cfg in cfg.stages:
        stage, current = sample_stage(rng, stage_cfg, num_frames, current)
        stages.append(stage)
    lr_size = (size[0] // cfg.scale, size[1] // cfg.scale)
    return DegradationParams(stages, sample_final(rng, cfg.final, num_frames, lr_size))


def slice_params(params, start: int, stop: int):
    """The parameters of frames ``start:stop`` of a clip: per-frame arrays sliced, noise seeds offset by
    ``start`` (so consecutive chunks get fresh noise). Works on any of the ``*Params`` dataclasses."""
    if not dataclasses.is_dataclass(params):
        return params
    changes = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if isinstance(value, np.ndarray):
            changes[f.name] = value[start:stop]
        elif isinstance(value, list):
            changes[f.name] = [slice_params(v, start, stop) for v in value]
        elif dataclasses.is_dataclass(value):
            changes[f.name] = slice_params(value, start, stop)
    if isinstance(params, NoiseParams):
        changes["seed"] = params.seed + start
    return dataclasses.replace(params, **changes)
