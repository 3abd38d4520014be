"""Models: the one model description (``ModelConfig``), the contract (``VSRModel``) and its kinds, and the
parts they are made of (VAEs, the FastVSR f16 decoder, denoisers)."""

from fastvsr.models.bundle import RestoreContext, VSRModel, load_model
from fastvsr.models.config import DecoderConfig, DecoderKind, ModelConfig
from fastvsr.models.denoisers import DenoiserConfig, build_denoiser, load_denoiser
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.registry import build_model, model_class
from fastvsr.models.vae import VAEConfig, build_vae, load_vae

__all__ = [
    "DecoderConfig", "DecoderKind", "DenoiserConfig", "F16Decoder", "ModelConfig", "RestoreContext", "VAEConfig",
    "VSRModel", "build_denoiser", "build_model", "build_vae", "load_denoiser", "load_model", "load_vae",
    "model_class",
]
