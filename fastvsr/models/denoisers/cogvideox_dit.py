"""DOVE-style adapter over diffusers ``CogVideoXTransformer3DModel`` (CogVideoX1.5-5B at paper scale).

Semantics follow DOVE's ``inference_script.py``: the LR latent is the noisy latent at ``t = 399`` (the sampler
passes ``t``), the transformer predicts ``v``, the text condition is a fixed empty-prompt T5 embedding held as
a tensor, 3D RoPE is built for the latent grid, and an odd latent frame count is padded for
``patch_size_t = 2`` by prepending copies of the first latent frame (dropped again after).  The
``(B, c, t, h, w) <-> (B, t, c, h, w)`` permutation happens here and nowhere else.

Folder format: :mod:`fastvsr.models.denoisers.transformer` (a plain diffusers transformer folder, so DOVE's
fine-tuned transformer loads as is, plus ``prompt_embeds.safetensors`` ``(1, L, text_embed_dim)``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from diffusers import CogVideoXTransformer3DModel
from diffusers.models.embeddings import get_3d_rotary_pos_embed

from fastvsr.models.denoisers.transformer import TransformerDenoiser


@dataclass
class CogVideoXDiTConfig:
    """``CogVideoXTransformer3DModel`` keyword arguments (defaults: CogVideoX1.5-5B; channels from the VAE)."""

    num_attention_heads: int = 48
    attention_head_dim: int = 64
    num_layers: int = 42
    time_embed_dim: int = 512
    text_embed_dim: int = 4096
    max_text_seq_length: int = 226
    patch_size: int = 2
    patch_size_t: int = 2  # CogVideoX 1.5 (temporal patches); the 1.0 layout (None) is not supported
    patch_bias: bool = False
    sample_height: int = 300
    sample_width: int = 300
    sample_frames: int = 81
    temporal_compression_ratio: int = 4
    use_rotary_positional_embeddings: bool = True


class CogVideoXDiTDenoiser(TransformerDenoiser):
    """``forward(z_t, t, cond=None, step_size=None) -> v``, latents ``(B, c, t, h, w)`` in and out.

    Args:
        transformer: the diffusers transformer.
        prompt_embeds: (1, L, text_embed_dim) empty-prompt embedding, broadcast over the batch.
    """

    transformer_class = CogVideoXTransformer3DModel
    denoiser_kind = "cogvideox_dit"

    def __init__(self, transformer: CogVideoXTransformer3DModel, prompt_embeds: torch.Tensor) -> None:
        if transformer.config.patch_size_t is None:
            raise ValueError("only CogVideoX 1.5 transformers (patch_size_t set) are supported")
        super().__init__(transformer, prompt_embeds)

    @classmethod
    def from_config(cls, cfg: CogVideoXDiTConfig, latent_channels: int,
                    prompt_embeds: torch.Tensor | None = None) -> CogVideoXDiTDenoiser:
        """Random-initialised adapter; ``prompt_embeds`` defaults to zeros (a stand-in for the T5 embedding)."""
        transformer = CogVideoXTransformer3DModel(in_channels=latent_channels, out_channels=latent_channels,
                                                  **asdict(cfg))
        if prompt_embeds is None:
            prompt_embeds = torch.zeros(1, cfg.max_text_seq_length, cfg.text_embed_dim)
        return cls(transformer, prompt_embeds)

    @property
    def latent_multiple(self) -> int:
        """Spatial multiple of the latent grid (the patch size)."""
        return self.transformer.config.patch_size

    @property
    def temporal_latent_multiple(self) -> int:
        """1: odd latent frame counts are padded inside the adapter."""
        return 1

    def _rotary_embedding(self, frames: int, height: int, width: int, device: torch.device
                          ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """3D RoPE for a (frames, height, width) latent grid, as the CogVideoX 1.5 pipelines build it (a table of
        ``sample_height x sample_width / patch`` positions, sliced to the grid). A grid larger than that table
        (an encoder input over 2400 px at paper scale) gets the table extended to its size, the positions
        continuing past the trained range, rather than an error."""
        cfg = self.transformer.config
        if not cfg.use_rotary_positional_embeddings:
            return None
        p, p_t = cfg.patch_size, cfg.patch_size_t
        grid = (height // p, width // p)
        base = (max(cfg.sample_height // p, grid[0]), max(cfg.sample_width // p, grid[1]))
        return get_3d_rotary_pos_embed(embed_dim=cfg.attention_head_dim, crops_coords=None, grid_size=grid,
                                       temporal_size=frames // p_t, grid_type="slice", max_size=base,
                                       device=device)

    def forward(self, z_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None,
                step_size: torch.Tensor | None = None) -> torch.Tensor:
        """Predict ``v`` for (B, c, t, h, w) latents at (B,) timesteps (schedule units); h, w multiples of patch."""
        if cond is not None or step_size is not None:
            raise ValueError("the CogVideoX DiT adapter takes neither cond nor step_size")
        p, p_t = self.transformer.config.patch_size, self.transformer.config.patch_size_t
        b, _, frames, height, width = z_t.shape
        if height % p or width % p:
            raise ValueError(f"latent height/width {(height, width)} must be multiples of the patch size {p}")
        x = z_t.permute(0, 2, 1, 3, 4)  # (B, t, c, h, w) for the transformer
        extra = (-frames) % p_t
        if extra:
            x = torch.cat([x[:, :1].expand(-1, extra, -1, -1, -1), x], dim=1)
        rope = self._rotary_embedding(frames + extra, height, width, z_t.device)
        out = self.transformer(hidden_states=x, encoder_hidden_states=self.prompt(b, z_t), timestep=t.to(z_t.device),
                               image_rotary_emb=rope, return_dict=False)[0]
        return out[:, extra:].permute(0, 2, 1, 3, 4)
