"""Spatio-temporal VAEs with one API: our causal 3D VAE and the CogVideoX adapter.

Both have properties ``spatial_factor``, ``temporal_factor``, ``frame_multiple``, ``latent_channels``;
``encode(video01, sample=False, generator=None) -> z``, ``decode(z, clamp=True) -> video01`` and ``posterior(video01)``;
a split decoder (``vae.decoder``) that
:class:`fastvsr.models.f16_decoder.F16Decoder` builds on; ``save_pretrained`` / ``from_pretrained(local_dir)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from fastvsr.errors import ConfigError
from fastvsr.models.local_files import require_files
from fastvsr.models.vae.autoencoder import CausalDecoder3D, CausalEncoder3D, SpatioTemporalVAE
from fastvsr.models.vae.cogvideox import CogVideoXSplitDecoder, CogVideoXVAE, split_decoder_from_spec
from fastvsr.models.vae.common import DecoderContext
from fastvsr.models.vae.config import VAE_KINDS, VAEConfig

VAE = SpatioTemporalVAE | CogVideoXVAE
VAE_CLASSES: dict[str, type[SpatioTemporalVAE] | type[CogVideoXVAE]] = {
    "spatiotemporal": SpatioTemporalVAE, "cogvideox": CogVideoXVAE,
}


def build_vae(cfg: VAEConfig) -> VAE:
    """A randomly initialised VAE of ``cfg`` (or, for ``cogvideox`` with ``pretrained``, the local weights)."""
    if cfg.pretrained:
        return load_vae("cogvideox", cfg.pretrained)
    sizes = dict(block_out_channels=tuple(cfg.block_out_channels), layers_per_block=cfg.layers_per_block,
                 latent_channels=cfg.latent_channels, norm_num_groups=cfg.norm_num_groups,
                 scaling_factor=cfg.scaling_factor, shift_factor=cfg.shift_factor)
    if cfg.kind == "patchified":
        return _patchified_class()(temporal_factor=cfg.temporal_factor, patch_size=cfg.patch_size, **sizes)
    if cfg.kind == "cogvideox":
        n = len(cfg.block_out_channels)
        return CogVideoXVAE(down_block_types=("CogVideoXDownBlock3D",) * n, up_block_types=("CogVideoXUpBlock3D",) * n,
                            temporal_compression_ratio=cfg.temporal_factor, **sizes)
    return SpatioTemporalVAE(temporal_factor=cfg.temporal_factor, shortcut=cfg.shortcut, norm_type=cfg.norm_type,
                             act_fn=cfg.act_fn, upsample_mode=cfg.upsample_mode, **sizes)


def load_vae(kind: str, folder: str | Path, torch_dtype: torch.dtype | None = None) -> VAE:
    """Load a saved VAE of ``kind`` from a local folder (``WeightsMissingError`` if files are missing)."""
    folder = require_files(folder, "config.json", ("diffusion_pytorch_model.safetensors",
                                                   "diffusion_pytorch_model.safetensors.index.json"))
    cls = _patchified_class() if kind == "patchified" else VAE_CLASSES[kind]
    return cls.from_pretrained(folder, torch_dtype=torch_dtype, local_files_only=True)


def _patchified_class() -> type[SpatioTemporalVAE]:
    """TurboVSR's PatchifiedVAE, imported on use (it subclasses this package's VAE)."""
    from fastvsr.models.turbo.autoencoder import PatchifiedVAE

    return PatchifiedVAE


def build_split_decoder(kind: str, spec: dict[str, Any]) -> CausalDecoder3D | CogVideoXSplitDecoder:
    """A randomly initialised decoder of a ``kind`` VAE from ``vae.decoder_spec()`` (see ``F16Decoder``)."""
    if kind not in VAE_KINDS:
        raise ConfigError(f"unknown VAE kind '{kind}' (expected one of {VAE_KINDS})")
    if kind == "patchified":
        raise ConfigError("the TurboVSR AE (kind patchified) has no split f16 decoder; it decodes at its own factor")
    if kind == "cogvideox":
        return split_decoder_from_spec(spec)
    return CausalDecoder3D(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()})


def vae_kind(vae: torch.nn.Module) -> str:
    """The ``kind`` name of a VAE instance (what :func:`load_vae` needs)."""
    return vae.decoder_kind


__all__ = [
    "VAE", "VAE_KINDS", "CausalDecoder3D", "CausalEncoder3D", "CogVideoXSplitDecoder", "CogVideoXVAE",
    "DecoderContext", "SpatioTemporalVAE", "VAEConfig", "build_split_decoder", "build_vae", "load_vae",
    "vae_kind",
]
