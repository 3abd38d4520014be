"""``TurboVSRModel``: 32x32x8 autoencoder + factorised-conditioning denoiser + flow/shortcut sampler.

A :class:`fastvsr.models.vsr.VSRModel` (same ``encode`` -> ``restore`` -> ``decode``, ``input_upscale``,
``pixel_multiple``, ``frame_multiple``, ``save_pretrained``), so the inference pipeline runs it unchanged.
The LR video is upscaled to the output size (``input_upscale(s) = s``) and encoded by the same AE;
``restore`` is :func:`fastvsr.diffusion.factorized.factorized_restore`.

Folder format (``save_pretrained`` / ``from_pretrained``)::

    model_dir/
      fastvsr_model.json   kind "turbovsr", ae kind ("patchified" or "ltx"), denoiser kind, sampler settings
      vae/                 the autoencoder (PatchifiedVAE or LTXVideoVAE folder)
      denoiser/            the denoiser
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from fastvsr.diffusion.factorized import MASK_CHANNELS, factorized_restore
from fastvsr.diffusion.sampler import SamplerConfig
from fastvsr.models.denoisers import DenoiserConfig, build_denoiser, load_denoiser
from fastvsr.models.local_files import require_files
from fastvsr.models.turbo.autoencoder import PatchifiedVAE
from fastvsr.models.turbo.config import TurboAEConfig, TurboVSRConfig
from fastvsr.models.turbo.ltx import LTXVideoVAE
from fastvsr.models.turbo.shortcut import uses_step_size
from fastvsr.models.vsr import MODEL_FILE, VSRModel, _read_meta, _sampler_from_dict

KIND = "turbovsr"
AE_CLASSES: dict[str, type[PatchifiedVAE] | type[LTXVideoVAE]] = {"patchified": PatchifiedVAE, "ltx": LTXVideoVAE}
TurboAE = PatchifiedVAE | LTXVideoVAE


def build_turbo_ae(cfg: TurboAEConfig) -> TurboAE:
    """A random :class:`PatchifiedVAE` of ``cfg``, or (``kind: ltx``) the local LTX-Video VAE."""
    if cfg.kind == "ltx":
        return load_turbo_ae("ltx", cfg.pretrained)  # type: ignore[arg-type]
    return PatchifiedVAE(block_out_channels=tuple(cfg.block_out_channels), layers_per_block=cfg.layers_per_block,
                         latent_channels=cfg.latent_channels, temporal_factor=cfg.temporal_factor,
                         norm_num_groups=cfg.norm_num_groups, scaling_factor=cfg.scaling_factor,
                         shift_factor=cfg.shift_factor, patch_size=cfg.patch_size)


def load_turbo_ae(kind: str, folder: str | Path, torch_dtype: torch.dtype | None = None) -> TurboAE:
    """Load a saved AE of ``kind`` (``patchified`` or ``ltx``) from a local folder (``WeightsMissingError`` when
    files are missing)."""
    folder = require_files(folder, "config.json", ("diffusion_pytorch_model.safetensors",
                                                   "diffusion_pytorch_model.safetensors.index.json"))
    return AE_CLASSES[kind].from_pretrained(folder, torch_dtype=torch_dtype, local_files_only=True)


def turbo_denoiser_config(cfg: DenoiserConfig, latent_channels: int) -> DenoiserConfig:
    """``cfg`` with the UNet's ``cond_channels`` set to the LR latent plus the first-frame mask."""
    return replace(cfg, unet=replace(cfg.unet, cond_channels=latent_channels + MASK_CHANNELS))


class TurboVSRModel(VSRModel):
    """AE + denoiser + sampler settings: a :class:`VSRModel` without a separate decoder (the AE decodes, so
    ``input_upscale(s) = s``) whose ``restore`` is the factorised two-pass restoration.

    Args:
        vae: the 32x32x8 AE (``spatial_factor``, ``temporal_factor``, ``frame_multiple``, ``latent_channels``,
            ``encode``, ``decode``).
        denoiser: ``denoiser(z_t, t, cond, step_size)`` with ``cond_channels = latent_channels + 1``.
        sampler: flow schedule, default steps and ``t_star`` (``T``: start from pure noise).
    """

    kind = KIND  # type: ignore[assignment]

    def __init__(self, vae: nn.Module, denoiser: nn.Module, sampler: SamplerConfig) -> None:
        super().__init__(vae, denoiser, None, sampler)

    def restore(self, z_lq: torch.Tensor, steps: int | None = None,  # type: ignore[override]
                z_first: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """Restored latent (B, c, t, h, w) of an LR latent: first frame, then the clip given it
        (:func:`factorized_restore`); ``steps`` defaults to the saved sampler setting, ``z_first`` optionally
        gives the clean HR latent of frame 0."""
        steps = self.sampler.steps if steps is None else steps
        return factorized_restore(self.denoiser, z_lq, schedule=self.schedule, steps=steps,  # type: ignore[arg-type]
                                  t_star=self.sampler.t_star, use_step_size=uses_step_size(self.denoiser),
                                  z_first=z_first, generator=generator)

    @classmethod
    def from_pretrained(cls, folder: str | Path, torch_dtype: torch.dtype | None = None) -> TurboVSRModel:
        """Load a folder written by ``save_pretrained`` (local only; ``WeightsMissingError`` names what is
        missing)."""
        folder = require_files(folder, MODEL_FILE)
        meta = _read_meta(folder / MODEL_FILE)
        vae = load_turbo_ae(meta["vae_kind"], folder / "vae", torch_dtype=torch_dtype)
        denoiser = load_denoiser(meta["denoiser_kind"], folder / "denoiser", torch_dtype=torch_dtype)
        return cls(vae, denoiser, _sampler_from_dict(meta["sampler"], folder / MODEL_FILE))


def build_turbo_model(cfg: TurboVSRConfig, device: str | torch.device | None = None) -> TurboVSRModel:
    """A :class:`TurboVSRModel` of ``cfg`` (random denoiser; the AE random or loaded from ``ae.pretrained``).
    ``device="meta"`` builds the architecture without memory."""
    with torch.device(device) if device is not None else contextlib.nullcontext():
        vae = build_turbo_ae(cfg.ae)
        denoiser = build_denoiser(turbo_denoiser_config(cfg.denoiser, vae.latent_channels), vae.latent_channels)
    return TurboVSRModel(vae, denoiser, cfg.sampler)


def load_restoration_model(folder: str | Path, torch_dtype: torch.dtype | None = None) -> VSRModel | TurboVSRModel:
    """Load any saved restoration model folder: a :class:`TurboVSRModel` when its ``fastvsr_model.json`` says
    ``kind: turbovsr``, else a :class:`VSRModel` (what the inference CLI can call instead of
    ``VSRModel.from_pretrained``)."""
    path = require_files(folder, MODEL_FILE)
    meta = _read_meta(path / MODEL_FILE)
    if meta.get("kind") == KIND:
        return TurboVSRModel.from_pretrained(path, torch_dtype=torch_dtype)
    return VSRModel.from_pretrained(path, torch_dtype=torch_dtype)
