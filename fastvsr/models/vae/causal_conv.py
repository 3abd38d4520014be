"""Causal 3D convolution and per-frame group norm: the two layers that keep the VAE causal in time.

A causal conv pads only past frames (copies of the first frame), so output frame ``i`` depends on input frames
``<= i``; the group norm normalises each frame on its own, so no statistic leaks information across time.
"""

from __future__ import annotations

import torch
from einops import rearrange, reduce
from torch import nn


class CausalConv3d(nn.Conv3d):
    """``Conv3d`` on ``(B, C, T, H, W)``: ``kernel_t - 1`` copies of frame 0 padded in front, zero spatial pad.

    Spatial stride is allowed (``stride=(1, s, s)``); the output keeps ``T`` frames and ``H/s x W/s`` pixels
    for odd spatial kernels.

    CPU inference (float32, no autograd) calls oneDNN directly: PyTorch's backend choice looks only at
    ``N*C*T*H`` and sends batch-1 convs with few channels to its reference ``slow_conv3d``, which is 6-10x slower
    on the 3-16-channel full-resolution layers (same result up to float rounding, ~1e-6).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int, int] = 3,
                 stride: int | tuple[int, int, int] = 1) -> None:
        kt, kh, kw = (kernel_size,) * 3 if isinstance(kernel_size, int) else kernel_size
        stride = (1, stride, stride) if isinstance(stride, int) else stride
        if stride[0] != 1:
            raise ValueError("CausalConv3d: temporal stride must be 1 (time is resampled outside the conv)")
        super().__init__(in_channels, out_channels, (kt, kh, kw), stride=stride, padding=(0, kh // 2, kw // 2))
        self.time_pad = kt - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.time_pad:
            x = torch.cat([x[:, :, :1].expand(-1, -1, self.time_pad, -1, -1), x], dim=2)
        if _onednn_inference(x):
            return torch.mkldnn_convolution(x.contiguous(), self.weight, self.bias, self.padding, self.stride,
                                            self.dilation, self.groups)
        return super().forward(x)


def _onednn_inference(x: torch.Tensor) -> bool:
    return (x.device.type == "cpu" and x.dtype == torch.float32 and not torch.is_grad_enabled()
            and torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled)


class FrameGroupNorm(nn.GroupNorm):
    """``GroupNorm`` applied to every frame of ``(B, C, T, H, W)`` separately (statistics over C/g, H, W)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        y = super().forward(rearrange(x, "b c t h w -> (b t) c h w"))
        return rearrange(y, "(b t) c h w -> b c t h w", b=b)


def resample_time(x: torch.Tensor, up: bool) -> torch.Tensor:
    """Causal temporal resampling by 2 that keeps the first frame alone.

    ``up=False``: ``1 + 2k`` frames -> ``1 + k`` (frame 0 kept, later frames averaged in pairs);
    ``up=True``: ``1 + k`` -> ``1 + 2k`` (frame 0 kept, later frames repeated). A single frame is unchanged.
    """
    first, rest = x[:, :, :1], x[:, :, 1:]
    if rest.shape[2] == 0:
        return x
    if up:
        rest = rest.repeat_interleave(2, dim=2)
    else:
        rest = reduce(rest, "b c (t pair) h w -> b c t h w", "mean", pair=2)  # any dtype, unlike avg_pool3d
    return torch.cat([first, rest], dim=2)
