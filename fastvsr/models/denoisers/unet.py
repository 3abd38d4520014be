"""A small spatio-temporal UNet denoiser: factorised (2D spatial + 1D temporal) residual blocks.

Small enough to train on CPU at tiny scale; the default denoiser.  Every conv is a ``Conv3d`` with a
``(1, 3, 3)`` (spatial) or ``(k, 1, 1)`` (temporal) kernel, so tensors keep the ``(B, C, T, H, W)`` layout
throughout; CPU float32 inference runs them on oneDNN (:class:`fastvsr.ops.conv3d.OneDNNConv3d`).  Spatial
resolution halves per level (the latent grid must be a multiple of ``latent_multiple``); time is never
downsampled.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from fastvsr.config import require
from fastvsr.models.denoisers.embeddings import TimeStepSizeEmbedding
from fastvsr.ops.conv3d import OneDNNConv3d


@dataclass
class UNetDenoiserConfig:
    """Size of the spatio-temporal UNet (latent and condition channels come from the model kind)."""

    block_out_channels: tuple[int, ...] = (32, 64)
    layers_per_block: int = 1
    norm_num_groups: int = 8
    temporal_kernel_size: int = 3
    use_step_size_embedding: bool = False  # shortcut models
    # a fixed linear skip: prediction = network + input_skip * z_t, with the network's conv_out starting at zero.
    # For DOVE's one step (x0 = a z_t - s v) at t*, input_skip = (a - 1) / s makes the untrained denoiser return
    # the LR latent unchanged, so a model trained from scratch starts at its interpolation baseline, not at noise
    input_skip: float = 0.0

    def __post_init__(self) -> None:
        require(len(self.block_out_channels) >= 1, "unet.block_out_channels needs at least one level")
        require(all(c % self.norm_num_groups == 0 for c in self.block_out_channels),
                f"unet.block_out_channels must be multiples of norm_num_groups={self.norm_num_groups}")
        require(self.temporal_kernel_size % 2 == 1, "unet.temporal_kernel_size must be odd")


def _spatial_conv(c_in: int, c_out: int, stride: int = 1) -> nn.Conv3d:
    return OneDNNConv3d(c_in, c_out, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1))


class FactorisedResBlock(nn.Module):
    """GN-SiLU-spatial conv, + time embedding, GN-SiLU-temporal conv, residual. (B, C_in, T, H, W) -> C_out."""

    def __init__(self, c_in: int, c_out: int, embed_dim: int, groups: int, temporal_kernel: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.spatial = _spatial_conv(c_in, c_out)
        self.emb_proj = nn.Linear(embed_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.temporal = OneDNNConv3d(c_out, c_out, (temporal_kernel, 1, 1), padding=(temporal_kernel // 2, 0, 0),
                                     padding_mode="replicate")
        self.skip = OneDNNConv3d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.spatial(F.silu(self.norm1(x)))
        h = h + self.emb_proj(F.silu(emb))[:, :, None, None, None]
        h = self.temporal(F.silu(self.norm2(h)))
        return self.skip(x) + h


class SpatioTemporalUNet(ModelMixin, ConfigMixin):
    """UNet denoiser ``forward(z_t, t, cond=None, step_size=None) -> prediction``.

    Args (config):
        in_channels: latent channels ``c``; ``out_channels`` defaults to it.
        block_out_channels: width per level; level ``i`` runs at ``1 / 2**i`` of the latent grid.
        cond_channels: channels of an optional conditioning latent, concatenated through a zero-initialised
            projection added after ``conv_in`` (so a model gains conditioning without changing its output).
        use_step_size_embedding: add a zero-initialised step-size embedding (shortcut models).
        input_skip: ``prediction = network(z_t) + input_skip * z_t`` with a zero-initialised ``conv_out`` when
            non-zero (see :class:`UNetDenoiserConfig`); needs ``out_channels == in_channels``.
    """

    _supports_gradient_checkpointing = True
    denoiser_kind = "unet"

    @register_to_config
    def __init__(self, in_channels: int = 16, out_channels: int | None = None,
                 block_out_channels: tuple[int, ...] = (32, 64), layers_per_block: int = 1,
                 norm_num_groups: int = 8, temporal_kernel_size: int = 3, cond_channels: int = 0,
                 use_step_size_embedding: bool = False,
                 input_skip: float = 0.0) -> None:
        super().__init__()
        if input_skip and (out_channels or in_channels) != in_channels:
            raise ValueError("unet.input_skip needs out_channels == in_channels")
        widths = list(block_out_channels)
        embed_dim = 4 * widths[0]
        block = partial(FactorisedResBlock, embed_dim=embed_dim, groups=norm_num_groups,
                        temporal_kernel=temporal_kernel_size)
        self.embedding = TimeStepSizeEmbedding(widths[0], embed_dim, use_step_size_embedding)
        self.conv_in = _spatial_conv(in_channels, widths[0])
        self.cond_in = _spatial_conv(cond_channels, widths[0]) if cond_channels else None
        if self.cond_in is not None:
            nn.init.zeros_(self.cond_in.weight)
            nn.init.zeros_(self.cond_in.bias)
        self.down_blocks = nn.ModuleList()
        self.downsamplers = nn.ModuleList()
        c_prev = widths[0]
        for level, width in enumerate(widths):
            self.down_blocks.append(nn.ModuleList(block(c_prev if i == 0 else width, width)
                                                  for i in range(layers_per_block)))
            c_prev = width
            if level < len(widths) - 1:
                self.downsamplers.append(_spatial_conv(width, width, stride=2))
        self.mid_blocks = nn.ModuleList([block(widths[-1], widths[-1]), block(widths[-1], widths[-1])])
        self.up_blocks = nn.ModuleList()
        self.upsamplers = nn.ModuleList()
        for level in reversed(range(len(widths))):
            width = widths[level]
            self.up_blocks.append(nn.ModuleList(block(c_prev + width if i == 0 else width, width)
                                                for i in range(layers_per_block)))
            c_prev = width
            if level > 0:
                self.upsamplers.append(_spatial_conv(width, widths[level - 1]))
                c_prev = widths[level - 1]
        self.norm_out = nn.GroupNorm(norm_num_groups, widths[0])
        self.conv_out = _spatial_conv(widths[0], out_channels or in_channels)
        if input_skip:
            nn.init.zeros_(self.conv_out.weight)
            nn.init.zeros_(self.conv_out.bias)
        self.gradient_checkpointing = False

    @property
    def has_step_size_embedding(self) -> bool:
        """Whether the model takes ``step_size`` (a shortcut model)."""
        return self.embedding.step_embedding is not None

    def with_step_size_embedding(self) -> SpatioTemporalUNet:
        """A copy with a zero-initialised step-size embedding (:func:`~fastvsr.models.denoisers.shortcut.
        add_step_size_embedding`): same weights, same output until fine-tuned."""
        config = {k: v for k, v in self.config.items() if not k.startswith("_")}
        converted = type(self)(**{**config, "use_step_size_embedding": True})
        missing, unexpected = converted.load_state_dict(self.state_dict(), strict=False)
        stray = [k for k in missing if ".step_embedding." not in f".{k}"] + list(unexpected)
        if stray:
            raise ValueError(f"conversion changed weights other than the step-size embedding: {stray[:3]}")
        param = next(self.parameters())
        return converted.to(device=param.device, dtype=param.dtype)

    @property
    def latent_multiple(self) -> int:
        """Spatial multiple the latent grid (h, w) must have."""
        return 2 ** (len(self.config.block_out_channels) - 1)

    @property
    def temporal_latent_multiple(self) -> int:
        """Multiple the latent frame count must have (1: time is never downsampled)."""
        return 1

    def _run(self, blocks: nn.ModuleList, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        for blk in blocks:
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                h = self._gradient_checkpointing_func(blk, h, emb)
            else:
                h = blk(h, emb)
        return h

    def forward(self, z_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None,
                step_size: torch.Tensor | None = None) -> torch.Tensor:
        """Predict from a noisy latent.

        Args:
            z_t: (B, c, t, h, w) latent, ``h, w`` multiples of :attr:`latent_multiple`.
            t: (B,) float timesteps in schedule units.
            cond: (B, cond_channels, t, h, w) conditioning latent, only when built with ``cond_channels``.
            step_size: (B,) flow-time step ``d`` in ``[0, 1]``, only with the step-size embedding.
        Returns:
            (B, out_channels, t, h, w) prediction (v or velocity, by the schedule it was trained with).
        """
        m = self.latent_multiple
        if z_t.shape[-1] % m or z_t.shape[-2] % m:
            raise ValueError(f"latent height/width {tuple(z_t.shape[-2:])} must be multiples of {m}")
        if (cond is None) != (self.cond_in is None):
            raise ValueError(f"this UNet expects cond with {self.config.cond_channels} channels, "
                             f"got {'none' if cond is None else tuple(cond.shape)}")
        emb = self.embedding(t.to(z_t.device), step_size, dtype=z_t.dtype)
        h = self.conv_in(z_t)
        if self.cond_in is not None:
            h = h + self.cond_in(cond)
        skips = []
        for level, blocks in enumerate(self.down_blocks):
            h = self._run(blocks, h, emb)
            skips.append(h)
            if level < len(self.downsamplers):
                h = self.downsamplers[level](h)
        h = self._run(self.mid_blocks, h, emb)
        for level, blocks in enumerate(self.up_blocks):
            h = self._run(blocks[:1], torch.cat([h, skips.pop()], dim=1), emb)
            h = self._run(blocks[1:], h, emb)
            if level < len(self.upsamplers):
                h = self.upsamplers[level](F.interpolate(h, scale_factor=(1, 2, 2), mode="nearest"))
        out = self.conv_out(F.silu(self.norm_out(h)))
        return out + self.config.input_skip * z_t if self.config.input_skip else out
