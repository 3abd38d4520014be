"""Kind ``fastvsr``: DOVE-style one-step (or k-step) restoration of the latent, decoded by FastVSR's f16 decoder
(``decoder.kind: f16``) or by the VAE's own f8 decoder (``decoder.kind: vae``, the DOVE baseline).

``restore`` is :func:`fastvsr.diffusion.restore_latent`, the one restoration forward training also calls.
"""

from __future__ import annotations

import torch

from fastvsr.config import require
from fastvsr.diffusion.sampler import restore_latent
from fastvsr.models.bundle import RestoreContext, VSRModel
from fastvsr.models.config import DecoderKind, ModelConfig
from fastvsr.models.vae import SPLIT_DECODER_KINDS


class FastVSRModel(VSRModel):
    """Frozen VAE encoder -> denoiser (``restore_latent`` with the saved schedule and ``t_star``) -> decoder."""

    kind = "fastvsr"

    @classmethod
    def check_config(cls, cfg: ModelConfig) -> None:
        require(DecoderKind(cfg.decoder.kind) is DecoderKind.VAE or cfg.vae.kind in SPLIT_DECODER_KINDS,
                f"decoder.kind=f16 is built from the VAE's decoder; vae.kind={cfg.vae.kind} has none to split "
                f"(use one of {', '.join(SPLIT_DECODER_KINDS)}, or decoder.kind=vae)")

    def restore(self, z_lq: torch.Tensor, steps: int | None = None,
                context: RestoreContext | None = None) -> torch.Tensor:
        """Restored latent (B, c, t, h, w) of an LR latent: :func:`restore_latent` with this model's schedule and
        ``t_star``; ``steps`` defaults to the saved sampler setting."""
        context = context or RestoreContext()
        denoiser = context.denoiser if context.denoiser is not None else self.denoiser
        return restore_latent(denoiser, z_lq, schedule=self.schedule,
                              steps=self.sampler.steps if steps is None else steps,
                              t_star=self.sampler.t_star, generator=context.generator)
