"""Models: VAEs, the FastVSR f16 decoder, denoisers."""

from fastvsr.models.vae import CogVideoXVAE, SpatioTemporalVAE, VAEConfig, build_vae, load_vae
