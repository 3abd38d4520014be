"""Spatial resizing of videos: the LR upscale before encoding (bilinear, ``align_corners=False``, as DOVE does)
and the bicubic reference used for side-by-side comparisons."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange


def resize_video(video: torch.Tensor, size: tuple[int, int], mode: str = "bilinear",
                 antialias: bool = False) -> torch.Tensor:
    """Resize every frame of a video to ``size``.

    Args:
        video: ``(B, C, T, H, W)`` float in ``[0, 1]``.
        size: target ``(height, width)``.
        mode: ``"bilinear"`` or ``"bicubic"`` (``align_corners=False``; bicubic output is clamped to
            ``[0, 1]``, it overshoots at edges), or ``"nearest-exact"``.
        antialias: low-pass before shrinking (bilinear/bicubic only), as an image downscale should.

    Returns:
        ``(B, C, T, size[0], size[1])`` float in ``[0, 1]``, same dtype as ``video``.
    """
    b, _, _, h, w = video.shape
    if (h, w) == tuple(size):
        return video
    frames = rearrange(video, "b c t h w -> (b t) c h w")
    corners = {} if mode == "nearest-exact" else {"align_corners": False}
    out = F.interpolate(frames, size=tuple(size), mode=mode, antialias=antialias, **corners)
    if mode == "bicubic":
        out = out.clamp(0, 1)
    return rearrange(out, "(b t) c h w -> b c t h w", b=b)


def scaled_size(height: int, width: int, factor: float) -> tuple[int, int]:
    """``(height * factor, width * factor)`` as integers; raises ``ValueError`` when that is not whole."""
    out_h, out_w = height * factor, width * factor
    size = round(out_h), round(out_w)
    if abs(size[0] - out_h) > 1e-6 or abs(size[1] - out_w) > 1e-6:  # tolerate float error, e.g. factor 1/3
        raise ValueError(f"{height}x{width} scaled by {factor} is not a whole number of pixels")
    return size


def bicubic_rescale(video: torch.Tensor, factor: float) -> torch.Tensor:
    """Bicubic resize of every frame by ``factor`` (antialiased when shrinking), clamped to ``[0, 1]``: the one
    bicubic rescale of the project (the "BI" x4 LR is ``factor = 1/4``; the lower bound's floor is ``2``).

    Args:
        video: ``(B, C, T, H, W)`` float in ``[0, 1]``; ``H * factor`` and ``W * factor`` must be whole.
    Returns:
        ``(B, C, T, H * factor, W * factor)`` float in ``[0, 1]``.
    """
    size = scaled_size(video.shape[-2], video.shape[-1], factor)
    return resize_video(video, size, mode="bicubic", antialias=factor < 1)


UPSCALE_MODES = ("bilinear", "bicubic", "nearest")


def check_upscale_mode(mode: str) -> None:
    """Raise ``ValueError`` unless ``mode`` is one of :data:`UPSCALE_MODES`."""
    if mode not in UPSCALE_MODES:
        raise ValueError(f"input_upscale_mode must be one of {UPSCALE_MODES}, got '{mode}'")


def upscale_lr(video: torch.Tensor, factor: float, mode: str = "bilinear") -> torch.Tensor:
    """Upscale of the low-resolution input before encoding (``model.input_upscale(scale)``).

    Args:
        video: ``(B, C, T, H, W)`` float in ``[0, 1]``.
        factor: spatial factor; ``H * factor`` and ``W * factor`` must be whole numbers.
        mode: ``"bilinear"`` (DOVE), ``"bicubic"`` or ``"nearest"`` (pixel replication for whole factors: a
            2x2 mean of the result gives the LR back exactly, see ``fastvsr.models.vae.shortcut``).

    Returns:
        ``(B, C, T, H * factor, W * factor)`` float in ``[0, 1]``.
    """
    check_upscale_mode(mode)
    size = scaled_size(video.shape[-2], video.shape[-1], factor)
    return resize_video(video, size, mode="nearest-exact" if mode == "nearest" else mode)
