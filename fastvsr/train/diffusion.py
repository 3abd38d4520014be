"""Stage 2: the one-step denoiser between a frozen f8 encoder and a frozen (f16 or f8) decoder.

Forward (exactly the inference path, the model contract): degraded LR ``(B, 3, T, H/s, W/s)`` ->
``model.encode_lr(lq, s)`` (upscale by ``model.input_upscale(s)``, x2 for FastVSR x4, pad, frozen ``E8``) ->
``model.restore`` with the trained (possibly DDP-wrapped) denoiser -> ``z_hat``. Losses, DOVE's two phases
behind one switch:

* steps ``< latent_steps``: latent MSE ``|z_hat - E8(x_HR down r)|^2`` with ``r = decoder factor / 8``
  (2 for the f16 decoder, 1 for the f8 baseline);
* after: pixel loss on ``D(z_hat)`` against ``x_HR`` (MSE + LPIPS or DISTS + L1 on frame differences),
  gradients through the frozen decoder.

The model is the ``model`` section (:class:`fastvsr.models.ModelConfig`): ``model.vae.pretrained`` and
``model.decoder.pretrained`` name the stage-0 and stage-1 exports (both required: ``allow_random_vae: true``
builds them at random, for smoke tests only); ``model.denoiser.pretrained`` optionally starts the denoiser from
a saved one. The export is a model folder the inference CLI loads.

``train_decoder: true`` fine-tunes the f16 decoder together with the denoiser (pixel loss only, so
``latent_steps: 0``): the trained module is then :class:`DenoiserAndDecoder`, whose one forward runs both, and
the export holds both trained parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from fastvsr.config import require
from fastvsr.data.datasets import VideoDatasetConfig
from fastvsr.errors import InputError
from fastvsr.losses import ReconstructionLoss, ReconstructionLossConfig, batch_total, mse_per_sample
from fastvsr.models.bundle import RestoreContext, VSRModel
from fastvsr.models.config import ModelConfig
from fastvsr.models.registry import build_model
from fastvsr.ops.resize import bicubic_rescale
from fastvsr.train.accelerator import setup_accelerator
from fastvsr.train.config import LoopConfig, OptimConfig, require_trained_autoencoder
from fastvsr.train.data import ValidationClipConfig, build_train_dataset, load_validation_clip
from fastvsr.train.modules import enable_gradient_checkpointing
from fastvsr.train.session import start_session
from fastvsr.train.vae import MOVED_TO_MODEL


@dataclass
class DiffusionTrainConfig:
    """Stage 2 settings (``configs/train/diffusion_*.yaml``).

    The overall SR factor is ``data.degradation.scale`` (``lq`` is ``gt`` divided by it). ``latent_steps``:
    optimiser steps with the latent MSE before switching to the pixel loss (``max_steps``: latent only; 0:
    pixel only).
    """

    MOVED_KEYS = {
        **MOVED_TO_MODEL,
        "decoder": "the decoder is model.decoder.kind (f16, or vae for the f8 baseline that was decoder: f8)",
        "denoiser": "the model is described in the model section: model.denoiser",
        "sampler": "the model is described in the model section: model.sampler",
        "input_upscale_mode": "the model is described in the model section: model.input_upscale_mode",
    }

    model: ModelConfig = field(default_factory=ModelConfig)
    latent_steps: int = 0
    train_decoder: bool = False  # fine-tune the f16 decoder jointly with the denoiser (pixel loss only)
    allow_random_vae: bool = False  # run on a random VAE / untrained f16 decoder when their pretrained is unset
    data: VideoDatasetConfig = field(default_factory=VideoDatasetConfig)
    val: ValidationClipConfig = field(default_factory=ValidationClipConfig)
    loss: ReconstructionLossConfig = field(default_factory=lambda: ReconstructionLossConfig(l1=0.0, mse=1.0,
                                                                                             frame_diff=1.0))
    train: LoopConfig = field(default_factory=LoopConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)

    def __post_init__(self) -> None:
        require(self.latent_steps >= 0, f"latent_steps must be >= 0, got {self.latent_steps}")
        if self.train_decoder:
            require(self.model.decoder.kind == "f16", "train_decoder fine-tunes an f16 decoder: set "
                    "model.decoder.kind: f16")
            require(self.latent_steps == 0, "train_decoder trains on the pixel loss only: set latent_steps: 0 "
                    "(the decoder takes no part in the latent loss)")
        require_trained_autoencoder(self.model, self.allow_random_vae, "stage 2", decoder=True)


class DenoiserAndDecoder(nn.Module):
    """What stage 2 trains with ``train_decoder``: the denoiser and the f16 decoder of ``model``, run by one
    forward so that DDP / FSDP see every trained parameter used. ``forward(z_lq)``: LR latent
    ``(B, c, t, h, w)`` -> (restored latent ``(B, c, t, h, w)``, its unclamped decoding ``(B, 3, T, H, W)``)."""

    def __init__(self, model: VSRModel) -> None:
        super().__init__()
        self.denoiser = model.denoiser
        self.decoder = model.f16_decoder
        self._model = (model,)  # the frozen parts and the sampler; a tuple, so not a submodule

    def forward(self, z_lq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z_hat = self._model[0].restore(z_lq, context=RestoreContext(denoiser=self.denoiser))
        return z_hat, self.decoder.decode(z_hat, clamp=False)


def build_stage2_model(cfg: DiffusionTrainConfig) -> VSRModel:
    """The model of ``cfg.model`` with its VAE frozen (eval, no gradients), and its decoder too unless
    ``cfg.train_decoder``; the denoiser trains."""
    model = build_model(cfg.model).float()  # fp32 master weights whatever the pretrained folders store
    model.vae.eval().requires_grad_(False)
    if model.f16_decoder is not None and not cfg.train_decoder:
        model.f16_decoder.eval().requires_grad_(False)
    return model


def restore_lq(model: VSRModel, trained: nn.Module, lq: torch.Tensor, scale: int,
               joint: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """LR clip ``(B, 3, T, H, W)`` in ``[0, 1]`` -> (restored latent ``(B, c, t, h, w)``, its unclamped decoding
    ``(B, 3, T, H*s, W*s)`` when ``joint``, else ``None``) through the inference path: ``model.encode_lr`` without
    gradients, then ``model.restore`` running ``trained`` (the trained, possibly DDP-wrapped copy of
    ``model.denoiser``; with ``joint``, of :class:`DenoiserAndDecoder`)."""
    with torch.no_grad():
        z_lq, _ = model.encode_lr(lq, scale)
    if joint:
        return trained(z_lq)
    return model.restore(z_lq, context=RestoreContext(denoiser=trained)), None


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
    model = build_stage2_model(cfg)
    joint = cfg.train_decoder
    trained = DenoiserAndDecoder(model) if joint else model.denoiser
    model.vae.to(accelerator.device)
    if model.f16_decoder is not None:
        model.f16_decoder.to(accelerator.device)
    if cfg.train.gradient_checkpointing:
        enable_gradient_checkpointing(model.denoiser)
    loss_fn = ReconstructionLoss(cfg.loss).to(accelerator.device)
    dataset = dataset if dataset is not None else build_train_dataset(cfg.data, cfg.train)
    val_gt = load_validation_clip(cfg.val).to(accelerator.device)
    val_lq = bicubic_rescale(val_gt, 1 / cfg.data.degradation.scale)
    session = start_session(accelerator, cfg.train, cfg.optim, trained, cfg, resume=resume)

    def validate(ema_trained: nn.Module) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        z_hat, video = restore_lq(model, ema_trained, val_lq, cfg.data.degradation.scale, joint)
        pred = (video.clamp(0, 1) if joint else model.decode(z_hat)).float()
        return pred, val_gt, {"LR (bicubic down)": val_lq[0], "restored": pred[0], "target": val_gt[0]}

    if session.validation_due():
        session.validate(validate)
    for batch in session.batches(dataset):
        lq, gt = batch["lq"], batch["gt"]
        _check_pair(lq, gt, cfg.data.degradation.scale)
        with accelerator.autocast():
            z_hat, video = restore_lq(model, session.model, lq, cfg.data.degradation.scale, joint)
            if session.state.step < cfg.latent_steps:
                loss = mse_per_sample(z_hat, latent_target(model, gt)).mean()
                logs = {"total": loss.item(), "latent_mse": loss.item(), "phase": 0.0}
            else:
                if video is None:
                    video = model.decoder.decode(z_hat, clamp=False)  # unclamped: gradients
                terms = loss_fn.terms(video, gt)
                loss, logs = batch_total(terms)
                logs["phase"] = 1.0
        session.advance(loss, logs, lambda: session.validate(validate))

    def export(ema_trained: nn.Module, folder: Path) -> None:
        trained_model = (model.with_denoiser(ema_trained.denoiser, ema_trained.decoder) if joint
                         else model.with_denoiser(ema_trained))
        trained_model.save_pretrained(folder)

    return session.finish(export)
