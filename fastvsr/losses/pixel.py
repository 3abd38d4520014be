"""Pixel losses reduced per sample, so callers can compare samples (the lower-bound hinge) or average them.

All inputs are videos ``(B, C, T, H, W)`` float in ``[0, 1]``; every function returns a ``(B,)`` float32 tensor.
Losses are computed in float32 whatever the autocast dtype of the inputs (style guide: losses in fp32).
"""

from __future__ import annotations

import torch


def _per_sample_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over every axis but the first: ``(B, ...)`` -> ``(B,)``."""
    return x.float().flatten(1).mean(dim=1)


def l1_per_sample(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error per sample. Shapes: ``(B, C, T, H, W)`` x2 -> ``(B,)``."""
    return _per_sample_mean((pred.float() - target.float()).abs())


def mse_per_sample(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error per sample. Shapes: ``(B, C, T, H, W)`` x2 -> ``(B,)``."""
    return _per_sample_mean((pred.float() - target.float()).square())


def frame_difference_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between temporal differences ``x[t+1] - x[t]`` of prediction and target (DOVE stage 2).

    Penalises flicker the per-frame terms cannot see. A single-frame clip has no differences and gives 0.

    Shapes: ``(B, C, T, H, W)`` x2 -> ``(B,)``.
    """
    if pred.shape[2] < 2:
        return pred.new_zeros(pred.shape[0], dtype=torch.float32)
    return l1_per_sample(pred.diff(dim=2), target.diff(dim=2))
