"""The second-order video degradation: sample once per clip, apply the same parameters to every frame.

``degrade(video, cfg, rng)`` is the entry point: ``(C, T, H, W)`` or ``(B, C, T, H, W)`` HR in ``[0, 1]`` ->
LR of exactly ``(H / scale, W / scale)``. ``apply_degradation(frames, params)`` replays sampled parameters.
"""

from __future__ import annotations

import numpy as np
import torch
from einops import rearrange

from fastvsr.data.degradations.blur import blur
from fastvsr.data.degradations.codec import compress_video
from fastvsr.data.degradations.config import DegradationConfig, DegradationMode
from fastvsr.data.degradations.jpeg import jpeg
from fastvsr.data.degradations.noise import gaussian_noise, poisson_noise
from fastvsr.data.degradations.params import (
    CodecParams,
    DegradationParams,
    FinalParams,
    StageParams,
    sample_degradation,
)
from fastvsr.data.degradations.resize import resize_frames
from fastvsr.errors import InputError
from fastvsr.ops.resize import bicubic_rescale


def _codec(frames: torch.Tensor, params: CodecParams | None) -> torch.Tensor:
    return compress_video(frames, params.codec, params.bitrate, params.fps) if params else frames


def apply_stage(frames: torch.Tensor, params: StageParams) -> torch.Tensor:
    """Blur -> resize -> noise -> JPEG -> codec on ``(T, 3, H, W)`` frames in ``[0, 1]``; skipped ops are None."""
    if params.blur:
        frames = blur(frames, params.blur.kernels())
    if params.resize:
        frames = resize_frames(frames, params.resize.size, params.resize.method)
    if params.noise:
        add_noise = gaussian_noise if params.noise.kind == "gaussian" else poisson_noise
        generator = torch.Generator().manual_seed(params.noise.seed)
        frames = add_noise(frames, params.noise.level, params.noise.gray, generator)
    if params.jpeg:
        frames = jpeg(frames, params.jpeg.quality)
    return _codec(frames, params.codec)


def apply_final(frames: torch.Tensor, params: FinalParams) -> torch.Tensor:
    """Codec and [resize to the LR size + optional sinc], in the sampled order. ``(T, 3, h, w)`` -> LR size."""
    if params.codec_first:
        frames = _codec(frames, params.codec)
    frames = resize_frames(frames, params.resize.size, params.resize.method)
    if params.sinc:
        frames = blur(frames, params.sinc.kernels())
    return frames if params.codec_first else _codec(frames, params.codec)


def apply_degradation(frames: torch.Tensor, params: DegradationParams) -> torch.Tensor:
    """Replay sampled parameters on one clip. ``(T, 3, H, W)`` float ``[0, 1]`` -> ``(T, 3, h, w)`` ``[0, 1]``."""
    for stage in params.stages:
        frames = apply_stage(frames, stage)
    return apply_final(frames, params.final) if params.final else frames


def bicubic_downscale(frames: torch.Tensor, scale: int) -> torch.Tensor:
    """Classic "BI" degradation: :func:`fastvsr.ops.resize.bicubic_rescale` by ``1 / scale``.
    ``(T, C, H, W)`` (sides multiples of ``scale``) -> ``(T, C, H / scale, W / scale)`` in ``[0, 1]``."""
    return bicubic_rescale(frames.transpose(0, 1)[None], 1 / scale)[0].transpose(0, 1)


def check_divisible(height: int, width: int, scale: int) -> None:
    """Raise :class:`InputError` unless both sides are multiples of ``scale``."""
    if height % scale or width % scale:
        raise InputError(f"frame size {width}x{height} is not a multiple of the scale {scale}; crop it first")


def degrade_clip(clip: torch.Tensor, cfg: DegradationConfig, rng: np.random.Generator) -> torch.Tensor:
    """Degrade one clip ``(C, T, H, W)`` in ``[0, 1]`` -> ``(C, T, H / scale, W / scale)`` in ``[0, 1]``."""
    c, t, h, w = clip.shape
    check_divisible(h, w, cfg.scale)
    frames = rearrange(clip, "c t h w -> t c h w")
    if cfg.mode == DegradationMode.BICUBIC:
        out = bicubic_downscale(frames, cfg.scale)
    else:
        out = apply_degradation(frames, sample_degradation(rng, cfg, t, (h, w)))
    return rearrange(out, "t c h w -> c t h w").contiguous()


def degrade(video: torch.Tensor, cfg: DegradationConfig, rng: np.random.Generator) -> torch.Tensor:
    """Degrade a clip ``(C, T, H, W)`` or a batch ``(B, C, T, H, W)`` (each clip draws its own parameters).

    Args:
        video: HR float in ``[0, 1]``, ``C = 3``; ``H`` and ``W`` multiples of ``cfg.scale``.
        cfg: the degradation config (``mode`` bicubic or realworld).
        rng: the only source of randomness; the same generator state gives the same output.

    Returns:
        LR of the same layout with spatial size exactly ``(H / scale, W / scale)``, float in ``[0, 1]``.

    Raises:
        InputError: H or W is not a multiple of the scale, or the tensor is not 4-D/5-D with 3 channels.
    """
    if video.dim() not in (4, 5) or video.shape[-4] != 3:
        raise InputError(f"expected a (C, T, H, W) or (B, C, T, H, W) RGB video, got shape {tuple(video.shape)}")
    with torch.no_grad():
        if video.dim() == 4:
            return degrade_clip(video, cfg, rng)
        return torch.stack([degrade_clip(clip, cfg, rng) for clip in video])
