"""Denoisers behind one interface: ``forward(z_t, t, cond=None, step_size=None) -> prediction``.

Latents ``(B, c, t, h, w)`` in and out, ``t`` a (B,) float tensor in schedule units; every denoiser has the
properties ``latent_multiple`` (spatial) and ``temporal_latent_multiple``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from fastvsr.config import require
from fastvsr.models.denoisers.cogvideox_dit import CogVideoXDiTConfig, CogVideoXDiTDenoiser
from fastvsr.models.denoisers.unet import SpatioTemporalUNet, UNetDenoiserConfig
from fastvsr.models.local_files import require_files

DENOISER_KINDS = ("unet", "cogvideox_dit")


@dataclass
class DenoiserConfig:
    """Which denoiser to build and its size; latent channels come from the VAE."""

    kind: str = "unet"  # "unet" or "cogvideox_dit"
    unet: UNetDenoiserConfig = field(default_factory=UNetDenoiserConfig)
    dit: CogVideoXDiTConfig = field(default_factory=CogVideoXDiTConfig)
    pretrained: str | None = None  # a local folder saved by save_pretrained (e.g. DOVE's transformer + prompt)

    def __post_init__(self) -> None:
        require(self.kind in DENOISER_KINDS, f"denoiser.kind must be one of {DENOISER_KINDS}, got '{self.kind}'")


Denoiser = SpatioTemporalUNet | CogVideoXDiTDenoiser


def build_denoiser(cfg: DenoiserConfig, latent_channels: int) -> Denoiser:
    """A randomly initialised denoiser for ``latent_channels``-channel latents (or ``cfg.pretrained`` loaded)."""
    if cfg.pretrained:
        return load_denoiser(cfg.kind, cfg.pretrained)
    if cfg.kind == "unet":
        return SpatioTemporalUNet(in_channels=latent_channels, **asdict(cfg.unet))
    return CogVideoXDiTDenoiser.from_config(cfg.dit, latent_channels)


def denoiser_kind(denoiser: torch.nn.Module) -> str:
    """The ``kind`` name of a denoiser instance (what ``load_denoiser`` needs)."""
    return "unet" if isinstance(denoiser, SpatioTemporalUNet) else "cogvideox_dit"


def load_denoiser(kind: str, folder: str | Path, torch_dtype: torch.dtype | None = None) -> Denoiser:
    """Load a saved denoiser of ``kind`` from a local folder (``WeightsMissingError`` if files are missing)."""
    if kind == "cogvideox_dit":
        return CogVideoXDiTDenoiser.from_pretrained(folder, torch_dtype=torch_dtype)
    folder = require_files(folder, "config.json", "diffusion_pytorch_model.safetensors")
    return SpatioTemporalUNet.from_pretrained(folder, torch_dtype=torch_dtype, local_files_only=True)


__all__ = [
    "CogVideoXDiTConfig", "CogVideoXDiTDenoiser", "DenoiserConfig", "SpatioTemporalUNet", "UNetDenoiserConfig",
    "build_denoiser", "denoiser_kind", "load_denoiser",
]
