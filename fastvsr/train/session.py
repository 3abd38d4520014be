"""The session every training stage's loop runs over: the optimiser step with its non-finite-loss guard,
periodic checkpoints and validation, and the end of a run (export, summary). Its parts live beside it:
accelerator and seeds (``accelerator.py``), optimiser and schedule (``optim.py``), EMA and module helpers
(``modules.py``), data order (``data_order.py``), validation scores and pictures (``validation.py``).

Each stage (``vae.py``, ``diffusion.py``, ``turbo.py``) writes its own explicit loop::

    accelerator = setup_accelerator(cfg.train)
    model = build ...                                  # the trained module, built from cfg.train.seed
    session = start_session(accelerator, cfg.train, cfg.optim, model, cfg, resume)
    validate = lambda: session.validate(<the stage's validation forward>)
    if session.validation_due():
        validate()                                     # the step-0 baseline
    for batch in session.batches(dataset):
        with accelerator.autocast():
            loss, logs = <the stage's loss>
        session.advance(loss, logs, validate)          # step, then validation and checkpoint when due
    session.finish(<export function>)

Data order is a pure function of ``(seed, step, rank)`` (:class:`StepBatchSampler`), so the checkpointed step
*is* the data position and ``--resume`` continues exactly: model, optimiser, scheduler, EMA and RNG states come
from the checkpoint, the batches from the step.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import gather_object, set_seed
from diffusers.training_utils import EMAModel
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from fastvsr.atomic import atomic_path
from fastvsr.config import config_to_dict, save_config
from fastvsr.errors import FastVSRError
from fastvsr.train.accelerator import is_sharded, rank_seed, step_generator
from fastvsr.train.checkpoint import load_latest_checkpoint, save_checkpoint
from fastvsr.train.config import LoopConfig, OptimConfig
from fastvsr.train.data_order import EpochIndexed, StepBatchSampler
from fastvsr.train.modules import ema_weights, load_ema, mark_shard_units, save_ema, weights_digest
from fastvsr.train.optim import build_lr_schedule, build_optimizer
from fastvsr.train.runlog import RunLog
from fastvsr.train.step_timer import StepTimer
from fastvsr.train.validation import record_validation

SUMMARY_FILE = "summary.json"
EXPORT_DIR = "export"


class NonFiniteLossError(FastVSRError):
    """The loss became NaN or infinite; training stopped before the bad step touched the weights."""


@dataclass
class LoopState:
    """The loop's own checkpointed state: optimiser steps taken (which is also the data position)."""

    step: int = 0

    def state_dict(self) -> dict[str, int]:
        return {"step": self.step}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.step = int(state["step"])


