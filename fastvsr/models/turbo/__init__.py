"""TurboVSR: 32x32x8 autoencoder (ours, LTX-Video geometry, or the LTX-Video VAE adapter), the bundle with
factorised-conditioning restoration, shortcut conversion of a flow denoiser, and the LTX-Video DiT adapter."""

from fastvsr.models.turbo.autoencoder import PatchifiedVAE, patchify, unpatchify
from fastvsr.models.turbo.bundle import (
    TurboVSRModel,
    build_turbo_ae,
    build_turbo_model,
    load_restoration_model,
    load_turbo_ae,
    turbo_denoiser_config,
)
from fastvsr.models.turbo.config import TurboAEConfig, TurboVSRConfig, flow_sampler
from fastvsr.models.turbo.ltx import LTXVideoVAE
from fastvsr.models.turbo.ltx_dit import LTXDiTConfig, LTXDiTDenoiser
from fastvsr.models.turbo.shortcut import add_step_size_embedding, uses_step_size

__all__ = [
    "LTXDiTConfig", "LTXDiTDenoiser", "LTXVideoVAE", "PatchifiedVAE", "TurboAEConfig", "TurboVSRConfig",
    "TurboVSRModel", "add_step_size_embedding",
    "build_turbo_ae", "build_turbo_model", "flow_sampler", "load_restoration_model", "load_turbo_ae", "patchify",
    "turbo_denoiser_config", "unpatchify", "uses_step_size",
]
