"""Models: VAEs, the FastVSR f16 decoder, denoisers."""

from fastvsr.models.f16_decoder import F16Decoder, F16DecoderConfig
from fastvsr.models.vae import CogVideoXVAE, SpatioTemporalVAE, VAEConfig, build_vae, load_vae
from fastvsr.models.denoisers import CogVideoXDiTDenoiser, DenoiserConfig, SpatioTemporalUNet, build_denoiser
from fastvsr.models.vsr import VSRModel, VSRModelConfig, build_vsr_model
