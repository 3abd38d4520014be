"""Building blocks of the spatio-temporal VAE: residual block, down- and upsampler (all causal in time).

:class:`BlockStyle` picks the block design. The default (``norm="group"``, ``act="silu"``,
``upsample="nearest"``) is the usual latent-diffusion VAE block. ``norm="none"``, ``act="relu"``,
``upsample="pixel_shuffle"`` is a plain, norm-free EDSR-style block with sub-pixel upsampling: a small VAE
whose decoder must learn super-resolution on a CPU (the default model, ``docs/default_model.md``) trains far
faster with it, because a PixelShuffle upsampler gives every output sub-pixel its own channels, where nearest
upsampling hands the four sub-pixels identical features.

``time_kernel`` (``decoder_time_kernel`` in the VAE config, decoder only) is the temporal size of the residual
blocks' and the decoder's input and output convs: 3 by default, 1 for a decoder that restores every frame on its
own (its time mixing then lies in the causal encoder and the denoiser). A per-frame decoder trains on single
frames exactly as it runs on clips, and a 1x3x3 conv costs a third of a 3x3x3 one.

The encoder's and decoder's output heads use :meth:`BlockStyle.head`: norm + activation for the default style,
nothing for the norm-free one (EDSR ends its body with a bare conv too). A ReLU in front of a zero-initialised
output conv can die for good: in the default model's f16 decoder every head feature went negative within 50
steps and the output never left zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from fastvsr.models.vae.causal_conv import CausalConv3d, FrameGroupNorm, resample_time
from fastvsr.ops.pixel import pixel_shuffle_frames

NORM_TYPES = ("group", "none")
ACT_FNS = ("silu", "relu")
UPSAMPLE_MODES = ("nearest", "pixel_shuffle")
TIME_KERNELS = (1, 3)


@dataclass(frozen=True)
class BlockStyle:
    """Normalisation, activation and upsampler of every VAE block (see the module docstring)."""

    groups: int = 8
    norm: str = "group"
    act: str = "silu"
    upsample: str = "nearest"
    time_kernel: int = 3  # temporal size of the residual blocks' convs: 3 (causal, two past frames) or 1 (per frame)

    def __post_init__(self) -> None:
        for value, allowed, name in ((self.norm, NORM_TYPES, "norm_type"), (self.act, ACT_FNS, "act_fn"),
                                     (self.upsample, UPSAMPLE_MODES, "upsample_mode")):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got '{value}'")
        if self.time_kernel not in TIME_KERNELS:
            raise ValueError(f"decoder_time_kernel must be one of {TIME_KERNELS}, got {self.time_kernel}")

    @property
    def conv_kernel(self) -> tuple[int, int, int]:
        """``(time_kernel, 3, 3)``: the kernel of the residual blocks' convs (and of the decoder's conv_in and
        conv_out)."""
        return (self.time_kernel, 3, 3)

    def norm_layer(self, channels: int) -> nn.Module:
        """Per-frame group norm, or identity for ``norm="none"``."""
        if self.norm == "none":
            return nn.Identity()
        return FrameGroupNorm(self.groups, channels, eps=1e-6)

    def activate(self, x: torch.Tensor, inplace: bool = False) -> torch.Tensor:
        """ReLU or SiLU of ``x`` (overwriting ``x`` when ``inplace``)."""
        return F.relu(x, inplace=inplace) if self.act == "relu" else F.silu(x, inplace=inplace)

    def head(self, norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """What precedes an output conv: ``act(norm(x))``, or ``x`` unchanged for ``norm="none"``."""
        return x if self.norm == "none" else self.activate(norm(x))


class ResBlock3D(nn.Module):
    """Norm-act-causal conv twice plus a (1x1x1 when channels change) skip: ``(B, c_in, T, H, W) -> c_out``.

    The convs are ``style.time_kernel x 3 x 3``: with ``time_kernel=1`` the block works on every frame alone."""

    def __init__(self, c_in: int, c_out: int, style: BlockStyle) -> None:
        super().__init__()
        self.style = style
        self.norm1 = style.norm_layer(c_in)
        self.conv1 = CausalConv3d(c_in, c_out, style.conv_kernel)
        self.norm2 = style.norm_layer(c_out)
        self.conv2 = CausalConv3d(c_out, c_out, style.conv_kernel)
        self.skip = CausalConv3d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """With autograd off, activations and the residual sum overwrite tensors this block made (fewer
        feature-map-size tensors alive at once; the same values)."""
        inference = not torch.is_grad_enabled()
        h = self.norm1(x)
        h = self.conv1(self.style.activate(h, inplace=inference and h is not x))  # x itself feeds the skip
        h = self.conv2(self.style.activate(self.norm2(h), inplace=inference))
        return h.add_(self.skip(x)) if inference else self.skip(x) + h


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
    """Double H and W; with ``compress_time`` also ``1 + k -> 1 + 2k`` frames.

    ``mode="nearest"``: nearest upsampling, then a per-frame 3x3 conv. ``mode="pixel_shuffle"``: a per-frame
    3x3 conv to ``4 x channels``, then PixelShuffle(2).
    """

    def __init__(self, channels: int, compress_time: bool, mode: str = "nearest") -> None:
        super().__init__()
        self.compress_time = compress_time
        self.mode = mode
        out = 4 * channels if mode == "pixel_shuffle" else channels
        self.conv = CausalConv3d(channels, out, (1, 3, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.compress_time:
            x = resample_time(x, up=True)
        if self.mode == "pixel_shuffle":
            return pixel_shuffle_frames(self.conv(x), 2)
        return self.conv(F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="nearest"))


def res_stack(c_in: int, c_out: int, num_layers: int, style: BlockStyle) -> list[nn.Module]:
    """``num_layers`` residual blocks, the first mapping ``c_in -> c_out``."""
    return [ResBlock3D(c_in if i == 0 else c_out, c_out, style) for i in range(num_layers)]
