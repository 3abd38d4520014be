"""``VSRModel``: the restoration bundle (VAE encoder, restoration decoder, denoiser, sampler settings).

The contract (docs/design.md, "Model contract"): ``encode`` -> ``restore`` -> ``decode``, plus the size
relations ``input_upscale(scale)``, ``pixel_multiple`` and ``frame_multiple``.  ``restore`` is
:func:`fastvsr.diffusion.restore_latent`, the one restoration forward training also calls.

Folder format (``save_pretrained`` / ``from_pretrained``)::

    model_dir/
      fastvsr_model.json   kind, class names, sampler settings
      vae/                 the VAE (diffusers ModelMixin folder)
      decoder/             the F16Decoder (absent when the VAE's own f8 decoder restores)
      denoiser/            the denoiser (see fastvsr.models.denoisers.load_denoiser)
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from torch import nn

from fastvsr.atomic import atomic_path
from fastvsr.config import config_to_dict, require
from fastvsr.diffusion.sampler import SamplerConfig, restore_latent
from fastvsr.diffusion.schedule import build_schedule
from fastvsr.errors import ConfigError, InputError, WeightsMissingError
from fastvsr.models.denoisers import DenoiserConfig, build_denoiser, denoiser_kind, load_denoiser
from fastvsr.models.f16_decoder import F16Decoder, F16DecoderConfig
from fastvsr.models.local_files import require_files
from fastvsr.models.vae import VAEConfig, build_vae, load_vae, vae_kind
from fastvsr.ops.resize import check_upscale_mode, upscale_lr

MODEL_FILE = "fastvsr_model.json"
FORMAT_VERSION = 1
MODEL_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.safetensors.index.json")
DECODER_CHOICES = ("f16", "vae")


@dataclass
class VSRModelConfig:
    """The whole restoration model (schema of ``configs/models/fastvsr_*.yaml``).

    ``decoder: f16`` builds FastVSR's :class:`F16Decoder` from the VAE's f8 decoder (every weight copied);
    ``decoder: vae`` restores with the VAE's own f8 decoder (the DOVE-style baseline).
    """

    vae: VAEConfig = field(default_factory=VAEConfig)
    decoder: str = "f16"
    f16: F16DecoderConfig = field(default_factory=F16DecoderConfig)
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    # how the LR is upscaled before encoding: bilinear as DOVE; nearest lets a shortcut VAE's latent hold the LR
    input_upscale_mode: str = "bilinear"

    def __post_init__(self) -> None:
        require(self.decoder in DECODER_CHOICES, f"decoder must be one of {DECODER_CHOICES}, got '{self.decoder}'")
        check_upscale_mode(self.input_upscale_mode)


class VSRModel(nn.Module):
    """VAE encoder + denoiser + restoration decoder, with the sampler settings they were trained with.

    Args:
        vae: a VAE with ``spatial_factor``, ``temporal_factor``, ``latent_channels``, ``encode``, ``decode``.
        denoiser: ``denoiser(z_t, t, cond=None, step_size=None)`` with ``latent_multiple`` and
            ``temporal_latent_multiple``.
        decoder: an :class:`F16Decoder`, or None to restore with the VAE's own (f8) decoder.
        sampler: schedule, steps and ``t_star`` used by :meth:`restore`.
        input_upscale_mode: how the LR is upscaled before encoding (``fastvsr.ops.resize.upscale_lr``).
    """

    def __init__(self, vae: nn.Module, denoiser: nn.Module, decoder: nn.Module | None = None,
                 sampler: SamplerConfig | None = None, input_upscale_mode: str = "bilinear") -> None:
        super().__init__()
        try:
            check_upscale_mode(input_upscale_mode)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        self.input_upscale_mode = input_upscale_mode
        self.vae = vae
        self.denoiser = denoiser
        self.f16_decoder = decoder
        self.sampler = sampler or SamplerConfig()
        self.schedule = build_schedule(self.sampler.schedule)

    @property
    def decoder(self) -> nn.Module:
        """The decoder used for restoration: the F16Decoder, or the VAE itself (its own f8 decoder)."""
        return self.f16_decoder if self.f16_decoder is not None else self.vae

    @property
    def kind(self) -> str:
        """``"fastvsr_f16"`` (asymmetric f8 encoder / f16 decoder) or ``"baseline_f8"``."""
        return "baseline_f8" if self.f16_decoder is None else "fastvsr_f16"

    @property
    def pixel_multiple(self) -> int:
        """Spatial multiple the encoder input (H, W) needs: VAE factor x the denoiser's latent multiple."""
        return int(self.vae.spatial_factor) * int(self.denoiser.latent_multiple)

    @property
    def frame_multiple(self) -> int:
        """Input frame counts are ``k * frame_multiple + 1``."""
        denoiser_frames = int(self.vae.temporal_factor) * int(self.denoiser.temporal_latent_multiple)
        return math.lcm(int(self.vae.frame_multiple), denoiser_frames)

    def input_upscale(self, scale: float) -> float:
        """How much the LR is upsampled before encoding for an overall ``scale`` (2 for FastVSR x4)."""
        return scale * self.vae.spatial_factor / self.decoder.spatial_factor

    def upscale_input(self, lr: torch.Tensor, scale: float) -> torch.Tensor:
        """The encoder input: ``lr`` ``(B, 3, T, h, w)`` in ``[0, 1]`` upscaled by :meth:`input_upscale` with
        ``input_upscale_mode``."""
        return upscale_lr(lr, self.input_upscale(scale), self.input_upscale_mode)

    def encode(self, video01: torch.Tensor, sample: bool = False,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 3, T, H, W) in [0, 1], ``T = k * frame_multiple + 1``, ``H, W % pixel_multiple == 0`` ->
        scaled latent (B, c, t, h, w)."""
        h, w = video01.shape[-2:]
        if h % self.pixel_multiple or w % self.pixel_multiple:
            raise InputError(f"frame size {h}x{w} must be a multiple of {self.pixel_multiple} (pad the frames first)")
        return self.vae.encode(video01, sample=sample, generator=generator)

    def restore(self, z_lq: torch.Tensor, steps: int | None = None, cond: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Restored latent (B, c, t, h, w) of an LR latent: :func:`fastvsr.diffusion.restore_latent` with this
        model's schedule and ``t_star``; ``steps`` defaults to the saved sampler setting."""
        steps = self.sampler.steps if steps is None else steps
        return restore_latent(self.denoiser, z_lq, schedule=self.schedule, steps=steps, t_star=self.sampler.t_star,
                              cond=cond, generator=generator)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, c, t, h, w) latent -> (B, 3, T, h * decoder.spatial_factor, w * ...) in [0, 1]."""
        return self.decoder.decode(z)

    def forward(self, video01: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        """``decode(restore(encode(video01)))`` for an already upscaled and padded clip."""
        return self.decode(self.restore(self.encode(video01), steps=steps))

    def save_pretrained(self, folder: str | Path, overwrite: bool = True) -> Path:
        """Write the model folder atomically (see the module docstring)."""
        meta = {
            "format": FORMAT_VERSION, "kind": self.kind, "vae_kind": vae_kind(self.vae),
            "decoder_class": None if self.f16_decoder is None else type(self.f16_decoder).__name__,
            "denoiser_kind": denoiser_kind(self.denoiser), "sampler": config_to_dict(self.sampler),
            "input_upscale_mode": self.input_upscale_mode,
        }
        with atomic_path(folder, overwrite=overwrite) as tmp:
            tmp.mkdir()
            self.vae.save_pretrained(tmp / "vae")
            if self.f16_decoder is not None:
                self.f16_decoder.save_pretrained(tmp / "decoder")
            self.denoiser.save_pretrained(tmp / "denoiser")
            (tmp / MODEL_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        return Path(folder)

    @classmethod
    def from_pretrained(cls, folder: str | Path, torch_dtype: torch.dtype | None = None) -> VSRModel:
        """Load a folder written by :meth:`save_pretrained` (local only).

        Raises:
            WeightsMissingError: the folder or one of its files is missing (the message names it).
        """
        folder = require_files(folder, MODEL_FILE)
        meta = _read_meta(folder / MODEL_FILE)
        vae = load_vae(meta["vae_kind"], folder / "vae", torch_dtype=torch_dtype)
        decoder = None
        if meta.get("decoder_class"):
            require_files(folder, "decoder/config.json", tuple(f"decoder/{f}" for f in MODEL_WEIGHTS))
            decoder = F16Decoder.from_pretrained(folder / "decoder", torch_dtype=torch_dtype, local_files_only=True)
        denoiser = load_denoiser(meta["denoiser_kind"], folder / "denoiser", torch_dtype=torch_dtype)
        mode = meta.get("input_upscale_mode", "bilinear")  # folders from before the key existed: bilinear
        try:
            check_upscale_mode(mode)
        except ValueError as err:
            raise WeightsMissingError(f"{folder / MODEL_FILE}: {err}") from None
        return cls(vae, denoiser, decoder, _sampler_from_dict(meta["sampler"], folder / MODEL_FILE), mode)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise WeightsMissingError(f"{path} is not a readable model description: {err}") from None
    missing = [k for k in ("vae_kind", "denoiser_kind", "sampler") if k not in meta]
    if missing:
        raise WeightsMissingError(f"{path} lacks the key '{missing[0]}'; re-save the model with save_pretrained")
    return meta


def _sampler_from_dict(data: dict[str, Any], source: Path) -> SamplerConfig:
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SamplerConfig), data))  # type: ignore
    except (OmegaConfBaseException, ValueError) as err:
        raise WeightsMissingError(f"{source}: invalid sampler settings ({str(err).splitlines()[0]})") from None


def build_vsr_model(cfg: VSRModelConfig, device: str | torch.device | None = None) -> VSRModel:
    """Build a :class:`VSRModel` from its config (random init, or local ``pretrained`` folders where given).

    ``device="meta"`` builds the architecture without allocating memory (parameter and MAC counts).
    """
    with torch.device(device) if device is not None else contextlib.nullcontext():
        vae = build_vae(cfg.vae)
        decoder = F16Decoder.from_f8(vae, cfg.f16) if cfg.decoder == "f16" else None
        denoiser = build_denoiser(cfg.denoiser, vae.latent_channels)
    return VSRModel(vae, denoiser, decoder, cfg.sampler, cfg.input_upscale_mode)
