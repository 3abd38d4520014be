"""Timestep and step-size embeddings (diffusers' sinusoidal ``Timesteps`` + MLP ``TimestepEmbedding``)."""

from __future__ import annotations

import torch
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from torch import nn


class TimeStepSizeEmbedding(nn.Module):
    """``emb(t) [+ emb_d(d)]``: (B,) timesteps (schedule units) and optional (B,) step sizes -> (B, embed_dim).

    The step-size branch (shortcut models, Frans et al. 2024) embeds ``d * step_size_scale`` with the same
    sinusoidal features as ``t`` and is **zero-initialised** (its last linear layer), so adding it to a trained
    model leaves the model's output unchanged until it is fine-tuned.  ``step_size=None`` means ``d = 0``
    (the finest, flow-matching step).
    """

    def __init__(self, sinusoidal_channels: int, embed_dim: int, use_step_size: bool = False,
                 step_size_scale: float = 1000.0) -> None:
        super().__init__()
        self.proj = Timesteps(sinusoidal_channels, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(sinusoidal_channels, embed_dim)
        self.step_size_scale = step_size_scale
        self.step_embedding: TimestepEmbedding | None = None
        if use_step_size:
            self.step_embedding = TimestepEmbedding(sinusoidal_channels, embed_dim)
            nn.init.zeros_(self.step_embedding.linear_2.weight)
            nn.init.zeros_(self.step_embedding.linear_2.bias)

    def forward(self, t: torch.Tensor, step_size: torch.Tensor | None = None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
        emb = self.time_embedding(self.proj(t).to(dtype))
        if self.step_embedding is None:
            if step_size is not None:
                raise ValueError("this denoiser was built without a step-size embedding; pass step_size=None")
            return emb
        if step_size is None:
            step_size = torch.zeros_like(t, dtype=torch.float32)
        return emb + self.step_embedding(self.proj(step_size * self.step_size_scale).to(dtype))
