"""Paper-scale configurations (DOVE / FastVSR on CogVideoX1.5-5B), buildable on the meta device.

Building on ``torch.device("meta")`` allocates no memory, so the benchmark can count parameters and MACs of
the real architecture on a laptop; load real weights with ``from_pretrained`` on a local folder instead.
"""

from __future__ import annotations

import torch

from fastvsr.diffusion.sampler import SamplerConfig
from fastvsr.diffusion.schedule import ScheduleConfig
from fastvsr.models.denoisers import CogVideoXDiTConfig, CogVideoXDiTDenoiser, DenoiserConfig, build_denoiser
from fastvsr.models.vae import VAEConfig
from fastvsr.models.vsr import VSRModel, VSRModelConfig, build_vsr_model

PAPER_LATENT_CHANNELS = 16  # CogVideoX VAE
PAPER_VAE = VAEConfig(kind="cogvideox", block_out_channels=(128, 256, 256, 512), layers_per_block=3,
                      latent_channels=PAPER_LATENT_CHANNELS, temporal_factor=4, norm_num_groups=32,
                      scaling_factor=0.7)  # CogVideoX1.5 VAE
PAPER_DENOISER = DenoiserConfig(kind="cogvideox_dit", dit=CogVideoXDiTConfig())  # defaults = CogVideoX1.5-5B
PAPER_SAMPLER = SamplerConfig(schedule=ScheduleConfig(), steps=1, t_star=399.0)  # DOVE: one step at t = 399


def build_paper_denoiser(device: str | torch.device = "meta") -> CogVideoXDiTDenoiser:
    """The CogVideoX1.5-5B DiT adapter (about 5.57 B parameters), random or meta-initialised."""
    with torch.device(device):
        return build_denoiser(PAPER_DENOISER, PAPER_LATENT_CHANNELS)  # type: ignore[return-value]


def paper_vsr_config(decoder: str = "f16") -> VSRModelConfig:
    """FastVSR (``decoder="f16"``) or its DOVE f8 baseline (``decoder="vae"``) at paper scale."""
    return VSRModelConfig(vae=PAPER_VAE, decoder=decoder, denoiser=PAPER_DENOISER, sampler=PAPER_SAMPLER)


def build_paper_vsr_model(decoder: str = "f16", device: str | torch.device = "meta") -> VSRModel:
    """The whole paper-scale bundle, on the meta device by default (no memory allocated)."""
    return build_vsr_model(paper_vsr_config(decoder), device=device)
