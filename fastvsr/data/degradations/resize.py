"""Resize frames with torch interpolation (the degradations' bilinear / area / bicubic resampling)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def resize_frames(frames: torch.Tensor, size: tuple[int, int], method: str, antialias: bool = False) -> torch.Tensor:
    """Resize every frame to ``size``.

    Args:
        frames: ``(T, C, H, W)`` float in ``[0, 1]``.
        size: target ``(height, width)``.
        method: ``"bilinear"``, ``"area"`` or ``"bicubic"`` (``align_corners=False``).
        antialias: low-pass before downscaling (bilinear/bicubic only), like MATLAB's ``imresize``.

    Returns:
        ``(T, C, size[0], size[1])`` clamped to ``[0, 1]`` (bicubic over-shoots).
    """
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    if method == "area":
        return F.interpolate(frames, size=tuple(size), mode="area")
    out = F.interpolate(frames, size=tuple(size), mode=method, align_corners=False, antialias=antialias)
    return out.clamp(0, 1)
