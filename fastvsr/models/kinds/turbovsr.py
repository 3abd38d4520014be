"""Kind ``turbovsr``: a 32x32x8 autoencoder, factorised conditioning and a flow / shortcut sampler (TurboVSR,
arXiv 2506.23618).

The AE decodes (``decoder.kind: vae``), so the LR is upscaled to the output size before encoding
(``input_upscale(s) = s``). The denoiser is conditioned on the LR latent plus a one-channel first-frame mask
(:mod:`fastvsr.diffusion.factorized`), so it is built with ``latent + 1`` condition channels. ``restore`` is
:func:`~fastvsr.diffusion.factorized.factorized_restore`: the first frame as a one-frame video, then the clip
given it (or given ``RestoreContext.z_first``, e.g. the previous chunk's restored frame).
"""

from __future__ import annotations

import torch
from torch import nn

from fastvsr.config import require
from fastvsr.diffusion.factorized import MASK_CHANNELS, factorized_restore
from fastvsr.diffusion.sampler import check_shortcut_steps
from fastvsr.errors import ConfigError
from fastvsr.models.bundle import PartBuilder, RestoreContext, VSRModel
from fastvsr.models.config import DecoderKind, ModelConfig
from fastvsr.models.denoisers import uses_step_size

DENOISER_KINDS = ("unet", "ltx_dit")  # the ones that take the condition channels


class TurboVSRModel(VSRModel):
    """AE + factorised-conditioning denoiser + flow sampler (see the module docstring)."""

    kind = "turbovsr"
    condition_on_first_frame = True

    @classmethod
    def check_config(cls, cfg: ModelConfig) -> None:
        require(cfg.sampler.schedule.kind == "flow", "kind=turbovsr samples with sampler.schedule.kind=flow")
        require(DecoderKind(cfg.decoder.kind) is DecoderKind.VAE, "kind=turbovsr decodes with its autoencoder: "
                "set decoder.kind=vae")
        require(cfg.denoiser.kind in DENOISER_KINDS, f"kind=turbovsr needs a denoiser that takes the LR condition "
                f"channels: denoiser.kind one of {', '.join(DENOISER_KINDS)}, got '{cfg.denoiser.kind}'")

    @classmethod
    def build_parts(cls, cfg: ModelConfig, parts: PartBuilder) -> tuple[nn.Module, nn.Module | None, nn.Module | None]:
        vae = parts.vae(cfg.vae)
        channels = vae.latent_channels
        return vae, parts.denoiser(cfg.denoiser, channels, cond_channels=channels + MASK_CHANNELS), None

    def restore(self, z_lq: torch.Tensor, steps: int | None = None,
                context: RestoreContext | None = None) -> torch.Tensor:
        """Restored latent (B, c, t, h, w): first frame, then the clip given it (``context.z_first`` replaces the
        first pass); ``steps`` flow/shortcut steps per pass, by default the saved sampler setting.

        Raises:
            ConfigError: a shortcut model asked for a step count it was not trained for.
        """
        context = context or RestoreContext()
        denoiser = context.denoiser if context.denoiser is not None else self.denoiser
        steps = self.sampler.steps if steps is None else steps
        shortcut = uses_step_size(self.denoiser)
        if shortcut:
            check_shortcut_steps(steps, self.sampler.trained_steps)
        if context.prompt_embeds is not None and not getattr(self.denoiser, "takes_prompt", False):
            raise ConfigError(f"a prompt embedding was given, but this model's {type(self.denoiser).__name__} has no "
                              "text condition (the LTX-Video DiT has)")
        return factorized_restore(denoiser, z_lq, schedule=self.schedule,  # type: ignore[arg-type]
                                  steps=steps, t_star=self.sampler.t_star, use_step_size=shortcut,
                                  z_first=context.z_first, generator=context.generator,
                                  prompt_embeds=context.prompt_embeds)