@dataclass
class Session:
    """The small state a stage's loop runs over (built by :func:`start_session`)."""

    accelerator: Accelerator
    loop: LoopConfig
    optim: OptimConfig
    model: nn.Module  # prepared (DDP-wrapped under multi-process)
    optimizer: Any
    scheduler: Any
    ema: EMAModel
    state: LoopState
    log: RunLog
    output_dir: Path
    progress: Any
    last_checkpoint: Path | None = None
    export_copy: nn.Module | None = None  # an unsharded copy of the trained module (FSDP, main process) to export
    last_validation: dict[str, float] = field(default_factory=dict)
    last_validated_step: int = -1
    timer: StepTimer | None = None

    def __post_init__(self) -> None:
        self.timer = StepTimer(self.accelerator.device)

    @property
    def unwrapped(self) -> nn.Module:
        return self.accelerator.unwrap_model(self.model)

    def generator(self) -> torch.Generator:
        """Per-step generator (:func:`step_generator`) for the current step."""
        return step_generator(self.loop.seed, self.state.step, self.accelerator)

    def batches(self, dataset: Dataset) -> Iterator[dict[str, torch.Tensor]]:
        """Batches from the current step to ``max_steps``, on the accelerator's device.

        Not passed through ``accelerator.prepare``: :class:`StepBatchSampler` already shards by rank, and the
        loader gets its own generator so creating it never consumes the global RNG (resume stays exact).
        """
        sampler = StepBatchSampler(len(dataset), self.loop.batch_size, self.loop.seed,  # type: ignore[arg-type]
                                   self.accelerator.process_index, self.accelerator.num_processes,
                                   self.state.step, self.loop.max_steps)
        loader = DataLoader(EpochIndexed(dataset), batch_sampler=sampler, num_workers=self.loop.num_workers,
                            generator=torch.Generator().manual_seed(self.loop.seed))
        self.timer.restart()
        for batch in loader:
            yield {k: v.to(self.accelerator.device) if torch.is_tensor(v) else v for k, v in batch.items()}

    def step(self, loss: torch.Tensor, logs: dict[str, float]) -> None:
        """Guard, backward, clip, optimiser and scheduler step, EMA update, logging; advances ``state.step``.

        Raises:
            NonFiniteLossError: the loss is NaN/inf on any rank; nothing was updated and the last checkpoint
                is the last good state.
        """
        acc = self.accelerator
        bad = acc.reduce(torch.tensor([0.0 if torch.isfinite(loss) else 1.0], device=acc.device), "sum")
        if bad.item() > 0:
            where = self.last_checkpoint or "none saved yet"
            raise NonFiniteLossError(f"loss is {loss.item()} at step {self.state.step}; training stopped, last "
                                     f"good checkpoint: {where} (fix the cause, then --resume)")
        acc.backward(loss)
        grad_norm = None
        if self.optim.grad_clip > 0 and acc.sync_gradients:
            grad_norm = acc.clip_grad_norm_(self.model.parameters(), self.optim.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.ema.step(self.unwrapped.parameters())
        self.state.step += 1
        self.timer.lap()
        self.progress.update(1)
        if self.logged_step(self.state.step):
            scalars = {f"train/{k}": v for k, v in logs.items()}
            scalars["train/lr"] = self.scheduler.get_last_lr()[0]
            if grad_norm is not None:
                scalars["train/grad_norm"] = float(grad_norm)
            self.log.log(self.state.step, scalars)
            self.progress.set_postfix(loss=f"{logs.get('total', loss.item()):.4g}")

    def advance(self, loss: torch.Tensor, logs: dict[str, float], validate: Callable[[], None]) -> None:
        """One training step (:meth:`step`), then ``validate()`` and a checkpoint when they are due."""
        self.step(loss, logs)
        if self.validation_due():
            validate()
        self.checkpoint_if_due()
        self.timer.restart()

    def logged_step(self, count: int) -> bool:
        """Whether the step that brings the count of finished steps to ``count`` logs its scalars.
        ``logged_step(state.step + 1)`` before :meth:`step`: whether the coming step will."""
        every = self.loop.log_every
        return bool(every) and (count % every == 0 or count >= self.loop.max_steps)

    @property
    def finished(self) -> bool:
        return self.state.step >= self.loop.max_steps

    def due(self, every: int) -> bool:
        """True after a step that is a multiple of ``every`` (> 0), and after the last step."""
        return self.finished or (every > 0 and self.state.step % every == 0)

    def validation_due(self) -> bool:
        """Validate now: every ``validate_every`` steps, after the last step, and before the first step of a
        fresh run when ``validate_at_start`` (call it before and after each step)."""
        if self.state.step == 0:
            return self.loop.validate_at_start and not self.last_validation
        return self.due(self.loop.validate_every) and self.last_validated_step != self.state.step

    def checkpoint_if_due(self) -> None:
        """Save a rotated checkpoint every ``checkpoint_every`` steps and at the end."""
        if self.due(self.loop.checkpoint_every):
            self.last_checkpoint = self.save_checkpoint()

    def save_checkpoint(self) -> Path:
        """A checkpoint of this step (every rank calls it): accelerate's state plus each process's EMA."""
        return save_checkpoint(self.accelerator, self.output_dir, self.state.step, self.loop.keep_checkpoints,
                               lambda folder: save_ema(self.ema, folder / ema_file(self.accelerator)))

    def validate(self, forward: Callable[[nn.Module], tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]],
                 curve_keys: tuple[str | tuple[str, ...], ...] = ("train/total",),
                 also_score: dict[str, str] | None = None) -> None:
        """Run ``forward(ema_model) -> (pred, gt, panels)`` with the EMA weights (on the main process; on every
        process when the model is sharded, since its forward gathers the shards), then on the main process log
        ``val/psnr`` and ``val/ssim``, write ``val/step-XXXXXXXX.png`` and refresh ``loss_curves.png``.

        Args:
            forward: ``pred``/``gt`` are ``(B, 3, T, H, W)`` in ``[0, 1]``; ``panels`` maps labels to
                ``(3, T, H, W)`` clips for the comparison PNG.
            curve_keys: panels of ``loss_curves.png`` (a key or a group of keys; ``val/psnr`` is added).
            also_score: ``{name: panel label}``: panels of ``gt``'s size also scored, logged as
                ``val/<name>_psnr`` and ``val/<name>_ssim`` (e.g. the lower-bound floor).
        """
        acc = self.accelerator
        if acc.is_main_process or is_sharded(acc):
            model = self.unwrapped
            was_training = model.training
            with ema_weights(self.ema, model), torch.no_grad(), acc.autocast():
                model.eval()
                pred, gt, panels = forward(model)
            model.train(was_training)
            if acc.is_main_process:
                self.last_validation = record_validation(self.log, self.output_dir, self.state.step, pred, gt,
                                                         panels, curve_keys, also_score)
            self.last_validated_step = self.state.step
        acc.wait_for_everyone()

    def export_ema(self, export: Callable[[nn.Module, Path], None]) -> None:
        """``export(ema_model, folder)`` into ``<output_dir>/export`` on the main process. A sharded model's EMA
        weights are gathered first (every process takes part) into the unsharded copy kept for this."""
        acc = self.accelerator
        if is_sharded(acc):
            with ema_weights(self.ema, self.unwrapped):
                full = acc.get_state_dict(self.model)
            if acc.is_main_process:
                assert self.export_copy is not None
                self.export_copy.load_state_dict(full)
                with atomic_path(self.output_dir / EXPORT_DIR) as tmp:
                    export(self.export_copy, tmp)
        elif acc.is_main_process:
            with ema_weights(self.ema, self.unwrapped) as model, atomic_path(self.output_dir / EXPORT_DIR) as tmp:
                export(model, tmp)
        acc.wait_for_everyone()

    def finish(self, export: Callable[[nn.Module, Path], None]) -> dict[str, Any]:
        """End of the run: checkpoint, per-rank weight digests, EMA export and ``summary.json``.

        Args:
            export: ``export(ema_model, folder)`` writes an inference-ready ``save_pretrained`` folder.
        Returns:
            The summary (also written to ``<output_dir>/summary.json`` by the main process).
        """
        acc = self.accelerator
        self.progress.close()
        if self.last_checkpoint is None or not self.last_checkpoint.name.endswith(f"{self.state.step:08d}"):
            self.last_checkpoint = self.save_checkpoint()
        digests = gather_object([weights_digest(self.unwrapped)])
        summary = {"step": self.state.step, "num_processes": acc.num_processes, "weight_digests": digests,
                   "checkpoint": str(self.last_checkpoint), "export": str(self.output_dir / EXPORT_DIR),
                   "validation": self.last_validation, **self.timer.summary()}
        self.export_ema(export)
        if acc.is_main_process:
            with atomic_path(self.output_dir / SUMMARY_FILE) as tmp:
                tmp.write_text(json.dumps(summary, indent=2))
        self.log.close()
        acc.wait_for_everyone()
        return summary


