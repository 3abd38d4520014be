"""Denoisers behind one interface: ``forward(z_t, t, cond=None, step_size=None) -> prediction``.

Latents ``(B, c, t, h, w)`` in and out, ``t`` a (B,) float tensor in schedule units; every denoiser has the
properties ``latent_multiple`` (spatial) and ``temporal_latent_multiple``, a ``denoiser_kind`` and
``save_pretrained`` / ``from_pretrained(local_dir)``. Kinds:

* ``unet``: the small spatio-temporal UNet (:class:`SpatioTemporalUNet`, CPU-trainable);
* ``cogvideox_dit``: DOVE's CogVideoX1.5-5B transformer (:class:`CogVideoXDiTDenoiser`);
* ``ltx_dit``: LTX-Video's transformer (:class:`LTXDiTDenoiser`, TurboVSR at paper scale).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from fastvsr.config import require
from fastvsr.errors import ConfigError
from fastvsr.models.denoisers.cogvideox_dit import CogVideoXDiTConfig, CogVideoXDiTDenoiser
from fastvsr.models.denoisers.ltx_dit import LTXDiTConfig, LTXDiTDenoiser
from fastvsr.models.denoisers.shortcut import add_step_size_embedding, uses_step_size
from fastvsr.models.denoisers.unet import SpatioTemporalUNet, UNetDenoiserConfig
from fastvsr.models.local_files import require_weights, stored_dtype

DENOISER_CLASSES: dict[str, type] = {
    "unet": SpatioTemporalUNet, "cogvideox_dit": CogVideoXDiTDenoiser, "ltx_dit": LTXDiTDenoiser,
}
DENOISER_KINDS = tuple(DENOISER_CLASSES)


@dataclass
class DenoiserConfig:
    """Which denoiser to build and its size; latent (and condition) channels come from the model kind.

    ``pretrained``: a local folder saved by ``save_pretrained`` (e.g. DOVE's transformer + prompt) to load
    instead of building at random.
    """

    kind: str = "unet"
    unet: UNetDenoiserConfig = field(default_factory=UNetDenoiserConfig)
    dit: CogVideoXDiTConfig = field(default_factory=CogVideoXDiTConfig)
    ltx: LTXDiTConfig = field(default_factory=LTXDiTConfig)
    pretrained: str | None = None

    def __post_init__(self) -> None:
        require(self.kind in DENOISER_KINDS, f"denoiser.kind must be one of {DENOISER_KINDS}, got '{self.kind}'")


Denoiser = SpatioTemporalUNet | CogVideoXDiTDenoiser | LTXDiTDenoiser


def build_denoiser(cfg: DenoiserConfig, latent_channels: int, cond_channels: int = 0) -> Denoiser:
    """The denoiser ``cfg`` describes for ``latent_channels``-channel latents with ``cond_channels`` channels of
    condition (0: none): loaded from ``cfg.pretrained`` when set, else randomly initialised."""
    if cfg.pretrained and cfg.kind == "ltx_dit":  # a published LTX-Video folder is widened for the condition
        return LTXDiTDenoiser.from_folder(cfg.pretrained, latent_channels, cond_channels, cfg.ltx.prompt_embeds)
    if cfg.pretrained:
        return load_denoiser(cfg.kind, cfg.pretrained)
    if cfg.kind == "unet":
        return SpatioTemporalUNet(in_channels=latent_channels, **{**asdict(cfg.unet), "cond_channels": cond_channels})
    if cfg.kind == "ltx_dit":
        return LTXDiTDenoiser.from_config(cfg.ltx, latent_channels, cond_channels)
    if cond_channels:
        raise ConfigError("the CogVideoX DiT denoiser takes no condition channels")
    return CogVideoXDiTDenoiser.from_config(cfg.dit, latent_channels)


def denoiser_kind(denoiser: torch.nn.Module) -> str:
    """The ``kind`` name of a denoiser instance (what :func:`load_denoiser` needs)."""
    return denoiser.denoiser_kind


def load_denoiser(kind: str, folder: str | Path, torch_dtype: torch.dtype | None = None) -> Denoiser:
    """Load a saved denoiser of ``kind`` from a local folder (``WeightsMissingError`` if files are missing).
    The weights keep their stored dtype unless ``torch_dtype`` is given."""
    if kind not in DENOISER_CLASSES:
        raise ConfigError(f"unknown denoiser kind '{kind}' (expected one of {', '.join(DENOISER_KINDS)})")
    cls = DENOISER_CLASSES[kind]
    if cls is SpatioTemporalUNet:
        folder = require_weights(folder)
        return cls.from_pretrained(folder, torch_dtype=torch_dtype or stored_dtype(folder), local_files_only=True)
    return cls.from_pretrained(folder, torch_dtype=torch_dtype)


__all__ = [
    "CogVideoXDiTConfig", "CogVideoXDiTDenoiser", "DENOISER_KINDS", "Denoiser", "DenoiserConfig",
    "LTXDiTConfig", "LTXDiTDenoiser", "SpatioTemporalUNet", "UNetDenoiserConfig", "add_step_size_embedding",
    "build_denoiser", "denoiser_kind", "load_denoiser", "uses_step_size",
]
