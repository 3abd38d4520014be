"""``VSRModel``: the contract every restoration model kind follows, and its one folder format.

A model bundles a VAE (its encoder side), a denoiser, a restoration decoder (an
:class:`~fastvsr.models.f16_decoder.F16Decoder`, or the VAE's own decoder) and the sampler settings they were
trained with. The pipeline, the trainers and the benchmark use only this contract and never ask which kind
a model is (docs/design.md, "Model contract")::

    z, pad = model.encode_lr(lr, scale)               # upscale (input_upscale, input_upscale_mode) -> pad -> encode
    z = model.restore(z, steps, RestoreContext(...))  # the kind's restoration of the latent
    sr = model.unpad_output(model.decode(z), pad)     # decode -> remove the pad

``prepare_input`` and ``encode`` are the two halves of ``encode_lr`` (the pipeline tiles in between).
A kind subclasses :class:`VSRModel`, sets ``kind`` and implements ``restore`` (and, when it needs them,
``check_config`` and ``build_parts``); :mod:`fastvsr.models.registry` finds it by name.

Folder format (``save_pretrained`` / ``from_pretrained``; every part in its own diffusers-style folder, in the
dtype its weights have)::

    model_dir/
      fastvsr_model.json   format, kind, the parts' kinds, sampler settings, input upscale mode
      vae/                 the VAE
      decoder/             the F16Decoder (absent when the VAE's own decoder restores)
      denoiser/            the denoiser (absent for kinds without one)
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from torch import nn

from fastvsr.atomic import atomic_path
from fastvsr.config import config_to_dict
from fastvsr.diffusion.sampler import SamplerConfig
from fastvsr.diffusion.schedule import build_schedule
from fastvsr.errors import ConfigError, InputError, WeightsMissingError
from fastvsr.models.config import DecoderKind, ModelConfig
from fastvsr.models.denoisers import DenoiserConfig, build_denoiser, denoiser_kind, load_denoiser
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.local_files import require_files
from fastvsr.models.registry import model_class
from fastvsr.models.vae import VAEConfig, build_vae, load_vae, vae_kind
from fastvsr.ops.pad import PadInfo, pad_to_multiple, unpad
from fastvsr.ops.resize import check_upscale_mode, upscale_lr

MODEL_FILE = "fastvsr_model.json"
FORMAT_VERSION = 2
FORMAT_1_KINDS = {"fastvsr_f16": "fastvsr", "baseline_f8": "fastvsr", "turbovsr": "turbovsr"}


class PartBuilder:
    """Builds a model's parts from their descriptions (each loaded from its ``pretrained`` folder or built at
    random). :class:`SharedParts` hands out one module per distinct description instead."""

    def vae(self, cfg: VAEConfig) -> nn.Module:
        return build_vae(cfg)

    def denoiser(self, cfg: DenoiserConfig, latent_channels: int, cond_channels: int = 0) -> nn.Module:
        return build_denoiser(cfg, latent_channels, cond_channels)


class SharedParts(PartBuilder):
    """A :class:`PartBuilder` that builds each distinct description once (models compared side by side share
    their VAE and denoiser, as the f8 baseline and FastVSR do)."""

    def __init__(self) -> None:
        self._built: dict[str, nn.Module] = {}

    def _once(self, key: str, build: Callable[[], nn.Module]) -> nn.Module:
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    def vae(self, cfg: VAEConfig) -> nn.Module:
        return self._once(f"vae {cfg!r}", lambda: super(SharedParts, self).vae(cfg))

    def denoiser(self, cfg: DenoiserConfig, latent_channels: int, cond_channels: int = 0) -> nn.Module:
        return self._once(f"denoiser {cfg!r} {latent_channels} {cond_channels}",
                          lambda: super(SharedParts, self).denoiser(cfg, latent_channels, cond_channels))


@dataclass
class RestoreContext:
    """What a restoration may be given besides the LR latent.

    Attributes:
        z_first: ``(B, c, 1, h, w)`` clean HR latent of frame 0, for kinds that ``condition_on_first_frame``
            (e.g. the restored frame of the previous chunk).
        generator: randomness of samplers that draw noise.
        denoiser: the denoiser to run instead of ``model.denoiser`` (training passes its DDP/FSDP-wrapped copy
            so gradients synchronise).
        prompt_embeds: ``(B, L, C)`` text condition replacing the denoiser's cached prompt (a per-clip caption
            embedding), for kinds whose denoiser cross-attends to text.
    """

    z_first: torch.Tensor | None = None
    generator: torch.Generator | None = None
    denoiser: nn.Module | None = None
    prompt_embeds: torch.Tensor | None = None


class VSRModel(nn.Module):
    """The restoration model contract (see the module docstring).

    Args:
        vae: a VAE with ``spatial_factor``, ``temporal_factor``, ``frame_multiple``, ``latent_channels``,
            ``encode``, ``decode`` (:mod:`fastvsr.models.vae`).
        denoiser: ``denoiser(z_t, t, cond=None, step_size=None)`` with ``latent_multiple`` and
            ``temporal_latent_multiple`` (:mod:`fastvsr.models.denoisers`), or None for kinds without one.
        decoder: an :class:`F16Decoder`, or None to restore with the VAE's own decoder.
        sampler: schedule, steps and ``t_star`` used by :meth:`restore`.
        input_upscale_mode: how the LR is upscaled before encoding (``fastvsr.ops.resize.upscale_lr``).
    """

    kind: ClassVar[str]
    condition_on_first_frame: ClassVar[bool] = False  # restore() uses RestoreContext.z_first

    def __init__(self, vae: nn.Module, denoiser: nn.Module | None, decoder: nn.Module | None = None,
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" not in cls.__dict__:  # a kind defined outside the package is named by its import path
            cls.kind = f"{cls.__module__}:{cls.__qualname__}"

    # -- description -----------------------------------------------------------------------------------

    @classmethod
    def check_config(cls, cfg: ModelConfig) -> None:
        """Raise ``ValueError`` when ``cfg`` describes a combination this kind cannot build (default: none)."""

    @classmethod
    def build_parts(cls, cfg: ModelConfig, parts: PartBuilder) -> tuple[nn.Module, nn.Module | None, nn.Module | None]:
        """``(vae, denoiser, decoder)`` of ``cfg`` (built by ``parts``); an f16 decoder without ``pretrained``
        copies the VAE's decoder."""
        vae = parts.vae(cfg.vae)
        return vae, parts.denoiser(cfg.denoiser, vae.latent_channels), build_decoder(cfg, vae)

    @classmethod
    def from_config(cls, cfg: ModelConfig, device: str | torch.device | None = None,
                    parts: PartBuilder | None = None) -> VSRModel:
        """The model ``cfg`` describes. ``device="meta"`` builds the architecture without memory (parameter and
        MAC counts); local ``pretrained`` folders are loaded where given; ``parts`` (default: a fresh
        :class:`PartBuilder`) builds the VAE and denoiser."""
        with torch.device(device) if device is not None else contextlib.nullcontext():
            vae, denoiser, decoder = cls.build_parts(cfg, parts or PartBuilder())
        return cls(vae, denoiser, decoder, cfg.sampler, cfg.input_upscale_mode)

    # -- geometry ---------------------------------------------------------------------------------------

    @property
    def decoder(self) -> nn.Module:
        """The decoder used for restoration: the F16Decoder, or the VAE itself (its own decoder)."""
        return self.f16_decoder if self.f16_decoder is not None else self.vae

    @property
    def decoder_kind(self) -> DecoderKind:
        return DecoderKind.VAE if self.f16_decoder is None else DecoderKind.F16

    @property
    def encoder_factor(self) -> int:
        """Encoder input pixels per latent pixel."""
        return int(self.vae.spatial_factor)

    @property
    def decoder_factor(self) -> int:
        """Output pixels per latent pixel."""
        return int(self.decoder.spatial_factor)

    @property
    def latent_multiple(self) -> int:
        """Spatial multiple the latent grid needs (the denoiser's; 1 without one)."""
        return int(self.denoiser.latent_multiple) if self.denoiser is not None else 1

    @property
    def pixel_multiple(self) -> int:
        """Spatial multiple the encoder input (H, W) needs: encoder factor x the latent multiple."""
        return self.encoder_factor * self.latent_multiple

    @property
    def frame_multiple(self) -> int:
        """Input frame counts are ``k * frame_multiple + 1``."""
        denoiser_frames = int(self.denoiser.temporal_latent_multiple) if self.denoiser is not None else 1
        return math.lcm(int(self.vae.frame_multiple), int(self.vae.temporal_factor) * denoiser_frames)

    def input_upscale(self, scale: float) -> float:
        """How much the LR is upsampled before encoding for an overall ``scale`` (2 for FastVSR x4)."""
        return scale * self.encoder_factor / self.decoder_factor

    # -- the contract -----------------------------------------------------------------------------------

    def prepare_input(self, lr: torch.Tensor, scale: float) -> tuple[torch.Tensor, PadInfo]:
        """The encoder input of an LR clip: ``lr`` ``(B, 3, T, h, w)`` in ``[0, 1]`` upscaled by
        :meth:`input_upscale` with ``input_upscale_mode``, then reflect-padded to :attr:`pixel_multiple` and
        ``k * frame_multiple + 1`` frames. Returns ``(x, pad)``, ``x`` ``(B, 3, T', H', W')`` in ``[0, 1]``."""
        x = upscale_lr(lr, self.input_upscale(scale), self.input_upscale_mode)
        return pad_to_multiple(x, self.pixel_multiple, self.frame_multiple)

    def encode(self, video01: torch.Tensor, sample: bool = False,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 3, T, H, W) in [0, 1], ``T = k * frame_multiple + 1``, ``H, W % pixel_multiple == 0`` ->
        scaled latent (B, c, t, h, w): the posterior mode, or a sample drawn with ``generator``."""
        h, w = video01.shape[-2:]
        if h % self.pixel_multiple or w % self.pixel_multiple:
            raise InputError(f"frame size {h}x{w} must be a multiple of {self.pixel_multiple} (pad the frames first)")
        return self.vae.encode(video01, sample=sample, generator=generator)

    def encode_lr(self, lr: torch.Tensor, scale: float, sample: bool = False,
                  generator: torch.Generator | None = None) -> tuple[torch.Tensor, PadInfo]:
        """``(z, pad)``: the latent of ``lr`` ``(B, 3, T, h, w)`` in ``[0, 1]`` (:meth:`prepare_input`, then
        :meth:`encode`) and the pad :meth:`unpad_output` removes again."""
        x, pad = self.prepare_input(lr, scale)
        return self.encode(x.to(self._dtype()), sample=sample, generator=generator), pad

    def restore(self, z_lq: torch.Tensor, steps: int | None = None,
                context: RestoreContext | None = None) -> torch.Tensor:
        """Restored latent ``(B, c, t, h, w)`` of an LR latent; ``steps`` defaults to the saved sampler setting."""
        raise NotImplementedError(f"{type(self).__name__} does not implement restore")

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, c, t, h, w) latent -> (B, 3, T, h * decoder_factor, w * decoder_factor) in [0, 1]."""
        return self.decoder.decode(z)

    def unpad_output(self, video: torch.Tensor, pad: PadInfo) -> torch.Tensor:
        """Remove from a decoded ``(B, 3, T, H, W)`` video the pad :meth:`prepare_input` added (scaled to the
        output): ``(B, 3, T0, h * scale, w * scale)``."""
        return unpad(video, pad, self.decoder_factor // self.encoder_factor)

    def forward(self, lr: torch.Tensor, scale: float, steps: int | None = None,
                context: RestoreContext | None = None) -> torch.Tensor:
        """The whole restoration of an LR clip ``(B, 3, T, h, w)`` in ``[0, 1]`` in one piece (no tiles) ->
        ``(B, 3, T, h * scale, w * scale)`` in ``[0, 1]``."""
        z, pad = self.encode_lr(lr, scale)
        return self.unpad_output(self.decode(self.restore(z, steps, context)), pad)

    def with_denoiser(self, denoiser: nn.Module, f16_decoder: nn.Module | None = None) -> VSRModel:
        """The same model (same parts, shared) with ``denoiser`` in place of its own, and ``f16_decoder`` in
        place of its f16 decoder when given (training exports its EMA copies this way)."""
        decoder = f16_decoder if f16_decoder is not None else self.f16_decoder
        return type(self)(self.vae, denoiser, decoder, self.sampler, self.input_upscale_mode)

    def _dtype(self) -> torch.dtype:
        return next(self.vae.parameters()).dtype

    # -- folders ----------------------------------------------------------------------------------------

    def save_pretrained(self, folder: str | Path, overwrite: bool = True) -> Path:
        """Write the model folder atomically (see the module docstring); weights keep their dtype."""
        meta = {
            "format": FORMAT_VERSION, "kind": self.kind, "vae_kind": vae_kind(self.vae),
            "decoder_kind": self.decoder_kind.value,
            "denoiser_kind": None if self.denoiser is None else denoiser_kind(self.denoiser),
            "sampler": config_to_dict(self.sampler), "input_upscale_mode": self.input_upscale_mode,
        }
        with atomic_path(folder, overwrite=overwrite) as tmp:
            tmp.mkdir()
            self.vae.save_pretrained(tmp / "vae")
            if self.f16_decoder is not None:
                self.f16_decoder.save_pretrained(tmp / "decoder")
            if self.denoiser is not None:
                self.denoiser.save_pretrained(tmp / "denoiser")
            (tmp / MODEL_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        return Path(folder)

    @classmethod
    def from_pretrained(cls, folder: str | Path, torch_dtype: torch.dtype | None = None) -> VSRModel:
        """Load a folder written by :meth:`save_pretrained` (local only), as the kind it records.

        Raises:
            WeightsMissingError: the folder or one of its files is missing or unreadable (the message names it).
            ConfigError: the folder records a kind that is not known here.
        """
        folder = require_files(folder, MODEL_FILE)
        meta = read_model_meta(folder / MODEL_FILE)
        kind = model_class(meta["kind"])
        if cls is not VSRModel and not issubclass(kind, cls):
            raise WeightsMissingError(f"{folder} holds a {meta['kind']} model, not a {cls.kind} model")
        vae = load_vae(meta["vae_kind"], folder / "vae", torch_dtype=torch_dtype)
        decoder = None
        if meta["decoder_kind"] == DecoderKind.F16.value:
            decoder = F16Decoder.load(folder / "decoder", torch_dtype)
        denoiser = None
        if meta["denoiser_kind"] is not None:
            denoiser = load_denoiser(meta["denoiser_kind"], folder / "denoiser", torch_dtype=torch_dtype)
        sampler = _sampler_from_dict(meta["sampler"], folder / MODEL_FILE)
        return kind(vae, denoiser, decoder, sampler, meta["input_upscale_mode"])


def load_model(folder: str | Path, torch_dtype: torch.dtype | None = None) -> VSRModel:
    """Load any saved model folder as the kind it records (``VSRModel.from_pretrained``)."""
    return VSRModel.from_pretrained(folder, torch_dtype=torch_dtype)


def build_decoder(cfg: ModelConfig, vae: nn.Module) -> F16Decoder | None:
    """The restoration decoder of ``cfg`` for ``vae``: None for ``decoder.kind: vae``; else the F16Decoder loaded
    from ``decoder.pretrained`` (checked against ``vae``: a mismatch is a one-line ConfigError naming the tensor)
    or copied from ``vae``'s decoder, folded when asked."""
    spec = cfg.decoder
    if DecoderKind(spec.kind) is DecoderKind.VAE:
        return None
    if spec.pretrained:
        decoder = F16Decoder.load(spec.pretrained)
        decoder.check_fits(vae, f"decoder.pretrained={spec.pretrained}")
    else:
        decoder = F16Decoder.from_f8(vae, spec.expansion, spec.norm_placement)
    return decoder.fold_copy() if spec.fold_copy else decoder


def read_model_meta(path: Path) -> dict[str, Any]:
    """The ``fastvsr_model.json`` of a model folder, in the current format (format-1 files are converted).

    Raises:
        WeightsMissingError: unreadable, or a required key is missing.
    """
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise WeightsMissingError(f"{path} is not a readable model description: {err}") from None
    if not isinstance(meta, dict):
        raise WeightsMissingError(f"{path} is not a readable model description")
    if meta.get("format", 1) == 1:
        meta = {**meta, "kind": FORMAT_1_KINDS.get(meta.get("kind", "fastvsr_f16"), meta.get("kind")),
                "decoder_kind": DecoderKind.F16.value if meta.get("decoder_class") else DecoderKind.VAE.value,
                "input_upscale_mode": meta.get("input_upscale_mode", "bilinear")}
    missing = [k for k in ("kind", "vae_kind", "decoder_kind", "denoiser_kind", "sampler", "input_upscale_mode")
               if k not in meta]
    if missing:
        raise WeightsMissingError(f"{path} lacks the key '{missing[0]}'; re-save the model with save_pretrained")
    try:
        check_upscale_mode(meta["input_upscale_mode"])
    except ValueError as err:
        raise WeightsMissingError(f"{path}: {err}") from None
    return meta


def _sampler_from_dict(data: dict[str, Any], source: Path) -> SamplerConfig:
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SamplerConfig), data))  # type: ignore
    except (OmegaConfBaseException, ValueError) as err:
        raise WeightsMissingError(f"{source}: invalid sampler settings ({str(err).splitlines()[0]})") from None