def start_session(accelerator: Accelerator, loop: LoopConfig, optim: OptimConfig, model: nn.Module,
                  config: Any, resume: bool = False) -> Session:
    """Prepare ``model`` (the trained module) for training and restore the newest checkpoint when ``resume``.

    Writes ``<output_dir>/config.yaml`` (the resolved config), builds AdamW + warm-up schedule and the EMA
    (from the synced weights), registers the loop state for checkpointing (the EMA is saved per process), reseeds per rank, then loads
    the checkpoint (which restores the RNG states too).

    Args:
        accelerator: from :func:`setup_accelerator`.
        loop, optim: the stage's loop and optimiser settings.
        model: the module to train (frozen helpers stay outside and are moved to the device by the stage).
        config: the stage's resolved config dataclass (recorded in the run and sent to wandb).
        resume: continue from the newest checkpoint in ``loop.output_dir``.
    """
    output_dir = Path(loop.output_dir)
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, output_dir / "config.yaml")
    model.train()
    export_copy = None
    if is_sharded(accelerator):
        mark_shard_units(model)
        export_copy = copy.deepcopy(model) if accelerator.is_main_process else None
    optimizer = build_optimizer(model.parameters(), optim)
    scheduler = build_lr_schedule(optimizer, optim, loop.max_steps, accelerator.num_processes)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    ema = EMAModel(accelerator.unwrap_model(model).parameters(), decay=loop.ema_decay)
    state = LoopState()
    accelerator.register_for_checkpointing(state)
    set_seed(rank_seed(loop.seed, accelerator))
    last = load_latest_checkpoint(accelerator, output_dir,
                                  lambda folder: load_ema(ema, folder / ema_file(accelerator))) if resume else None
    log = RunLog(accelerator, output_dir, config_to_dict(config), loop.tracker, loop.wandb_project,
                 resume_step=state.step if resume else None)
    progress = tqdm(total=loop.max_steps, initial=state.step, disable=not accelerator.is_local_main_process,
                    desc=output_dir.name, dynamic_ncols=True)
    return Session(accelerator, loop, optim, model, optimizer, scheduler, ema, state, log, output_dir, progress,
                   last_checkpoint=last, export_copy=export_copy)


def ema_file(accelerator: Accelerator) -> str:
    """This process's EMA file in a checkpoint folder."""
    return f"ema_rank{accelerator.process_index:05d}.pt"
