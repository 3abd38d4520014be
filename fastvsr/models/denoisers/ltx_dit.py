"""LTX-Video's DiT (diffusers ``LTXVideoTransformer3DModel``) as a TurboVSR denoiser.

TurboVSR's denoiser at paper scale is the LTX-Video 2B DiT on the 32x32x8 latent with patch size 1, so one
token per latent cell.  The adapter gives it the denoiser interface ``forward(z_t, t, cond, step_size)``: it
concatenates the noisy latent and the LR condition (latent + first-frame mask) along channels, flattens
``(B, c, t, h, w)`` to ``t*h*w`` tokens and cross-attends to the fixed text condition ``prompt_embeds``.
``step_size`` is not embedded by this adapter. The transformer's ``in_channels`` is ``c + cond channels``
and its ``out_channels`` is ``c``. Folder format: :mod:`fastvsr.models.denoisers.transformer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers import LTXVideoTransformer3DModel
from einops import rearrange

from fastvsr.models.denoisers.transformer import TransformerDenoiser


@dataclass
class LTXDiTConfig:
    """Size of the LTX-Video DiT; the defaults are LTX-Video 2B (28 blocks, 32 heads x 64 = 2048 wide).

    ``prompt_tokens``: length of the stand-in text condition (zeros) of a randomly built model."""

    num_layers: int = 28
    num_attention_heads: int = 32
    attention_head_dim: int = 64
    caption_channels: int = 4096
    prompt_tokens: int = 1


class LTXDiTDenoiser(TransformerDenoiser):
    """``LTXVideoTransformer3DModel`` (patch size 1) over ``[z_t, cond]`` latents.

    Args:
        transformer: the diffusers transformer (``in_channels = c + cond channels``, ``out_channels = c``).
        prompt_embeds: ``(1, L, caption_channels)`` text condition.
    """

    transformer_class = LTXVideoTransformer3DModel
    denoiser_kind = "ltx_dit"
    latent_multiple = 1
    temporal_latent_multiple = 1

    @classmethod
    def from_config(cls, cfg: LTXDiTConfig, latent_channels: int, cond_channels: int,
                    prompt_embeds: torch.Tensor | None = None) -> LTXDiTDenoiser:
        """A randomly initialised adapter; ``prompt_embeds`` defaults to ``prompt_tokens`` zero tokens."""
        width = cfg.num_attention_heads * cfg.attention_head_dim
        transformer = LTXVideoTransformer3DModel(
            in_channels=latent_channels + cond_channels, out_channels=latent_channels, patch_size=1,
            patch_size_t=1, num_attention_heads=cfg.num_attention_heads,
            attention_head_dim=cfg.attention_head_dim, cross_attention_dim=width, num_layers=cfg.num_layers,
            caption_channels=cfg.caption_channels)
        if prompt_embeds is None:
            prompt_embeds = torch.zeros(1, cfg.prompt_tokens, cfg.caption_channels)
        return cls(transformer, prompt_embeds)

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
        prompt = self.prompt(b, tokens)
        mask = tokens.new_ones(b, prompt.shape[1])
        out = self.transformer(tokens, prompt, t, mask, num_frames=frames, height=height, width=width,
                               return_dict=False)[0]
        return rearrange(out, "b (t h w) c -> b c t h w", t=frames, h=height, w=width)
