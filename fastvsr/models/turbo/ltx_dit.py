"""LTX-Video's DiT (diffusers ``LTXVideoTransformer3DModel``) as a TurboVSR denoiser.

TurboVSR's denoiser at paper scale is the LTX-Video 2B DiT on the 32x32x8 latent with patch size 1, so one
token per latent cell.  The adapter gives it the denoiser interface ``forward(z_t, t, cond, step_size)``.  It
concatenates the noisy latent and the LR condition (latent + first-frame mask) along channels, flattens
``(B, c, t, h, w)`` to ``t*h*w`` tokens, and cross-attends to ``prompt_tokens`` zero text tokens (a null
prompt).  ``step_size`` is not embedded: a shortcut conversion would add that.  The benchmark uses the
adapter for realistic MAC counts on the meta device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers import LTXVideoTransformer3DModel
from einops import rearrange
from torch import nn


@dataclass
class LTXDiTConfig:
    """Size of the LTX-Video DiT; the defaults are LTX-Video 2B (28 blocks, 32 heads x 64 = 2048 wide)."""

    num_layers: int = 28
    num_attention_heads: int = 32
    attention_head_dim: int = 64
    caption_channels: int = 4096
    prompt_tokens: int = 1


class LTXDiTDenoiser(nn.Module):
    """``LTXVideoTransformer3DModel`` (patch size 1) over ``[z_t, cond]`` latents.

    Args:
        cfg: DiT size.
        latent_channels: channels ``c`` of ``z_t`` and of the prediction.
        cond_channels: channels of ``cond`` (TurboVSR: ``c + 1``, the LR latent and the first-frame mask).
    """

    latent_multiple = 1
    temporal_latent_multiple = 1

    def __init__(self, cfg: LTXDiTConfig, latent_channels: int, cond_channels: int) -> None:
        super().__init__()
        width = cfg.num_attention_heads * cfg.attention_head_dim
        self.prompt_tokens, self.caption_channels = cfg.prompt_tokens, cfg.caption_channels
        self.transformer = LTXVideoTransformer3DModel(
            in_channels=latent_channels + cond_channels, out_channels=latent_channels, patch_size=1,
            patch_size_t=1, num_attention_heads=cfg.num_attention_heads,
            attention_head_dim=cfg.attention_head_dim, cross_attention_dim=width, num_layers=cfg.num_layers,
            caption_channels=cfg.caption_channels)

    @property
    def patch_size(self) -> int:
        return 1

    def forward(self, z_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None,
                step_size: torch.Tensor | None = None) -> torch.Tensor:
        """Prediction ``(B, c, t, h, w)`` for ``z_t`` and ``cond`` ``(B, c + 1, t, h, w)`` at ``t`` ``(B,)``."""
        if cond is None:
            raise ValueError("LTXDiTDenoiser needs the LR condition latent (cond)")
        b, _, frames, height, width = z_t.shape
        tokens = rearrange(torch.cat([z_t, cond], dim=1), "b c t h w -> b (t h w) c")
        prompt = tokens.new_zeros(b, self.prompt_tokens, self.caption_channels)
        mask = tokens.new_ones(b, self.prompt_tokens)
        out = self.transformer(tokens, prompt, t, mask, num_frames=frames, height=height, width=width,
                               return_dict=False)[0]
        return rearrange(out, "b (t h w) c -> b c t h w", t=frames, h=height, w=width)
