"""Timestep and step-size embeddings (diffusers' sinusoidal ``Timesteps`` + MLP ``TimestepEmbedding``).

A shortcut model (Frans et al. 2024) is told the size ``d`` of the step it should take. As in the reference
implementation it sees ``d`` as its **level** ``log2(1 / d)`` (0 for one step over the whole path, 1 for two, ...,
7 for 128), embedded with the same sinusoidal features as timesteps, through an MLP whose last layer starts at
zero, so adding the embedding to a trained model leaves its output unchanged until it is fine-tuned.
"""

from __future__ import annotations

import torch
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from torch import nn

SINUSOIDAL_CHANNELS = 256  # the step-size features of the transformer adapters (diffusers' timestep width)


def step_level(step_size: torch.Tensor) -> torch.Tensor:
    """``log2(1 / d)`` for (B,) step sizes ``d`` in ``(0, 1]`` (float32)."""
    if (step_size <= 0).any():
        raise ValueError("shortcut step sizes must be > 0")
    return -torch.log2(step_size.float())


def step_size_embedding(sinusoidal_channels: int, embed_dim: int) -> TimestepEmbedding:
    """The MLP of the step-size branch, last layer zero (see the module docstring)."""
    embedding = TimestepEmbedding(sinusoidal_channels, embed_dim)
    nn.init.zeros_(embedding.linear_2.weight)
    nn.init.zeros_(embedding.linear_2.bias)
    return embedding


def embed_step_size(proj: Timesteps, embedding: nn.Module | None, step_size: torch.Tensor | None,
                    dtype: torch.dtype) -> torch.Tensor | None:
    """``embedding(proj(level(d)))`` (B, D), or None for a model without the branch.

    Raises:
        ValueError: ``step_size`` given to a model without the branch, or missing for one with it.
    """
    if embedding is None:
        if step_size is not None:
            raise ValueError("this denoiser was built without a step-size embedding; pass step_size=None")
        return None
    if step_size is None:
        raise ValueError("this shortcut denoiser needs step_size (the flow-time step d of each sample)")
    return embedding(proj(step_level(step_size)).to(dtype))


class TimeStepSizeEmbedding(nn.Module):
    """``emb(t) [+ emb_d(level(d))]``: (B,) timesteps (schedule units) and (B,) step sizes -> (B, embed_dim)."""

    def __init__(self, sinusoidal_channels: int, embed_dim: int, use_step_size: bool = False) -> None:
        super().__init__()
        self.proj = Timesteps(sinusoidal_channels, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(sinusoidal_channels, embed_dim)
        self.step_embedding = step_size_embedding(sinusoidal_channels, embed_dim) if use_step_size else None

    def forward(self, t: torch.Tensor, step_size: torch.Tensor | None = None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
        emb = self.time_embedding(self.proj(t).to(dtype))
        step = embed_step_size(self.proj, self.step_embedding, step_size, dtype)
        return emb if step is None else emb + step
