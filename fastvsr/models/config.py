"""The one model description: ``ModelConfig`` (schema of ``configs/models/*.yaml`` and of the ``model:`` section of
every training, benchmark and recipe config).

A model is a ``kind`` (a registered bundle class, :mod:`fastvsr.models.registry`: ``fastvsr``, ``turbovsr``,
or ``package.module:Class`` for one defined elsewhere) plus its parts, each a section with its own ``kind``
and an optional local ``pretrained`` folder:

* ``vae``: the autoencoder (:class:`fastvsr.models.vae.VAEConfig`);
* ``decoder``: what decodes the restored latent (:class:`DecoderConfig`: FastVSR's f16 decoder, or the VAE's
  own decoder);
* ``denoiser``: :class:`fastvsr.models.denoisers.DenoiserConfig`;
* ``sampler``: schedule, steps and start timestep (:class:`fastvsr.diffusion.SamplerConfig`);
* ``input_upscale_mode``: how the LR is upscaled before encoding.

Each kind checks the combination it supports (``VSRModel.check_config``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from fastvsr.config import require
from fastvsr.diffusion.sampler import SamplerConfig
from fastvsr.models.denoisers import DenoiserConfig
from fastvsr.models.f16_decoder import check_f16_switches
from fastvsr.models.registry import model_class
from fastvsr.models.vae.config import VAEConfig
from fastvsr.ops.resize import check_upscale_mode


class DecoderKind(str, Enum):
    """Which decoder restores: FastVSR's f16 decoder, or the VAE's own (DOVE's f8 baseline, TurboVSR's AE)."""

    F16 = "f16"
    VAE = "vae"


@dataclass
class DecoderConfig:
    """The restoration decoder.

    ``kind: f16`` builds :class:`~fastvsr.models.f16_decoder.F16Decoder` from the VAE's decoder (every weight
    copied) or loads ``pretrained`` (a trained decoder folder, e.g. a stage-1 export); ``expansion`` (``copy``
    or ``conv1x1``) and ``norm_placement`` (``after`` or ``before`` the shuffle) pick its variant, and
    ``fold_copy`` folds the channel copy into conv_out once built (exact; needs ``copy``, and ``before`` or
    the norm-free block style, which the build checks). Inference folds it wherever it is exact anyway
    (``InferConfig.fold_copy``).
    ``kind: vae`` decodes with the VAE itself (no other key applies).
    """

    kind: DecoderKind = DecoderKind.F16
    expansion: str = "copy"
    norm_placement: str = "after"
    fold_copy: bool = False
    pretrained: str | None = None

    def __post_init__(self) -> None:
        check_f16_switches(self.expansion, self.norm_placement)
        f16 = DecoderKind(self.kind) is DecoderKind.F16
        require(f16 or self.pretrained is None, "decoder.pretrained is for decoder.kind=f16 (kind=vae decodes with "
                "the VAE's own decoder: set vae.pretrained)")
        require(not self.fold_copy or (f16 and self.expansion == "copy"),
                "decoder.fold_copy needs decoder.kind=f16 and expansion=copy")


@dataclass
class ModelConfig:
    """A whole restoration model (see the module docstring)."""

    MOVED_KEYS = {
        "f16": "the f16 decoder's switches are keys of the decoder section (decoder.expansion, "
               "decoder.norm_placement)",
        "decoder": "decoder is a section: write decoder: {kind: f16} (or kind: vae for the VAE's own decoder)",
    }

    kind: str = "fastvsr"
    vae: VAEConfig = field(default_factory=VAEConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    # how the LR is upscaled before encoding: bilinear as DOVE; nearest lets a shortcut VAE's latent hold the LR
    input_upscale_mode: str = "bilinear"

    def __post_init__(self) -> None:
        check_upscale_mode(self.input_upscale_mode)
        model_class(self.kind).check_config(self)
