"""Memory layout of video tensors ``(B, C, T, H, W)``: the default, or channels-last ``(B, T, H, W, C)``."""

from __future__ import annotations

import torch


def layout_of(x: torch.Tensor) -> torch.memory_format:
    """``torch.channels_last_3d`` for a 5-D tensor stored channels-last (``(B, T, H, W, C)`` in memory),
    else ``torch.contiguous_format`` (also for tensors where both describe the storage, e.g. one channel)."""
    if x.dim() == 5 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last_3d):
        return torch.channels_last_3d
    return torch.contiguous_format
