"""TurboVSR training: one denoiser, two alternating tasks, flow matching, then shortcut conversion.

Every step encodes the HR clip ``z_hr = E(gt)`` and the LR clip upscaled to the HR size ``z_lr = E(up(lq))``
with the frozen 32x32x8 AE, then trains one of the two factorised tasks
(:mod:`fastvsr.diffusion.factorized`, the same conditioning the sampler uses):

* (a) every ``first_frame_every``-th step: latent frame 0 alone, as a one-frame video (image SR);
* (b) the other steps: the whole clip given the clean HR first-frame latent (pinned in the state, loss-masked).

``stage: flow`` trains the denoiser by flow matching: ``x = tau z_hr + (1 - tau) noise`` with ``tau = warp(u)``,
``u ~ U[0, 1)`` (the schedule's time warp, identity unless ``sampler.schedule.shift > 1``), target velocity
``z_hr - noise``.

``stage: shortcut`` starts from the flow stage's export (``init_from``), adds a zero-initialised step-size
embedding (:func:`~fastvsr.models.turbo.add_step_size_embedding`) and trains it as a shortcut model (Frans et
al. 2024): ``1 - bootstrap_fraction`` of each batch is flow matching at the finest step ``d = 1/finest_steps``
(``u`` on that grid), the rest regresses, for ``d = 2^-k`` and ``u`` on the ``d`` grid, onto the
self-consistency target of the **EMA** model: two half steps of size ``d/2`` make one step of size ``d``. The
levels ``k`` are spread evenly over the bootstrap samples (as the reference implementation does), continuing
from step to step and rank to rank, so every level is trained equally often however small the per-process
batch. The export records the step counts it trained (``sampler.trained_steps``: 1, 2, 4, ..., finest).

The model is the ``model`` section (:class:`fastvsr.models.ModelConfig` of kind ``turbovsr``, the description
inference uses); ``model.vae.pretrained`` names a trained AE folder. The export is a ``turbovsr`` model folder
(AE + EMA denoiser + sampler).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from fastvsr.config import require
from fastvsr.data.datasets import VideoDatasetConfig
from fastvsr.diffusion.factorized import FirstFrameConditioned, first_frame_condition
from fastvsr.diffusion.sampler import Denoiser, flow_target, shortcut_bootstrap_target, shortcut_step_counts
from fastvsr.diffusion.schedule import FlowSchedule
from fastvsr.models.bundle import RestoreContext, VSRModel
from fastvsr.models.config import ModelConfig
from fastvsr.models.denoisers import add_step_size_embedding, uses_step_size
from fastvsr.models.registry import build_model
from fastvsr.ops.resize import bicubic_rescale
from fastvsr.train.accelerator import setup_accelerator
from fastvsr.train.config import LoopConfig, OptimConfig, require_trained_autoencoder
from fastvsr.train.data import ValidationClipConfig, build_train_dataset, load_validation_clip
from fastvsr.train.modules import ema_weights, enable_gradient_checkpointing
from fastvsr.train.session import start_session


class TurboStage(str, Enum):
    FLOW = "flow"  # flow matching of the factorised tasks
    SHORTCUT = "shortcut"  # shortcut conversion of the flow model: finest-step flow + self-consistency


@dataclass
class ShortcutTrainConfig:
    """Shortcut stage settings: the batch fraction trained on self-consistency targets (Frans et al.: 1/8 in
    the code, about 1/4 in the paper), the finest step grid ``1/finest_steps`` (a power of 2) and the clip of
    the bootstrap targets (0 disables it)."""

    bootstrap_fraction: float = 0.25
    finest_steps: int = 128
    clip: float = 4.0

    def __post_init__(self) -> None:
        require(0 < self.bootstrap_fraction < 1, "shortcut.bootstrap_fraction must be in (0, 1)")
        require(self.finest_steps >= 2 and self.finest_steps & (self.finest_steps - 1) == 0,
                f"shortcut.finest_steps must be a power of 2 >= 2, got {self.finest_steps}")
        require(self.clip >= 0, "shortcut.clip must be >= 0 (0: no clipping)")


@dataclass
class TurboTrainConfig:
    """TurboVSR training settings (``configs/turbovsr/*.yaml``).

    ``model``: a ``turbovsr`` model; ``model.vae.pretrained`` is a local AE folder (required unless
    ``init_from`` is set; ``allow_random_vae: true`` builds the AE at random, for smoke tests only). ``init_from``: a TurboVSR export to start from; the shortcut stage needs the
    flow stage's. ``data.degradation.scale`` is the SR factor (``lq`` is ``gt`` divided by it).
    """

    MOVED_KEYS = {"ae_weights": "a local AE folder is model.vae.pretrained",
                  "model.ae": "the autoencoder is model.vae (kind patchified or ltx)"}

    model: ModelConfig = field(default_factory=ModelConfig)  # the YAML describes a turbovsr model
    init_from: str | None = None
    allow_random_vae: bool = False
    stage: TurboStage = TurboStage.FLOW
    first_frame_every: int = 2
    shortcut: ShortcutTrainConfig = field(default_factory=ShortcutTrainConfig)
    data: VideoDatasetConfig = field(default_factory=VideoDatasetConfig)
    val: ValidationClipConfig = field(default_factory=ValidationClipConfig)
    train: LoopConfig = field(default_factory=LoopConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)

    def __post_init__(self) -> None:
        require(self.model.kind == "turbovsr", f"TurboVSR training needs model.kind=turbovsr, got '{self.model.kind}'")
        if self.init_from is None:
            require_trained_autoencoder(self.model, self.allow_random_vae, "TurboVSR training")
        require(self.data.prompt_embeds_dir is None or self.model.denoiser.kind == "ltx_dit",
                "data.prompt_embeds_dir conditions on per-clip text: it needs model.denoiser.kind=ltx_dit")
        require(self.first_frame_every >= 0, "first_frame_every must be >= 0 (0: never train task a alone)")
        require(TurboStage(self.stage) is TurboStage.FLOW or self.init_from is not None,
                "stage=shortcut converts a trained flow model: set init_from to the flow stage's export folder")
        require(TurboStage(self.stage) is TurboStage.FLOW or self.train.batch_size >= 2,
                "stage=shortcut needs train.batch_size >= 2 (each batch mixes flow and self-consistency samples)")
        tf = self.model.vae.temporal_factor
        for name, frames in (("data.num_frames", self.data.num_frames), ("val.num_frames", self.val.num_frames)):
            require((frames - 1) % tf == 0, f"{name} must be k*{tf}+1 for the AE, got {frames}")


# --------------------------------------------------------------------------------------------- targets


def flow_times(batch: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Uniform flow times ``u ~ U[0, 1)`` (B,) for flow matching (the state is at ``warp(u)``)."""
    return torch.rand(batch, generator=generator, device=generator.device).to(device)


def bootstrap_levels(num_bootstrap: int, levels: int, offset: int) -> torch.Tensor:
    """Levels ``k`` (``d = 2^-k``) of ``num_bootstrap`` self-consistency samples, spread evenly: sample ``i``
    gets ``(offset + i) mod levels``, ``offset`` counting the bootstrap samples drawn before (all steps and
    ranks), so each level gets the same share."""
    return (offset + torch.arange(num_bootstrap)) % levels


def shortcut_times(batch: int, num_bootstrap: int, finest_steps: int, generator: torch.Generator,
                   device: torch.device, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(u, d)`` (B,) each for a shortcut batch whose first ``num_bootstrap`` samples are self-consistency.

    Flow part: ``d = 1/finest_steps`` and ``u`` on that grid. Bootstrap part: ``d = 2^-k`` with the levels
    ``k`` in ``0 .. log2(finest_steps) - 1`` spread evenly (:func:`bootstrap_levels`; ``d/2`` is at least the
    finest step) and ``u`` uniform on the grid of multiples of ``d`` in ``[0, 1)``.
    """
    gdev = generator.device
    levels = int(math.log2(finest_steps))
    k = bootstrap_levels(num_bootstrap, levels, offset).to(gdev)
    d_boot = 2.0 ** (-k.double())
    tau_boot = torch.floor(torch.rand(num_bootstrap, generator=generator, device=gdev, dtype=torch.float64)
                           * 2.0 ** k.double()) * d_boot
    n_flow = batch - num_bootstrap
    d_flow = torch.full((n_flow,), 1.0 / finest_steps, dtype=torch.float64, device=gdev)
    tau_flow = torch.randint(0, finest_steps, (n_flow,), generator=generator, device=gdev).double() / finest_steps
    u, d = torch.cat([tau_boot, tau_flow]), torch.cat([d_boot, d_flow])
    return u.float().to(device), d.float().to(device)


def num_bootstrap(batch: int, fraction: float) -> int:
    """Samples of a batch (>= 2) trained on self-consistency: ``round(batch * fraction)``, at least 1 and at most
    ``batch - 1`` (so both parts are always trained)."""
    return min(max(round(batch * fraction), 1), batch - 1)


def bootstrap_targets(ema_denoiser: Denoiser, x: torch.Tensor, u: torch.Tensor, d: torch.Tensor,
                      cond: torch.Tensor, z_first: torch.Tensor | None, schedule: FlowSchedule,
                      clip: float, prompt_embeds: torch.Tensor | None = None) -> torch.Tensor:
    """Self-consistency targets for the factorised task: two half steps of the (EMA) denoiser under the same
    first-frame (and text) conditioning the student sees. Shapes (B, c, t, h, w); ``u`` (uniform times), ``d``
    (B,); ``prompt_embeds`` (B, L, C) per-clip text condition or None."""
    net = FirstFrameConditioned(ema_denoiser, z_first, use_step_size=True, prompt_embeds=prompt_embeds)
    return shortcut_bootstrap_target(net, x, u, d, schedule=schedule, cond=cond, clip=clip or None)


def masked_mse(pred: torch.Tensor, target: torch.Tensor, first_given: bool) -> torch.Tensor:
    """Per-sample MSE (B,), over latent frames ``1:`` when the clean first frame was given (its loss masked)."""
    err = (pred.float() - target.float()) ** 2
    if first_given:
        err = err[:, :, 1:]
    return err.flatten(1).mean(dim=1)


# ------------------------------------------------------------------------------------------------ loop


def build_turbo_model(cfg: TurboTrainConfig) -> VSRModel:
    """The model to train: ``init_from`` (a saved ``turbovsr`` folder) or ``cfg.model``; the AE frozen (eval, no
    gradients) and, for the shortcut stage, the denoiser given its step-size embedding."""
    model = (VSRModel.from_pretrained(cfg.init_from) if cfg.init_from else build_model(cfg.model)).float()
    if TurboStage(cfg.stage) is TurboStage.SHORTCUT:
        if not uses_step_size(model.denoiser):
            model.denoiser = add_step_size_embedding(model.denoiser)
        model.sampler = replace(model.sampler, trained_steps=shortcut_step_counts(cfg.shortcut.finest_steps))
    model.vae.eval().requires_grad_(False)
    return model


def encode_pair(model: VSRModel, lq: torch.Tensor, gt: torch.Tensor, scale: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(z_lr, z_hr)``: latents of the LR clip through the model's input path (``encode_lr``: upscaled to the
    HR size) and of the HR clip (frozen AE); ``gt`` sides must be multiples of the AE's factor."""
    with torch.no_grad():
        return model.encode_lr(lq, scale)[0], model.encode(gt)


@dataclass
class TurboBatch:
    """One step's training inputs: state ``x`` at uniform times ``u`` (B,) (flow time ``warp(u)``), step sizes
    ``d`` (B,) or None (flow stage), targets, condition, the pinned first-frame latent (task b), how many
    leading samples are self-consistency samples, and the per-clip text condition ``(B, L, C)`` (or None: the
    denoiser's cached prompt)."""

    x: torch.Tensor
    u: torch.Tensor
    d: torch.Tensor | None
    target: torch.Tensor
    cond: torch.Tensor
    z_first: torch.Tensor | None
    num_bootstrap: int
    task_first: bool
    prompt_embeds: torch.Tensor | None = None


def prepare_batch(z_lr: torch.Tensor, z_hr: torch.Tensor, task_first: bool, cfg: TurboTrainConfig,
                  generator: torch.Generator, schedule: FlowSchedule, level_offset: int = 0) -> TurboBatch:
    """Noise, flow times and flow-matching targets of one step for task (a) (``task_first``: latent frame 0 as a
    one-frame video) or task (b) (the clip given its clean first-frame latent). Latents (B, c, t, h, w); the
    self-consistency samples' targets are filled in by :func:`with_bootstrap_targets`; ``level_offset``: the
    bootstrap samples drawn before this batch (:func:`bootstrap_levels`)."""
    if task_first:
        z_lr, z_hr = z_lr[:, :, :1], z_hr[:, :, :1]
    z_first = None if task_first else z_hr[:, :, :1]
    noise = torch.randn(z_hr.shape, generator=generator, device=generator.device, dtype=z_hr.dtype).to(z_hr.device)
    batch = z_hr.shape[0]
    n_boot = 0
    if TurboStage(cfg.stage) is TurboStage.SHORTCUT:
        n_boot = num_bootstrap(batch, cfg.shortcut.bootstrap_fraction)
        u, d = shortcut_times(batch, n_boot, cfg.shortcut.finest_steps, generator, z_hr.device, level_offset)
    else:
        u, d = flow_times(batch, generator, z_hr.device), None
    weight = schedule.warp(u).view(-1, 1, 1, 1, 1).to(z_hr.dtype)
    return TurboBatch(x=weight * z_hr + (1 - weight) * noise, u=u, d=d, target=flow_target(z_hr, noise),
                      cond=first_frame_condition(z_lr, first_known=z_first is not None), z_first=z_first,
                      num_bootstrap=n_boot, task_first=task_first)


def with_bootstrap_targets(batch: TurboBatch, ema_denoiser: Denoiser, schedule: FlowSchedule,
                           clip: float) -> torch.Tensor:
    """``batch.target`` with its first ``num_bootstrap`` rows replaced by the EMA model's self-consistency
    targets (:func:`bootstrap_targets`)."""
    n = batch.num_bootstrap
    if n == 0 or batch.d is None:
        return batch.target
    first = None if batch.z_first is None else batch.z_first[:n]
    prompt = None if batch.prompt_embeds is None else batch.prompt_embeds[:n]
    boot = bootstrap_targets(ema_denoiser, batch.x[:n], batch.u[:n], batch.d[:n], batch.cond[:n], first,
                             schedule, clip, prompt)
    return torch.cat([boot.to(batch.target.dtype), batch.target[n:]])


def student_loss(denoiser: Denoiser, batch: TurboBatch, schedule: FlowSchedule) -> tuple[torch.Tensor, dict[str, float]]:
    """MSE of the denoiser's prediction (through the factorised conditioning) against ``batch.target``, loss-
    masked on the given first frame; returns (scalar loss, logs)."""
    net = FirstFrameConditioned(denoiser, batch.z_first, use_step_size=batch.d is not None,
                                prompt_embeds=batch.prompt_embeds)
    t = schedule.timestep(schedule.warp(batch.u), batch.x.shape[0]).to(batch.x.device)
    pred = net(batch.x, t, cond=batch.cond, step_size=batch.d)
    per_sample = masked_mse(pred, batch.target, first_given=batch.z_first is not None)
    n = batch.num_bootstrap
    logs = {"total": per_sample.mean().item(), "task_first_frame": float(batch.task_first),
            "flow_mse": per_sample[n:].mean().item()}
    if n:
        logs["bootstrap_mse"] = per_sample[:n].mean().item()
    return per_sample.mean(), logs


def bootstrap_offset(step: int, cfg: TurboTrainConfig, accelerator: Any) -> int:
    """Bootstrap samples drawn by all processes before this process's batch at ``step`` (the level offset)."""
    if TurboStage(cfg.stage) is not TurboStage.SHORTCUT:
        return 0
    per_batch = num_bootstrap(cfg.train.batch_size, cfg.shortcut.bootstrap_fraction)
    return (step * accelerator.num_processes + accelerator.process_index) * per_batch


def is_first_frame_step(step: int, every: int) -> bool:
    """Task (a) at steps that are multiples of ``every`` (never when ``every == 0``)."""
    return every > 0 and step % every == 0


def train_turbo(cfg: TurboTrainConfig, resume: bool = False, dataset: Dataset | None = None) -> dict[str, Any]:
    """Run a TurboVSR stage to ``cfg.train.max_steps`` (from the newest checkpoint when ``resume``); returns the
    summary (step, checkpoint, export folder, last validation scores)."""
    accelerator = setup_accelerator(cfg.train)
    model = build_turbo_model(cfg)
    denoiser = model.denoiser
    model.vae.to(accelerator.device)
    if cfg.train.gradient_checkpointing:
        enable_gradient_checkpointing(denoiser)
    schedule = model.schedule
    scale = cfg.data.degradation.scale
    dataset = dataset if dataset is not None else build_train_dataset(cfg.data, cfg.train)
    val_gt = load_validation_clip(cfg.val).to(accelerator.device)
    val_lq = bicubic_rescale(val_gt, 1 / scale)
    session = start_session(accelerator, cfg.train, cfg.optim, denoiser, cfg, resume=resume)

    def validate(ema_denoiser: nn.Module) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        generator = torch.Generator(device=accelerator.device).manual_seed(cfg.train.seed)
        z, pad = model.encode_lr(val_lq, scale)
        z = model.restore(z, context=RestoreContext(generator=generator, denoiser=ema_denoiser))
        pred = model.unpad_output(model.decode(z), pad).float()
        return pred, val_gt, {"LR (bicubic down)": val_lq[0], "restored": pred[0], "target": val_gt[0]}

    if session.validation_due():
        session.validate(validate)
    for batch in session.batches(dataset):
        z_lr, z_hr = encode_pair(model, batch["lq"], batch["gt"], scale)
        step = session.state.step
        tb = prepare_batch(z_lr, z_hr, is_first_frame_step(step, cfg.first_frame_every), cfg, session.generator(),
                           schedule, level_offset=bootstrap_offset(step, cfg, accelerator))
        tb.prompt_embeds = batch.get("prompt_embeds")
        if tb.num_bootstrap:
            with torch.no_grad(), accelerator.autocast(), ema_weights(session.ema, session.unwrapped) as ema_model:
                tb.target = with_bootstrap_targets(tb, ema_model, schedule, cfg.shortcut.clip)
        with accelerator.autocast():
            loss, logs = student_loss(session.model, tb, schedule)
        session.advance(loss, logs, lambda: session.validate(validate))

    return session.finish(lambda ema_denoiser, folder: model.with_denoiser(ema_denoiser).save_pretrained(folder))
