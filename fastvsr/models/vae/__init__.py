"""Spatio-temporal autoencoders with one API, one kind name each:

* ``spatiotemporal``: our causal 3D VAE (:class:`SpatioTemporalVAE`, f8/16/32, t1/4/8);
* ``cogvideox``: diffusers' CogVideoX VAE (:class:`CogVideoXVAE`, DOVE / FastVSR at paper scale);
* ``patchified``: TurboVSR's 32x32x8 AE built as our VAE behind a pixel patchify (:class:`PatchifiedVAE`);
* ``ltx``: diffusers' LTX-Video VAE (:class:`LTXVideoVAE`, TurboVSR at paper scale).

All have properties ``spatial_factor``, ``temporal_factor``, ``frame_multiple``, ``latent_channels``;
``encode(video01, sample=False, generator=None) -> z``, ``decode(z, clamp=True) -> video01`` and
``posterior(video01)``; ``save_pretrained`` / ``from_pretrained(local_dir)``. The split decoders (``vae.decoder``
of the first two) are what :class:`fastvsr.models.f16_decoder.F16Decoder` builds on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from fastvsr.errors import ConfigError
from fastvsr.models.local_files import require_weights, stored_dtype
from fastvsr.models.vae.autoencoder import CausalDecoder3D, CausalEncoder3D, SpatioTemporalVAE
from fastvsr.models.vae.cogvideox import CogVideoXSplitDecoder, CogVideoXVAE, split_decoder_from_spec
from fastvsr.models.vae.common import DecoderContext
from fastvsr.models.vae.config import VAE_KINDS, VAEConfig
from fastvsr.models.vae.ltx import LTXVideoVAE
from fastvsr.models.vae.patchified import PatchifiedVAE

VAE = SpatioTemporalVAE | CogVideoXVAE | PatchifiedVAE | LTXVideoVAE
VAE_CLASSES: dict[str, type[Any]] = {
    "spatiotemporal": SpatioTemporalVAE, "cogvideox": CogVideoXVAE, "patchified": PatchifiedVAE,
    "ltx": LTXVideoVAE,
}
SPLIT_DECODER_KINDS = ("spatiotemporal", "cogvideox")  # VAEs whose decoder an F16Decoder can be built from


def build_vae(cfg: VAEConfig) -> VAE:
    """The VAE ``cfg`` describes: loaded from ``cfg.pretrained`` when set, else randomly initialised."""
    if cfg.pretrained:
        return load_vae(cfg.kind, cfg.pretrained)
    sizes = dict(block_out_channels=tuple(cfg.block_out_channels), layers_per_block=cfg.layers_per_block,
                 latent_channels=cfg.latent_channels, norm_num_groups=cfg.norm_num_groups,
                 scaling_factor=cfg.scaling_factor, shift_factor=cfg.shift_factor)
    if cfg.kind == "patchified":
        return PatchifiedVAE(temporal_factor=cfg.temporal_factor, patch_size=cfg.patch_size, **sizes)
    if cfg.kind == "cogvideox":
        n = len(cfg.block_out_channels)
        return CogVideoXVAE(down_block_types=("CogVideoXDownBlock3D",) * n, up_block_types=("CogVideoXUpBlock3D",) * n,
                            temporal_compression_ratio=cfg.temporal_factor, **sizes)
    return SpatioTemporalVAE(temporal_factor=cfg.temporal_factor, shortcut=cfg.shortcut, norm_type=cfg.norm_type,
                             act_fn=cfg.act_fn, upsample_mode=cfg.upsample_mode,
                             decoder_layers_per_block=cfg.decoder_layers_per_block,
                             decoder_time_kernel=cfg.decoder_time_kernel, **sizes)


def load_vae(kind: str, folder: str | Path, torch_dtype: torch.dtype | None = None) -> VAE:
    """Load a saved VAE of ``kind`` from a local folder (``WeightsMissingError`` if files are missing).

    The weights keep their stored dtype (a bf16 checkpoint loads as bf16) unless ``torch_dtype`` is given.
    """
    if kind not in VAE_CLASSES:
        raise ConfigError(f"unknown VAE kind '{kind}' (expected one of {', '.join(VAE_CLASSES)})")
    folder = require_weights(folder)
    return VAE_CLASSES[kind].from_pretrained(folder, torch_dtype=torch_dtype or stored_dtype(folder),
                                             local_files_only=True)


def build_split_decoder(kind: str, spec: dict[str, Any]) -> CausalDecoder3D | CogVideoXSplitDecoder:
    """A randomly initialised decoder of a ``kind`` VAE from ``vae.decoder_spec()`` (see ``F16Decoder``)."""
    if kind not in SPLIT_DECODER_KINDS:
        raise ConfigError(f"a VAE of kind '{kind}' has no split decoder an f16 decoder can be built from "
                          f"(kinds with one: {', '.join(SPLIT_DECODER_KINDS)})")
    if kind == "cogvideox":
        return split_decoder_from_spec(spec)
    return CausalDecoder3D(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()})


def vae_kind(vae: torch.nn.Module) -> str:
    """The ``kind`` name of a VAE instance (what :func:`load_vae` needs)."""
    return vae.decoder_kind


__all__ = [
    "VAE", "VAE_CLASSES", "VAE_KINDS", "CausalDecoder3D", "CausalEncoder3D", "CogVideoXSplitDecoder",
    "CogVideoXVAE", "DecoderContext", "LTXVideoVAE", "PatchifiedVAE", "SpatioTemporalVAE", "VAEConfig",
    "build_split_decoder", "build_vae", "load_vae", "vae_kind",
]
