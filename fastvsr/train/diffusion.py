"""Stage 2: the one-step denoiser between a frozen f8 encoder and a frozen (f16 or f8) decoder.

Forward (exactly the inference path): degraded LR ``(B, 3, T, H/s, W/s)`` -> bilinear upscale by
``model.input_upscale(s)`` (x2 for FastVSR x4) -> frozen ``E8`` -> :func:`fastvsr.diffusion.restore_latent`
(the shared restoration forward) -> ``z_hat``. Losses, DOVE's two phases behind one switch:

* steps ``< latent_steps``: latent MSE ``|z_hat - E8(x_HR down r)|^2`` with ``r = decoder factor / 8``
  (2 for the f16 decoder, 1 for the f8 baseline);
* after: pixel loss on ``D(z_hat)`` against ``x_HR`` (MSE + LPIPS or DISTS + L1 on frame differences),
  gradients through the frozen decoder.

The export is a :class:`fastvsr.models.vsr.VSRModel` folder the inference CLI loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from fastvsr.config import require
from fastvsr.diffusion.sampler import SamplerConfig, restore_latent
from fastvsr.errors import InputError
from fastvsr.losses import ReconstructionLoss, ReconstructionLossConfig, bicubic_rescale, mse_per_sample
from fastvsr.models.denoisers import DenoiserConfig, build_denoiser
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.vae import VAEConfig, build_vae, load_vae
from fastvsr.models.vsr import VSRModel
from fastvsr.ops.resize import check_upscale_mode
from fastvsr.train.common import enable_gradient_checkpointing, setup_accelerator, start_session
from fastvsr.train.config import LoopConfig, OptimConfig
from fastvsr.data.datasets import VideoDatasetConfig
from fastvsr.train.data import ValidationClipConfig, build_train_dataset, load_validation_clip


class DecoderKind(str, Enum):
    F16 = "f16"  # FastVSR: F16Decoder (from decoder_weights, or built from the f8 decoder for smoke runs)
    F8 = "f8"  # the DOVE-style baseline: the VAE's own decoder


@dataclass
class DiffusionTrainConfig:
    """Stage 2 settings (``configs/train/diffusion_*.yaml``).

    ``vae_weights`` / ``decoder_weights``: local folders exported by stages 0 and 1 (when absent the models are
    built at random from ``vae``, only sensible for smoke tests). The overall SR factor is ``data.degradation.scale``
    (``lq`` is ``gt`` divided by it). ``latent_steps``: optimiser steps with the latent MSE before switching
    to the pixel loss (``max_steps``: latent only; 0: pixel only).
    """

    vae: VAEConfig = field(default_factory=VAEConfig)
    vae_weights: str | None = None
    decoder: DecoderKind = DecoderKind.F16
    decoder_weights: str | None = None
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    input_upscale_mode: str = "bilinear"  # see fastvsr.models.vsr.VSRModelConfig
    latent_steps: int = 0
    data: VideoDatasetConfig = field(default_factory=VideoDatasetConfig)
    val: ValidationClipConfig = field(default_factory=ValidationClipConfig)
    loss: ReconstructionLossConfig = field(default_factory=lambda: ReconstructionLossConfig(l1=0.0, mse=1.0,
                                                                                             frame_diff=1.0))
    train: LoopConfig = field(default_factory=LoopConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)

    def __post_init__(self) -> None:
        require(self.latent_steps >= 0, f"latent_steps must be >= 0, got {self.latent_steps}")
        check_upscale_mode(self.input_upscale_mode)
        require(self.decoder is DecoderKind.F16 or self.decoder_weights is None,
                "decoder_weights is for decoder=f16 (the f8 baseline uses the VAE's own decoder)")


def build_frozen_parts(cfg: DiffusionTrainConfig) -> tuple[nn.Module, nn.Module | None]:
    """The frozen VAE and (for ``decoder: f16``) the F16Decoder, in eval mode without gradients."""
    vae = load_vae(cfg.vae.kind, cfg.vae_weights) if cfg.vae_weights else build_vae(cfg.vae)
    decoder = None
    if DecoderKind(cfg.decoder) is DecoderKind.F16:
        decoder = (F16Decoder.from_pretrained(cfg.decoder_weights, local_files_only=True) if cfg.decoder_weights
                   else F16Decoder.from_f8(vae))
        decoder.eval().requires_grad_(False)
    return vae.eval().requires_grad_(False), decoder


def restore(model: VSRModel, denoiser: nn.Module, lq: torch.Tensor, scale: int) -> torch.Tensor:
    """LR clip -> restored latent through the inference path (upscale, frozen encoder, ``restore_latent``).

    Args:
        model: the bundle (its ``vae``, ``schedule`` and ``sampler`` are used; its denoiser is not).
        denoiser: the trained denoiser (possibly DDP-wrapped, so gradients sync across ranks).
        lq: ``(B, 3, T, H, W)`` in ``[0, 1]``.
        scale: overall SR factor.
    Returns:
        ``(B, c, t, h, w)`` restored latent.
    """
    with torch.no_grad():
        z_lq = model.encode(model.upscale_input(lq, scale))
    return restore_latent(denoiser, z_lq, schedule=model.schedule, steps=model.sampler.steps,
                          t_star=model.sampler.t_star)


def latent_target(model: VSRModel, gt: torch.Tensor) -> torch.Tensor:
    """``E8(x_HR down r)``: the latent whose decoding is the HR clip, ``r = decoder factor / encoder factor``."""
    ratio = model.vae.spatial_factor / model.decoder.spatial_factor
    with torch.no_grad():
        return model.vae.encode(bicubic_rescale(gt, ratio))


def _check_pair(lq: torch.Tensor, gt: torch.Tensor, scale: int) -> None:
    if tuple(lq.shape[-2:]) != (gt.shape[-2] // scale, gt.shape[-1] // scale) or gt.shape[-1] % scale:
        raise InputError(f"lq {tuple(lq.shape[-2:])} is not gt {tuple(gt.shape[-2:])} / scale {scale}; "
                         f"check data.degradation.scale")


def train_diffusion(cfg: DiffusionTrainConfig, resume: bool = False,
                    dataset: Dataset | None = None) -> dict[str, Any]:
    """Run stage 2 to ``cfg.train.max_steps`` (from the newest checkpoint when ``resume``); returns the summary
    (see :func:`fastvsr.train.vae.train_vae`)."""
    accelerator = setup_accelerator(cfg.train)
    vae, decoder = build_frozen_parts(cfg)
    denoiser = build_denoiser(cfg.denoiser, vae.latent_channels)
    model = VSRModel(vae, denoiser, decoder, cfg.sampler, cfg.input_upscale_mode)
    vae.to(accelerator.device)
    if decoder is not None:
        decoder.to(accelerator.device)
    if cfg.train.gradient_checkpointing:
        enable_gradient_checkpointing(denoiser)
    loss_fn = ReconstructionLoss(cfg.loss).to(accelerator.device)
    dataset = dataset if dataset is not None else build_train_dataset(cfg.data)
    val_gt = load_validation_clip(cfg.val).to(accelerator.device)
    val_lq = bicubic_rescale(val_gt, 1 / cfg.data.degradation.scale)
    session = start_session(accelerator, cfg.train, cfg.optim, denoiser, cfg, resume=resume)

    def validate(ema_denoiser: nn.Module) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        pred = model.decode(restore(model, ema_denoiser, val_lq, cfg.data.degradation.scale)).float()
        return pred, val_gt, {"LR (bicubic down)": val_lq[0], "restored": pred[0], "target": val_gt[0]}

    if session.validation_due():
        session.validate(validate)
    for batch in session.batches(dataset):
        lq, gt = batch["lq"], batch["gt"]
        _check_pair(lq, gt, cfg.data.degradation.scale)
        with accelerator.autocast():
            z_hat = restore(model, session.model, lq, cfg.data.degradation.scale)
            if session.state.step < cfg.latent_steps:
                loss = mse_per_sample(z_hat, latent_target(model, gt)).mean()
                logs = {"total": loss.item(), "latent_mse": loss.item(), "phase": 0.0}
            else:
                terms = loss_fn.terms(model.decoder.decode(z_hat, clamp=False), gt)  # unclamped: gradients
                loss = torch.stack(list(terms.values())).sum(dim=0).mean()
                logs = {"total": loss.item(), "phase": 1.0, **{f"rec/{k}": v.mean().item() for k, v in terms.items()}}
        session.step(loss, logs)
        if session.validation_due():
            session.validate(validate)
        session.checkpoint_if_due()

    def export(ema_denoiser: nn.Module, folder: Path) -> None:
        VSRModel(vae, ema_denoiser, decoder, cfg.sampler, cfg.input_upscale_mode).save_pretrained(folder)

    return session.finish(export)
