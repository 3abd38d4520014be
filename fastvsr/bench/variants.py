"""The pipeline variants the benchmark compares, built from one VAE and one denoiser.

Each builder returns a :class:`~fastvsr.models.VSRModel`, or a one-line reason why the variant cannot be
built (it is then listed as skipped).  TurboVSR (32x32x8 autoencoder, factorised
restoration in 1 or 4 steps) is built from ``cfg.turbo``; a new pipeline plugs in by adding a builder here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

from torch import nn

from fastvsr.bench.config import BenchConfig
from fastvsr.models.denoisers import build_denoiser
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.turbo import LTXDiTDenoiser, TurboVSRModel, build_turbo_ae, build_turbo_model
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


def _turbovsr(vae: nn.Module, denoiser: nn.Module, cfg: BenchConfig, steps: int = 1) -> TurboVSRModel:
    """TurboVSR from ``cfg.turbo`` (its own AE and denoiser; the shared ones are not used), ``steps`` sampler
    steps in each of the two factorised passes."""
    turbo = cfg.turbo
    sampler = replace(turbo.model.sampler, steps=steps)
    if turbo.ltx_dit is None:
        model = build_turbo_model(turbo.model)
        return TurboVSRModel(model.vae, model.denoiser, sampler)
    ae = build_turbo_ae(turbo.model.ae)
    return TurboVSRModel(ae, LTXDiTDenoiser(turbo.ltx_dit, ae.latent_channels, ae.latent_channels + 1), sampler)


BUILDERS: dict[str, Builder] = {
    "baseline_f8": _baseline_f8,
    "fastvsr_f16": _fastvsr_f16,
    "fastvsr_f16_folded": _fastvsr_f16_folded,
    "turbovsr": _turbovsr,
    "turbovsr_4step": partial(_turbovsr, steps=4),
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
    if isinstance(model, TurboVSRModel):
        return f"x{up:g} upscale, f{model.vae.spatial_factor} AE, {model.sampler.steps}+{model.sampler.steps} steps"
    folded = " (copy folded into conv_out)" if getattr(model.decoder, "folded", False) else ""
    return f"x{up:g} upscale, f{model.decoder.spatial_factor} decode{folded}"


def pipeline_parameters(model: VSRModel) -> list[nn.Parameter]:
    """The parameters a restoration actually uses: VAE (without its f8 decoder when an f16 decoder replaces
    it), denoiser and restoration decoder."""
    unused = {id(p) for p in model.vae.decoder.parameters()} if model.f16_decoder is not None else set()
    unique = {id(p): p for p in model.parameters() if id(p) not in unused}
    return list(unique.values())


def denoiser_tokens(denoiser: nn.Module, latent: tuple[int, ...]) -> int:
    """Tokens (or UNet positions) per clip the denoiser sees: latent ``t*h*w`` over its patch sizes
    (``ceil(t / patch_t) * (h / patch) * (w / patch)``; 1 for a UNet, 2 and 2 for the CogVideoX DiT)."""
    config = getattr(denoiser, "transformer", None)
    patch = getattr(config.config, "patch_size", 1) if config is not None else 1
    patch_t = (getattr(config.config, "patch_size_t", 1) or 1) if config is not None else 1
    _, t, h, w = latent
    return -(-t // patch_t) * (h // patch) * (w // patch)
