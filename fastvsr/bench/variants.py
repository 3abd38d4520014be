"""The pipeline variants the benchmark compares, built from one VAE and one denoiser.

Each builder returns a :class:`~fastvsr.models.VSRModel`, or a one-line reason why the variant cannot be
built (it is then listed as skipped).  A new pipeline (TurboVSR's 32x32x8 autoencoder) plugs in by replacing
its builder here; nothing else in the benchmark needs to change.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import replace

from torch import nn

from fastvsr.bench.config import BenchConfig
from fastvsr.models.denoisers import build_denoiser
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.vae import build_vae
from fastvsr.models.vsr import VSRModel

Builder = Callable[[nn.Module, nn.Module, BenchConfig], "VSRModel | str"]


def _baseline_f8(vae: nn.Module, denoiser: nn.Module, cfg: BenchConfig) -> VSRModel:
    return VSRModel(vae, denoiser, None, cfg.sampler)


def _fastvsr_f16(vae: nn.Module, denoiser: nn.Module, cfg: BenchConfig) -> VSRModel:
    return VSRModel(vae, denoiser, F16Decoder.from_f8(vae, cfg.decoder), cfg.sampler)


def _fastvsr_f16_folded(vae: nn.Module, denoiser: nn.Module, cfg: BenchConfig) -> VSRModel:
    decoder_cfg = replace(cfg.decoder, expansion="copy", norm_placement="before")
    return VSRModel(vae, denoiser, F16Decoder.from_f8(vae, decoder_cfg).fold_copy(), cfg.sampler)


def _turbovsr(vae: nn.Module, denoiser: nn.Module, cfg: BenchConfig) -> VSRModel | str:
    if importlib.util.find_spec("fastvsr.models.turbovsr") is None:
        return "skipped: no TurboVSR models (32x32x8 AE) in fastvsr.models yet"
    return "skipped: TurboVSR models exist but the benchmark has no builder for them yet (fastvsr/bench/variants.py)"


BUILDERS: dict[str, Builder] = {
    "baseline_f8": _baseline_f8,
    "fastvsr_f16": _fastvsr_f16,
    "fastvsr_f16_folded": _fastvsr_f16_folded,
    "turbovsr": _turbovsr,
}


def build_variants(cfg: BenchConfig) -> dict[str, VSRModel | str]:
    """Build every variant of ``cfg`` on the current default device (use ``with torch.device(...)``).

    The variants share one randomly initialised VAE and denoiser; an f16 decoder is a copy of the VAE's f8
    decoder (:meth:`F16Decoder.from_f8`). Returns name -> model, or name -> reason it was skipped.
    """
    vae = build_vae(cfg.vae)
    denoiser = build_denoiser(cfg.denoiser, vae.latent_channels)
    return {name: BUILDERS[name](vae, denoiser, cfg) for name in cfg.variants}


def variant_label(model: VSRModel, scale: int) -> str:
    """E.g. ``"x4 upscale, f8 decode"``: what the variant does with the LR clip."""
    up = model.input_upscale(scale)
    folded = " (copy folded into conv_out)" if getattr(model.decoder, "folded", False) else ""
    return f"x{up:g} upscale, f{model.decoder.spatial_factor} decode{folded}"


def pipeline_parameters(model: VSRModel) -> list[nn.Parameter]:
    """The parameters a restoration actually uses: VAE (without its f8 decoder when an f16 decoder replaces
    it), denoiser and restoration decoder."""
    unused = {id(p) for p in model.vae.decoder.parameters()} if model.f16_decoder is not None else set()
    unique = {id(p): p for p in model.parameters() if id(p) not in unused}
    return list(unique.values())
