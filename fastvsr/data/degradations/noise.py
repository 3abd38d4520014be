"""Additive Gaussian and signal-dependent Poisson noise, colour or grey (the same noise on every channel)."""

from __future__ import annotations

import numpy as np
import torch
from kornia.color import rgb_to_grayscale


def _per_frame(values: np.ndarray, frames: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values), dtype=frames.dtype, device=frames.device).view(-1, 1, 1, 1)


def gaussian_noise(frames: torch.Tensor, sigma: np.ndarray, gray: bool, generator: torch.Generator) -> torch.Tensor:
    """Add ``N(0, (sigma / 255)^2)`` noise.

    Args:
        frames: ``(T, C, H, W)`` float in ``[0, 1]``.
        sigma: ``(T,)`` or scalar standard deviation in 8-bit units.
        gray: one noise plane shared by all channels.
        generator: CPU torch generator the noise is drawn from.

    Returns:
        ``(T, C, H, W)`` clamped to ``[0, 1]``.
    """
    t, c, h, w = frames.shape
    noise = torch.randn((t, 1 if gray else c, h, w), generator=generator).to(frames)
    return (frames + noise * _per_frame(sigma, frames) / 255.0).clamp(0, 1)


def poisson_noise(frames: torch.Tensor, scale: np.ndarray, gray: bool, generator: torch.Generator) -> torch.Tensor:
    """Add shot noise: ``(Poisson(255 x) / 255 - x) * scale`` (8-bit photon counts; grey uses the luma).

    Args:
        frames: ``(T, C, H, W)`` float in ``[0, 1]`` (C = 3 when ``gray``).
        scale: ``(T,)`` or scalar noise strength (1 = plain 8-bit shot noise).
        gray: draw the noise from the luma and add it to every channel.
        generator: CPU torch generator the noise is drawn from.

    Returns:
        ``(T, C, H, W)`` clamped to ``[0, 1]``.
    """
    signal = rgb_to_grayscale(frames) if gray else frames
    counts = torch.poisson((signal * 255.0).float().cpu(), generator=generator).to(frames)
    noise = counts / 255.0 - signal
    return (frames + noise * _per_frame(scale, frames)).clamp(0, 1)
