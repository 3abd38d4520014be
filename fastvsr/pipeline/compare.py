"""Side-by-side comparison frames: the LR input upscaled bicubically | the restored output."""

from __future__ import annotations

import torch

from fastvsr.ops.resize import resize_video


def side_by_side(lr: torch.Tensor, sr: torch.Tensor) -> torch.Tensor:
    """Bicubic upscale of ``lr`` to ``sr``'s size, placed left of ``sr``.

    Args:
        lr: ``(3, T, H, W)`` float in ``[0, 1]``.
        sr: ``(3, T, H', W')`` float in ``[0, 1]``.

    Returns:
        ``(3, T, H', 2 * W')`` float in ``[0, 1]``.
    """
    bicubic = resize_video(lr[None].float(), tuple(sr.shape[-2:]), mode="bicubic")[0]
    return torch.cat([bicubic, sr], dim=-1)
