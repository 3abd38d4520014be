"""Our own spatio-temporal VAE: causal 3D conv encoder/decoder, small enough to train on CPU at tiny scale.

Spatial factor ``f = 2 ** (len(block_out_channels) - 1)`` (8, 16 or 32); the first ``log2(tf)`` resolution
changes also resample time (temporal factor 1, 4 or 8), always keeping frame 0 alone, so the first frame is
encoded (and decoded) on its own and a clip of ``T = k * tf + 1`` frames maps to ``k + 1`` latent frames.
Every conv pads only past frames and every norm is per frame, so the whole model is causal in time.
``shortcut=True`` adds the parameter-free pixel <-> latent path of :mod:`fastvsr.models.vae.shortcut`
(temporal factor 1 only). ``norm_type``, ``act_fn`` and ``upsample_mode`` pick the block design
(:class:`~fastvsr.models.vae.blocks.BlockStyle`; the encoder has no upsampler and ignores ``upsample_mode``).

Without temporal compression, inference (autograd off) encodes and decodes a clip ``frame_batch`` frames at
a time (:func:`~fastvsr.models.vae.causal_conv.causal_stream`): the same output, with activations for one
batch of frames instead of the whole clip. Training keeps whole clips (gradient checkpointing recomputes
blocks, which must not see a carried frame state).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from fastvsr.frame_batch import DEFAULT_FRAME_BATCH
from fastvsr.models.vae.blocks import BlockStyle, Downsample3D, Upsample3D, res_stack
from fastvsr.models.vae.causal_conv import CausalConv3d, causal_stream, frame_slices
from fastvsr.models.vae.common import DecoderContext, VideoVAEMixin
from fastvsr.models.vae.shortcut import check_shortcut, latent_to_pixels, pixels_to_latent


def _levels(block_out_channels: tuple[int, ...], temporal_factor: int) -> tuple[int, int]:
    """(number of spatial resamplings, number of those that also resample time)."""
    n_space = len(block_out_channels) - 1
    n_time = int(math.log2(temporal_factor))
    if 2 ** n_time != temporal_factor or n_time > n_space:
        raise ValueError(f"temporal_factor {temporal_factor} must be a power of 2 <= the spatial factor "
                         f"{2 ** n_space}")
    return n_space, n_time


def decoder_levels(block_out_channels: tuple[int, ...], layers_per_block: int,
                   decoder_layers_per_block: tuple[int, ...] | None) -> list[int]:
    """Residual blocks of every decoder level, in ``block_out_channels`` order (finest resolution first):
    ``decoder_layers_per_block`` when given (one positive entry per level), else ``layers_per_block + 1`` each
    (the diffusers convention)."""
    if decoder_layers_per_block is None:
        return [layers_per_block + 1] * len(block_out_channels)
    depths = list(decoder_layers_per_block)
    if len(depths) != len(block_out_channels) or min(depths) < 1:
        raise ValueError(f"decoder_layers_per_block needs {len(block_out_channels)} positive entries (one per "
                         f"level of block_out_channels), got {depths}")
    return depths


class _CausalCoder(nn.Module):
    """What the encoder and decoder share: gradient checkpointing of blocks (diffusers'
    ``enable_gradient_checkpointing()``) and the frame batches of inference."""

    gradient_checkpointing = False
    frame_batch = DEFAULT_FRAME_BATCH  # set per model by set_frame_batch
    temporal_factor: int  # set by the subclasses

    def _run(self, block: nn.Module, h: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and self.gradient_checkpointing:
            return self._gradient_checkpointing_func(block, h)
        return block(h)

    def frame_batches(self, num_frames: int) -> list[slice]:
        """The frame slices one clip of ``num_frames`` (latent) frames runs in: batches of ``frame_batch``
        frames in inference without temporal compression, else the whole clip."""
        if self.temporal_factor != 1 or torch.is_grad_enabled():
            return [slice(0, num_frames)]
        return frame_slices(num_frames, self.frame_batch)


class CausalEncoder3D(_CausalCoder):
    """``(B, 3, T, H, W)`` in ``[-1, 1]`` -> Gaussian moments ``(B, 2*latent, (T-1)/tf+1, H/f, W/f)`` (with
    ``shortcut``, :func:`pixels_to_latent` of the input is added to the mean)."""

    def __init__(self, block_out_channels: tuple[int, ...], layers_per_block: int, latent_channels: int,
                 temporal_factor: int, norm_num_groups: int, in_channels: int = 3, shortcut: bool = False,
                 norm_type: str = "group", act_fn: str = "silu", upsample_mode: str = "nearest") -> None:
        super().__init__()
        n_space, n_time = _levels(block_out_channels, temporal_factor)
        self.style = style = BlockStyle(norm_num_groups, norm_type, act_fn, upsample_mode)
        if shortcut:
            check_shortcut(latent_channels, 2 ** n_space, temporal_factor)
        self.shortcut = shortcut
        self.spatial_factor = 2 ** n_space
        self.temporal_factor = temporal_factor
        self.latent_channels = latent_channels
        chs = list(block_out_channels)
        self.conv_in = CausalConv3d(in_channels, chs[0], 3)
        blocks: list[nn.Module] = []
        for i, ch in enumerate(chs):
            layers = res_stack(chs[max(i - 1, 0)], ch, layers_per_block, style)
            if i < n_space:
                layers.append(Downsample3D(ch, compress_time=i < n_time))
            blocks.append(nn.Sequential(*layers))
        self.down_blocks = nn.ModuleList(blocks)
        self.mid_block = nn.Sequential(*res_stack(chs[-1], chs[-1], 2, style))
        self.norm_out = style.norm_layer(chs[-1])
        self.conv_out = CausalConv3d(chs[-1], 2 * latent_channels, 3)
        if shortcut:  # start as the shortcut alone: the learned part begins at zero
            nn.init.zeros_(self.conv_out.weight)
            nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batches = self.frame_batches(x.shape[2])
        if len(batches) == 1:
            return self._moments(x)
        with causal_stream(self):
            return torch.cat([self._moments(x[:, :, frames]) for frames in batches], dim=2)

    def _moments(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for block in self.down_blocks:
            h = self._run(block, h)
        h = self._run(self.mid_block, h)
        moments = self.conv_out(self.style.head(self.norm_out, h))
        if not self.shortcut:
            return moments
        copy = pixels_to_latent(x, self.spatial_factor, self.latent_channels)
        return torch.cat([moments[:, :self.latent_channels] + copy, moments[:, self.latent_channels:]], dim=1)


class CausalDecoder3D(_CausalCoder):
    """Split decoder (see :mod:`fastvsr.models.vae.common`): raw latent -> pixels in ``[-1, 1]``.

    ``forward_features`` returns the last feature map, ``block_out_channels[0]`` channels at ``f x`` the
    latent size; the head is per-frame norm and activation (none for the norm-free style) and a causal
    ``conv_out`` (plus, with ``shortcut``, :func:`latent_to_pixels` of the latent at the head's output size).
    ``frame_batches`` are consecutive slices of the clip (see the module docstring).

    ``decoder_layers_per_block`` sets the residual blocks of each level (:func:`decoder_levels`), so the width
    and depth can sit where the decoder runs at a given resolution; ``decoder_time_kernel: 1`` makes every conv
    per frame (see :mod:`fastvsr.models.vae.blocks`).
    """

    def __init__(self, block_out_channels: tuple[int, ...], layers_per_block: int, latent_channels: int,
                 temporal_factor: int, norm_num_groups: int, out_channels: int = 3, shortcut: bool = False,
                 norm_type: str = "group", act_fn: str = "silu", upsample_mode: str = "nearest",
                 decoder_layers_per_block: tuple[int, ...] | None = None, decoder_time_kernel: int = 3) -> None:
        super().__init__()
        n_space, n_time = _levels(block_out_channels, temporal_factor)
        self.style = style = BlockStyle(norm_num_groups, norm_type, act_fn, upsample_mode, decoder_time_kernel)
        if shortcut:
            check_shortcut(latent_channels, 2 ** n_space, temporal_factor)
        self.shortcut = shortcut
        self.temporal_factor = temporal_factor
        chs = list(reversed(block_out_channels))
        depths = list(reversed(decoder_levels(block_out_channels, layers_per_block, decoder_layers_per_block)))
        self.conv_in = CausalConv3d(latent_channels, chs[0], style.conv_kernel)
        self.mid_block = nn.Sequential(*res_stack(chs[0], chs[0], 2, style))
        blocks: list[nn.Module] = []
        for i, (ch, depth) in enumerate(zip(chs, depths)):
            layers = res_stack(chs[max(i - 1, 0)], ch, depth, style)
            if i < n_space:
                layers.append(Upsample3D(ch, compress_time=i < n_time, mode=upsample_mode))
            blocks.append(nn.Sequential(*layers))
        self.up_blocks = nn.ModuleList(blocks)
        self.norm_out = style.norm_layer(chs[-1])
        self.conv_out = CausalConv3d(chs[-1], out_channels, style.conv_kernel)
        if shortcut:
            nn.init.zeros_(self.conv_out.weight)
            nn.init.zeros_(self.conv_out.bias)

    def forward_features(self, z: torch.Tensor, conv_cache: dict[str, Any] | None = None
                         ) -> tuple[torch.Tensor, DecoderContext]:
        h = self._run(self.mid_block, self.conv_in(z))
        for block in self.up_blocks:
            h = self._run(block, h)
        return h, DecoderContext(zq=z)

    def forward_norm(self, feats: torch.Tensor, ctx: DecoderContext) -> torch.Tensor:
        return self.style.head(self.norm_out, feats)

    def forward_out(self, feats: torch.Tensor, ctx: DecoderContext) -> torch.Tensor:
        out = self.conv_out(feats)
        if self.shortcut:
            pixels = latent_to_pixels(ctx.zq, out.shape[-2:])
            return out.add_(pixels) if not torch.is_grad_enabled() else out + pixels  # inference: in place
        return out

    def forward_head(self, feats: torch.Tensor, ctx: DecoderContext) -> torch.Tensor:
        return self.forward_out(self.forward_norm(feats, ctx), ctx)

    def output_conv(self) -> nn.Conv3d:
        return self.conv_out


class SpatioTemporalVAE(VideoVAEMixin, ModelMixin, ConfigMixin):
    """Causal 3D VAE with configurable spatial (8/16/32) and temporal (1/4/8) factors.

    ``encode``: ``(B, 3, T, H, W)`` in ``[0, 1]`` -> scaled latent ``(B, c, (T-1)/tf+1, H/f, W/f)``;
    ``decode``: scaled latent -> ``(B, 3, T, H, W)`` clamped to ``[0, 1]``.
    """

    _supports_gradient_checkpointing = True
    decoder_kind = "spatiotemporal"
    temporal_factor_key = "temporal_factor"
    decoder_keys = ("block_out_channels", "layers_per_block", "latent_channels", "temporal_factor", "norm_num_groups",
                    "shortcut", "norm_type", "act_fn", "upsample_mode", "decoder_layers_per_block",
                    "decoder_time_kernel")

    @register_to_config
    def __init__(self, block_out_channels: tuple[int, ...] = (32, 64, 64, 128), layers_per_block: int = 1,
                 latent_channels: int = 8, temporal_factor: int = 4, norm_num_groups: int = 8,
                 scaling_factor: float = 1.0, shift_factor: float | None = None, shortcut: bool = False,
                 norm_type: str = "group", act_fn: str = "silu", upsample_mode: str = "nearest",
                 decoder_layers_per_block: tuple[int, ...] | None = None, decoder_time_kernel: int = 3) -> None:
        super().__init__()
        kwargs = dict(block_out_channels=tuple(block_out_channels), layers_per_block=layers_per_block,
                      latent_channels=latent_channels, temporal_factor=temporal_factor,
                      norm_num_groups=norm_num_groups, shortcut=shortcut, norm_type=norm_type, act_fn=act_fn,
                      upsample_mode=upsample_mode)
        self.encoder = CausalEncoder3D(**kwargs)
        self.decoder = CausalDecoder3D(**kwargs, decoder_layers_per_block=decoder_layers_per_block,
                                       decoder_time_kernel=decoder_time_kernel)

    def _moments(self, video: torch.Tensor) -> torch.Tensor:
        return self.encoder(video)


def set_frame_batch(model: nn.Module, frames: int) -> None:
    """Encode and decode ``frames`` frames at a time (0: whole clips) in every causal VAE coder inside
    ``model`` (its VAE, an f16 decoder); inference only, and only without temporal compression."""
    if frames < 0:
        raise ValueError(f"frame_batch must be >= 0 (0: whole clips), got {frames}")
    for module in model.modules():
        if isinstance(module, _CausalCoder):
            module.frame_batch = frames
