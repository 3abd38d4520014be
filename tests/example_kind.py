"""A tiny model kind written outside the package, as docs/design.md ("Adding a model kind") shows: the VAE's
latent of the LR is decoded as it is, with no denoiser, so the restoration decoder does all the work (the
ablation "what does the denoiser add?"). One module and one YAML (tests/data/decoder_only.yaml)."""

from __future__ import annotations

import torch
from torch import nn

from fastvsr.models import RestoreContext, VSRModel
from fastvsr.models.bundle import PartBuilder, build_decoder
from fastvsr.models.config import ModelConfig


class DecoderOnlyModel(VSRModel):
    """Encoder + restoration decoder; ``restore`` returns the latent unchanged."""

    @classmethod
    def build_parts(cls, cfg: ModelConfig, parts: PartBuilder) -> tuple[nn.Module, nn.Module | None, nn.Module | None]:
        vae = parts.vae(cfg.vae)
        return vae, None, build_decoder(cfg, vae)

    def restore(self, z_lq: torch.Tensor, steps: int | None = None,
                context: RestoreContext | None = None) -> torch.Tensor:
        return z_lq
