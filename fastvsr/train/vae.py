"""Stages 0 and 1: the f8 VAE's reconstruction, and FastVSR's f16 decoder on a frozen f8 encoder.

* Stage 0 (``stage: f8``): ``L = L_rec(D8(z), x) + kl * KL(q(z|x) || N(0, I))`` with ``z`` sampled from the
  posterior (per-step generator), ``L_rec`` = L1 (+ LPIPS); the whole VAE is trained.
* Stage 1 (``stage: f16``): the f8 encoder and decoder are frozen; the input is by default the HR clip
  downsampled x2 (bicubic, antialiased), ``z = E8(x_HR down 2)``, the target is ``x_HR`` and the trained module is
  ``D16 = F16Decoder.from_f8(D8)``. The loss is the lower-bound-guided objective
  (:mod:`fastvsr.losses.lower_bound`) with the floor ``y_lb = Up_x2(D8(z))``. ``f16_input`` picks the
  encoder input: ``hr_down2`` (the paper's: HR bicubic down x2), ``lr_nearest_up2`` (what the f16 pipeline
  encodes at inference with ``input_upscale_mode: nearest``: HR bicubic down x4, then pixels replicated x2) or
  ``lq_nearest_up2`` (the dataset's degraded LR, ``data.degradation(s)``, pixels replicated x2: the decoder
  learns to restore the LR users bring; validation, which has no degraded LR, uses ``lr_nearest_up2``).
  ``f16_latent: restored`` feeds the decoder instead the latents the frozen one-step denoiser (``model.denoiser``,
  e.g. DOVE's DiT) restores from the degraded LR through the inference path, which is what the decoder decodes at
  inference (its floor is then DOVE's own output upsampled); ``mixed`` alternates clean and restored steps.

The model is the ``model`` section (:class:`fastvsr.models.ModelConfig`, the same description inference uses):
stage 0 trains ``model.vae`` (starting from ``model.vae.pretrained`` when set); stage 1 freezes that VAE and
trains the decoder ``model.decoder`` describes (any f16 variant: ``expansion``, ``norm_placement``; from
``model.decoder.pretrained`` when set, else copied from the f8 decoder). Each stage exports with
``save_pretrained``: stage 0 the VAE folder, stage 1 the decoder folder (what a model folder stores under
``decoder/``; stage 2 loads both as ``model.vae.pretrained`` and ``model.decoder.pretrained``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from fastvsr.config import require
from fastvsr.data.datasets import VideoDatasetConfig
from fastvsr.losses import (
    LowerBoundConfig,
    ReconstructionLoss,
    ReconstructionLossConfig,
    batch_total,
    floor_needed,
    gaussian_kl_per_sample,
    interpolation_floor,
    lower_bound_lambda,
    lower_bound_objective,
)
from fastvsr.models.bundle import build_decoder
from fastvsr.models.config import DecoderKind, ModelConfig
from fastvsr.models.denoisers import build_denoiser
from fastvsr.models.registry import model_class
from fastvsr.models.vae import build_vae
from fastvsr.models.vae.common import scale_latent
from fastvsr.ops.resize import bicubic_rescale, upscale_lr
from fastvsr.train.accelerator import setup_accelerator
from fastvsr.train.config import LoopConfig, OptimConfig, require_trained_autoencoder
from fastvsr.train.data import ValidationClipConfig, build_train_dataset, load_validation_clip
from fastvsr.train.modules import MethodForward, enable_gradient_checkpointing
from fastvsr.train.session import start_session

F16_INPUTS = ("hr_down2", "lr_nearest_up2", "lq_nearest_up2")
F16_LATENTS = ("clean", "restored", "mixed")


class VAEStage(str, Enum):
    F8 = "f8"  # stage 0: f8 VAE reconstruction
    F16 = "f16"  # stage 1: f16 decoder on the frozen f8 encoder


MOVED_TO_MODEL = {
    "vae": "the model is described in the model section: model.vae (often model: {_base_: a configs/models file})",
    "vae_weights": "a local VAE folder (e.g. stage 0's export) is model.vae.pretrained",
    "decoder_weights": "a trained decoder folder (e.g. stage 1's export) is model.decoder.pretrained",
}


@dataclass
class VAETrainConfig:
    """Stage 0 / 1 settings (``configs/train/vae_*.yaml``).

    ``model.vae.pretrained``: a local VAE folder (stage 0's export). Stage 1 needs it unless ``model.vae``
    describes a model to build at random (only sensible for smoke runs); stage 0 starts from it when given.
    """

    MOVED_KEYS = MOVED_TO_MODEL

    stage: VAEStage = VAEStage.F8
    model: ModelConfig = field(default_factory=ModelConfig)
    data: VideoDatasetConfig = field(default_factory=VideoDatasetConfig)
    val: ValidationClipConfig = field(default_factory=ValidationClipConfig)
    loss: ReconstructionLossConfig = field(default_factory=ReconstructionLossConfig)
    kl: float = 1e-6  # stage 0 only
    # stage 0 only: decode a posterior sample (the VAE recipe) or its mean (a deterministic autoencoder; with a
    # tiny ``kl`` a sample's unit-variance noise swamps the latent until the encoder learns logvar << 0, which
    # costs a small CPU-trained model thousands of steps)
    sample_posterior: bool = True
    lower_bound: LowerBoundConfig = field(default_factory=LowerBoundConfig)  # stage 1 only
    # stage 1 only: the encoder input (see the module docstring). With the VAE shortcut the latent *is* these
    # pixels, so the decoder learns to undo exactly this downscale: train it on the one inference uses
    f16_input: str = "hr_down2"
    f16_latent: str = "clean"  # stage 1 only (see the module docstring)
    allow_random_vae: bool = False  # stage 1 only: run on a random VAE when model.vae.pretrained is unset (smoke)
    train: LoopConfig = field(default_factory=LoopConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)

    def __post_init__(self) -> None:
        if VAEStage(self.stage) is not VAEStage.F8:
            require_trained_autoencoder(self.model, self.allow_random_vae, "stage 1")
        require(self.kl >= 0, f"kl must be >= 0, got {self.kl}")
        require(self.f16_input in F16_INPUTS, f"f16_input must be one of {F16_INPUTS}, got '{self.f16_input}'")
        require(self.f16_input != "lq_nearest_up2" or self.data.degradation.scale == 4,
                "f16_input=lq_nearest_up2 needs x4 pairs (data.degradation.scale: 4)")
        require(self.f16_latent in F16_LATENTS, f"f16_latent must be one of {F16_LATENTS}, got '{self.f16_latent}'")
        require(VAEStage(self.stage) is VAEStage.F8 or DecoderKind(self.model.decoder.kind) is DecoderKind.F16,
                "stage=f16 trains an f16 decoder: model.decoder.kind must be f16")


class VAEReconstruction(nn.Module):
    """Stage 0's trained forward: encode, sample the posterior (or take its mean), decode (one ``forward`` for DDP).

    ``forward(video01, generator)``: ``(B, 3, T, H, W)`` in ``[0, 1]`` -> ``(reconstruction (in ``[0, 1]`` in
    eval mode; unclamped while training),
    posterior mean, posterior logvar)``, the latter two ``(B, c, t, h, w)`` unscaled.
    """

    def __init__(self, vae: nn.Module, sample_posterior: bool = True) -> None:
        super().__init__()
        self.vae = vae
        self.sample_posterior = sample_posterior

    def forward(self, video01: torch.Tensor, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        posterior = self.vae.posterior(video01)
        sample = self.training and self.sample_posterior
        z_raw = posterior.sample(generator) if sample else posterior.mode()
        z = scale_latent(z_raw, self.vae.config.scaling_factor, self.vae.config.shift_factor)
        # unclamped while training so pixels past [0, 1] still get gradients
        return self.vae.decode(z, clamp=not self.training), posterior.mean, posterior.logvar


def _f8_loss(model: nn.Module, loss_fn: ReconstructionLoss, kl_weight: float, gt: torch.Tensor,
             generator: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
    recon, mean, logvar = model(gt, generator)
    terms = loss_fn.terms(recon, gt)
    terms["kl"] = kl_weight * gaussian_kl_per_sample(mean, logvar)
    return batch_total(terms)


def f16_encoder_input(gt: torch.Tensor, f16_input: str, lq: torch.Tensor | None = None) -> torch.Tensor:
    """Stage 1's encoder input for HR ``(B, 3, T, H, W)`` in ``[0, 1]`` (``H, W`` multiples of 4) and, for
    ``lq_nearest_up2``, its x4 LR ``lq`` ``(B, 3, T, H/4, W/4)``: ``(B, 3, T, H/2, W/2)`` in ``[0, 1]``, made as
    ``f16_input`` says (see the module docstring; without ``lq``, ``lq_nearest_up2`` is ``lr_nearest_up2``)."""
    if f16_input == "lq_nearest_up2" and lq is not None:
        return upscale_lr(lq, 2, "nearest")
    if f16_input in ("lr_nearest_up2", "lq_nearest_up2"):
        return upscale_lr(bicubic_rescale(gt, 0.25), 2, "nearest")
    return bicubic_rescale(gt, 0.5)


Restorer = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # lq -> (encoder input, restored latent)


def one_step_restorer(cfg: VAETrainConfig, vae: nn.Module, decoder: nn.Module) -> Restorer:
    """``f16_latent: restored``'s latents: the frozen denoiser of ``cfg.model`` restoring the degraded LR
    ``(B, 3, T, h, w)`` through the inference path (the model's ``encode_lr`` with this f16 decoder's geometry, then
    ``restore``); returns the (padded) encoder input and the restored latent."""
    denoiser = build_denoiser(cfg.model.denoiser, vae.latent_channels).float().eval().requires_grad_(False)
    model = model_class(cfg.model.kind)(vae, denoiser, decoder, cfg.model.sampler, cfg.model.input_upscale_mode)

    def restore(lq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            x_in, _ = model.prepare_input(lq, cfg.data.degradation.scale)
            return x_in, model.restore(model.encode(x_in))

    model.denoiser.to(next(vae.parameters()).device)
    return restore


def _f16_views(vae: nn.Module, decoder: nn.Module, gt: torch.Tensor, clamp: bool,
               f16_input: str, with_floor: bool = True, lq: torch.Tensor | None = None,
               restorer: Restorer | None = None) -> dict[str, torch.Tensor | None]:
    """Stage 1's tensors for an HR clip: encoder input (:func:`f16_encoder_input`, or with ``restorer`` the LR's
    through the inference path), floor ``Up_x2(D8(z))`` (``None`` unless ``with_floor``: an f8 decode, a fifth of
    a training step), ``D16(z)`` (``decoder`` is ``D16.decode``; unclamped while training so pixels past [0, 1]
    still get gradients) of the clean latent, or of the restored one with ``restorer`` and ``lq``."""
    with torch.no_grad():
        if restorer is not None and lq is not None:
            x_in, z = restorer(lq)
        else:
            x_in = f16_encoder_input(gt, f16_input, lq)
            z = vae.encode(x_in)
        floor = interpolation_floor(vae.decode(z)) if with_floor else None
    return {"input": x_in, "floor": floor, "pred": decoder(z, clamp=clamp)}


def _restorer_at(step: int, f16_latent: str, restorer: Restorer | None) -> Restorer | None:
    """The restorer a stage-1 step uses: always (``restored``), on odd steps (``mixed``) or never (``clean``)."""
    if f16_latent == "restored" or (f16_latent == "mixed" and step % 2 == 1):
        return restorer
    return None


def train_vae(cfg: VAETrainConfig, resume: bool = False,
              dataset: Dataset | None = None) -> dict[str, Any]:
    """Run stage 0 or 1 to ``cfg.train.max_steps`` (from the newest checkpoint when ``resume``).

    Returns:
        The run summary (``<output_dir>/summary.json``): final step, processes, per-rank weight digests,
        the checkpoint and export folders, the last validation scores.
    """
    stage = VAEStage(cfg.stage)
    accelerator = setup_accelerator(cfg.train)
    vae = build_vae(cfg.model.vae).float()  # fp32 master weights whatever a pretrained folder stores
    restorer = None
    if stage is VAEStage.F8:
        trained: nn.Module = VAEReconstruction(vae, cfg.sample_posterior)
        checkpointed = vae
    else:
        vae = vae.eval().requires_grad_(False).to(accelerator.device)
        d16 = build_decoder(cfg.model, vae).float()
        trained, checkpointed = MethodForward(d16, "decode"), d16
        restorer = None if cfg.f16_latent == "clean" else one_step_restorer(cfg, vae, d16)
    if cfg.train.gradient_checkpointing:
        enable_gradient_checkpointing(checkpointed)
    loss_fn = ReconstructionLoss(cfg.loss).to(accelerator.device)
    dataset = dataset if dataset is not None else build_train_dataset(cfg.data, cfg.train)
    val_gt = load_validation_clip(cfg.val).to(accelerator.device)
    session = start_session(accelerator, cfg.train, cfg.optim, trained, cfg, resume=resume)

    def validate_f8(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        recon = model(val_gt)[0].float()
        return recon, val_gt, {"target": val_gt[0], "reconstruction": recon[0]}

    def validate_f16(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        val_lq = bicubic_rescale(val_gt, 1 / cfg.data.degradation.scale)
        views = _f16_views(vae, model, val_gt, clamp=True, f16_input=cfg.f16_input, lq=val_lq,
                           restorer=_restorer_at(1, cfg.f16_latent, restorer))
        pred = views["pred"].float()
        return pred, val_gt, {"encoder input": views["input"][0], "floor Up2(D8)": views["floor"][0],
                              "D16": pred[0], "target": val_gt[0]}

    validate = functools.partial(
        session.validate, validate_f8 if stage is VAEStage.F8 else validate_f16,
        curve_keys=("train/total", ("train/rec", "train/floor_err"), "train/lower_bound"),
        also_score=None if stage is VAEStage.F8 else {"floor": "floor Up2(D8)"})
    if session.validation_due():
        validate()
    for batch in session.batches(dataset):
        gt = batch["gt"]
        with accelerator.autocast():
            if stage is VAEStage.F8:
                loss, logs = _f8_loss(session.model, loss_fn, cfg.kl, gt, session.generator())
            else:
                lam = lower_bound_lambda(cfg.lower_bound, session.state.step, cfg.train.max_steps)
                with_floor = (floor_needed(cfg.lower_bound.mode, lam)
                              or session.logged_step(session.state.step + 1))
                views = _f16_views(vae, session.model, gt, clamp=False, f16_input=cfg.f16_input,
                                   with_floor=with_floor, lq=batch["lq"],
                                   restorer=_restorer_at(session.state.step, cfg.f16_latent, restorer))
                loss, logs = lower_bound_objective(loss_fn, views["pred"], gt, views["floor"],
                                                   cfg.lower_bound.mode, lam)
        session.advance(loss, logs, validate)

    def export(model: nn.Module, folder: Path) -> None:
        inner = model.vae if stage is VAEStage.F8 else model.module
        inner.save_pretrained(folder)

    return session.finish(export)
