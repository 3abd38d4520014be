"""Per-frame pixel shuffle and channel copy on video tensors, and folding a copy into a following conv.

Video tensors are ``(B, C, T, H, W)``; every operation here is purely spatial/channel-wise and leaves the
time axis untouched (each frame is shuffled on its own).
"""

from __future__ import annotations

import torch
from einops import rearrange

from fastvsr.ops.layout import layout_of


def pixel_shuffle_frames(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """PixelShuffle applied to every frame: ``(B, C*r*r, T, H, W) -> (B, C, T, H*r, W*r)``.

    Channel order matches ``torch.nn.functional.pixel_shuffle`` (channel ``c*r*r + i*r + j`` goes to
    sub-pixel ``(i, j)`` of output channel ``c``). Any value range. A channels-last input gives a
    channels-last output (one copy either way).
    """
    if x.shape[1] % (factor * factor):
        raise ValueError(f"pixel_shuffle_frames: {x.shape[1]} channels are not divisible by {factor * factor}")
    if layout_of(x) is torch.channels_last_3d:  # shuffle the (B, T, H, W, C) storage: the output stays so
        shuffled = rearrange(x.permute(0, 2, 3, 4, 1), "b t h w (c i j) -> b t (h i) (w j) c", i=factor, j=factor)
        return shuffled.permute(0, 4, 1, 2, 3)
    return rearrange(x, "b (c i j) t h w -> b c t (h i) (w j)", i=factor, j=factor)


def pixel_unshuffle_frames(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Inverse of :func:`pixel_shuffle_frames`: ``(B, C, T, H*r, W*r) -> (B, C*r*r, T, H, W)``."""
    return rearrange(x, "b c t (h i) (w j) -> b (c i j) t h w", i=factor, j=factor)


def channel_copy(x: torch.Tensor, copies: int) -> torch.Tensor:
    """Parameter-free channel expansion by tiling: ``(B, C, ...) -> (B, copies*C, ...)``.

    Output channel ``k*C + c`` is input channel ``c`` (``x.repeat`` along channels, not interleaved).
    """
    return x.repeat(1, copies, *([1] * (x.dim() - 2)))


def fold_copy_into_conv_weight(weight: torch.Tensor, copies: int) -> torch.Tensor:
    """Weight of a conv on ``C`` channels equal to ``weight`` (a conv on ``copies*C`` channels) applied to
    :func:`channel_copy` of its input: the ``copies`` input-channel slices summed.

    ``weight`` is ``(C_out, copies*C, *kernel)``; returns ``(C_out, C, *kernel)``. Exact (up to float rounding)
    because the conv is linear in its input and zero padding commutes with the copy.
    """
    c_in = weight.shape[1]
    if c_in % copies:
        raise ValueError(f"fold_copy_into_conv_weight: {c_in} input channels are not divisible by {copies}")
    return rearrange(weight, "o (k c) ... -> k o c ...", k=copies).sum(dim=0)
