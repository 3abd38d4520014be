"""Building blocks of the spatio-temporal VAE: residual block, down- and upsampler (all causal in time)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fastvsr.models.vae.causal_conv import CausalConv3d, FrameGroupNorm, resample_time


class ResBlock3D(nn.Module):
    """Norm-SiLU-causal conv twice plus a (1x1x1 when channels change) skip: ``(B, c_in, T, H, W) -> c_out``."""

    def __init__(self, c_in: int, c_out: int, groups: int) -> None:
        super().__init__()
        self.norm1 = FrameGroupNorm(groups, c_in, eps=1e-6)
        self.conv1 = CausalConv3d(c_in, c_out, 3)
        self.norm2 = FrameGroupNorm(groups, c_out, eps=1e-6)
        self.conv2 = CausalConv3d(c_out, c_out, 3)
        self.skip = nn.Conv3d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Downsample3D(nn.Module):
    """Halve H and W with a strided per-frame conv; with ``compress_time`` also ``1 + 2k -> 1 + k`` frames."""

    def __init__(self, channels: int, compress_time: bool) -> None:
        super().__init__()
        self.compress_time = compress_time
        self.conv = CausalConv3d(channels, channels, (1, 3, 3), stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.compress_time:
            x = resample_time(x, up=False)
        return self.conv(x)


class Upsample3D(nn.Module):
    """Double H and W (nearest + per-frame conv); with ``compress_time`` also ``1 + k -> 1 + 2k`` frames."""

    def __init__(self, channels: int, compress_time: bool) -> None:
        super().__init__()
        self.compress_time = compress_time
        self.conv = CausalConv3d(channels, channels, (1, 3, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.compress_time:
            x = resample_time(x, up=True)
        return self.conv(F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="nearest"))


def res_stack(c_in: int, c_out: int, num_layers: int, groups: int) -> list[nn.Module]:
    """``num_layers`` residual blocks, the first mapping ``c_in -> c_out``."""
    return [ResBlock3D(c_in if i == 0 else c_out, c_out, groups) for i in range(num_layers)]
