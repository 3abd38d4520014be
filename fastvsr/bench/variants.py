"""The variants the benchmark compares: one model description each (``BenchConfig.models``), built through the
same registry inference and training use, sharing parts whose descriptions are equal.

A new pipeline plugs in by adding an entry to ``models`` (or a model kind, see docs/design.md).
"""

from __future__ import annotations

from torch import nn

from fastvsr.bench.config import BenchConfig
from fastvsr.models.bundle import SharedParts, VSRModel
from fastvsr.models.registry import build_model


def build_variants(cfg: BenchConfig) -> dict[str, VSRModel]:
    """Build every variant of ``cfg`` on the current default device (use ``with torch.device(...)``), in order.

    Variants whose VAE (or denoiser) descriptions are equal share one module; an f16 decoder is a copy of its
    VAE's decoder (random weights: costs do not depend on values)."""
    parts = SharedParts()
    return {name: build_model(model, parts=parts) for name, model in cfg.models.items()}


def variant_label(model: VSRModel, scale: int) -> str:
    """E.g. ``"x4 upscale, f8 decode"``: what the variant does with the LR clip."""
    up = model.input_upscale(scale)
    steps = f", {model.sampler.steps} step{'s' if model.sampler.steps > 1 else ''}"
    passes = " per pass (first frame, then clip)" if model.condition_on_first_frame else ""
    folded = " (copy folded into conv_out)" if getattr(model.decoder, "folded", False) else ""
    return f"x{up:g} upscale, f{model.decoder_factor} decode{folded}{steps}{passes}"


def pipeline_parameters(model: VSRModel) -> list[nn.Parameter]:
    """The parameters a restoration actually uses: VAE (without its f8 decoder when an f16 decoder replaces
    it), denoiser and restoration decoder."""
    unused = {id(p) for p in model.vae.decoder.parameters()} if model.f16_decoder is not None else set()
    unique = {id(p): p for p in model.parameters() if id(p) not in unused}
    return list(unique.values())


def denoiser_tokens(denoiser: nn.Module | None, latent: tuple[int, ...]) -> int:
    """Tokens (or UNet positions) per clip the denoiser sees: latent ``t*h*w`` over its patch sizes
    (``ceil(t / patch_t) * (h / patch) * (w / patch)``; 1 for a UNet, 2 and 2 for the CogVideoX DiT)."""
    transformer = getattr(denoiser, "transformer", None)
    patch = getattr(transformer.config, "patch_size", 1) if transformer is not None else 1
    patch_t = (getattr(transformer.config, "patch_size_t", 1) or 1) if transformer is not None else 1
    _, t, h, w = latent
    return -(-t // patch_t) * (h // patch) * (w // patch)
