"""Adapter around diffusers' ``AutoencoderKLLTXVideo`` (the LTX-Video VAE TurboVSR uses) with our VAE API.

:class:`LTXVideoVAE` *is* an ``AutoencoderKLLTXVideo`` (same config and state-dict keys, so
``from_pretrained(local_dir)`` loads a real LTX-Video ``vae/`` folder) whose ``encode``/``decode`` follow our
contract: pixels ``(B, 3, T, H, W)`` in ``[0, 1]``; latents normalised per channel the way the LTX pipeline
does, ``z = (mode - latents_mean) * scaling_factor / latents_std``.  A timestep-conditioned decoder (v0.9.1+)
decodes at ``decode_timestep`` without injected noise, so decoding is deterministic.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from diffusers.models.autoencoders.autoencoder_kl_ltx import AutoencoderKLLTXVideo
from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution

from fastvsr.models.vae.common import check_latent, check_video, to_model_range, to_video01


class LTXVideoVAE(AutoencoderKLLTXVideo):
    """LTX-Video VAE (32x32x8, 128 latent channels at paper scale) with our encode/decode.

    Properties ``spatial_factor``, ``temporal_factor``, ``frame_multiple`` (``temporal_factor``: clips of
    ``8k + 1`` frames) and ``latent_channels``. ``decode_timestep`` (a module attribute, 0.0 by default; the
    LTX pipeline uses 0.0 or 0.05) is the decoder's timestep when it is timestep-conditioned.
    """

    decoder_kind = "ltx"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decode_timestep = 0.0

    # diffusers reads the accepted config keys from the signature: present the parent's.
    __init__.__signature__ = inspect.signature(AutoencoderKLLTXVideo.__init__)  # type: ignore[attr-defined]

    @property
    def spatial_factor(self) -> int:
        return int(self.spatial_compression_ratio)

    @property
    def temporal_factor(self) -> int:
        return int(self.temporal_compression_ratio)

    @property
    def frame_multiple(self) -> int:
        return self.temporal_factor

    @property
    def latent_channels(self) -> int:
        return int(self.config.latent_channels)

    def _stats(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        view = (1, -1, 1, 1, 1)
        return (self.latents_mean.view(view).to(like.device, like.dtype),
                self.latents_std.view(view).to(like.device, like.dtype))

    def posterior(self, video01: torch.Tensor) -> DiagonalGaussianDistribution:
        """The encoder's Gaussian over raw latents of ``(B, 3, T, H, W)`` pixels in ``[0, 1]``."""
        check_video(video01, self.spatial_factor, self.frame_multiple)
        return DiagonalGaussianDistribution(self._encode(to_model_range(video01)))

    def encode(self, video01: torch.Tensor, sample: bool = False,  # type: ignore[override]
               generator: torch.Generator | None = None) -> torch.Tensor:
        """``(B, 3, T, H, W)`` in ``[0, 1]`` -> normalised latent ``(B, 128, (T-1)/8+1, H/32, W/32)``."""
        posterior = self.posterior(video01)
        z_raw = posterior.sample(generator) if sample else posterior.mode()
        mean, std = self._stats(z_raw)
        return (z_raw - mean) * self.config.scaling_factor / std

    def decode(self, z: torch.Tensor, clamp: bool = True) -> torch.Tensor:  # type: ignore[override]
        """Normalised latent ``(B, c, t, h, w)`` -> ``(B, 3, (t-1)*8+1, 32h, 32w)`` in ``[0, 1]``."""
        check_latent(z, self.latent_channels)
        mean, std = self._stats(z)
        z_raw = z * std / self.config.scaling_factor + mean
        temb = None
        if self.config.timestep_conditioning:
            temb = torch.full((z.shape[0],), self.decode_timestep, device=z.device, dtype=z.dtype)
        return to_video01(self._decode(z_raw, temb).sample, clamp)

    def forward(self, video01: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Reconstruction ``decode(encode(video01))``."""
        return self.decode(self.encode(video01))
