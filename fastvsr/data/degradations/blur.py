"""Blur every frame with its own kernel (kornia ``filter2d``, reflect padding)."""

from __future__ import annotations

import torch
from kornia.filters import filter2d


def blur(frames: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Convolve frame ``t`` with ``kernels[t]`` (or every frame with one kernel).

    Args:
        frames: ``(T, C, H, W)`` float in ``[0, 1]``.
        kernels: ``(T, k, k)`` or ``(1, k, k)``, each summing to 1 (``k`` odd).

    Returns:
        ``(T, C, H, W)``, clamped to ``[0, 1]`` (sinc kernels over-shoot).
    """
    # reflect padding needs frames larger than the kernel radius; tiny intermediate frames use replicate
    border = "reflect" if kernels.shape[-1] // 2 < min(frames.shape[-2:]) else "replicate"
    return filter2d(frames, kernels.to(frames), border_type=border).clamp(0, 1)
