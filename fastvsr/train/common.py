"""What every training stage shares: accelerator, seeds, optimiser, EMA, data order, the optimiser step with its
non-finite-loss guard, periodic checkpoints/validation, and the end of a run (export, summary).

Each stage (``vae.py``, ``diffusion.py``) writes its own explicit loop::

    accelerator = setup_accelerator(cfg.train)
    model = build ...                                  # the trained module, built from cfg.train.seed
    session = start_session(accelerator, cfg.train, cfg.optim, model, config_to_dict(cfg), resume)
    for batch in session.batches(dataset):
        with accelerator.autocast():
            loss, logs = <the stage's loss>
        session.step(loss, logs)
        if session.due(cfg.train.validate_every):
            session.validate(<the stage's validation forward>)
        session.checkpoint_if_due()
    session.finish(<export function>)

Data order is a pure function of ``(seed, step, rank)`` (:class:`StepBatchSampler`), so the checkpointed step
*is* the data position and ``--resume`` continues exactly: model, optimiser, scheduler, EMA and RNG states come
from the checkpoint, the batches from the step.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import gather_object, set_seed
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from fastvsr.atomic import atomic_path
from fastvsr.config import config_to_dict, save_config
from fastvsr.errors import ConfigError, FastVSRError
from fastvsr.train.checkpoint import load_latest_checkpoint, save_checkpoint
from fastvsr.precision import Precision, concrete_precision
from fastvsr.train.config import LoopConfig, OptimConfig, Tracker
from fastvsr.train.runlog import METRICS_FILE, RunLog, read_metrics
from fastvsr.train.plots import plot_runs
from fastvsr.train.validation import clip_fidelity, save_comparison_png

SUMMARY_FILE = "summary.json"
EXPORT_DIR = "export"


class NonFiniteLossError(FastVSRError):
    """The loss became NaN or infinite; training stopped before the bad step touched the weights."""


# ----------------------------------------------------------------------------------------------- setup


def resolve_mixed_precision(precision: Precision | str, cuda: bool) -> str:
    """accelerate's ``mixed_precision`` (``no``, ``bf16`` or ``fp16``) for ``precision`` on this device.

    Raises:
        ConfigError: fp16 requested without CUDA (CPU autocast supports bf16 only).
    """
    concrete = concrete_precision(precision, torch.device("cuda" if cuda else "cpu"))
    if concrete is Precision.FP16 and not cuda:
        raise ConfigError("train.precision=fp16 needs a CUDA device; use bf16 or fp32 on CPU")
    return "no" if concrete is Precision.FP32 else concrete.value


def setup_accelerator(loop: LoopConfig) -> Accelerator:
    """The run's accelerator: CUDA when present, else CPU (one process, or ``MULTI_CPU`` with gloo under
    ``accelerate launch --multi_gpu --num_processes N``). The LR scheduler steps once per optimiser step
    whatever the number of processes. Also seeds every RNG with ``loop.seed`` (the same on every rank, so
    models are built identically); :func:`start_session` reseeds per rank afterwards."""
    cuda = torch.cuda.is_available()
    accelerator = Accelerator(cpu=not cuda, mixed_precision=resolve_mixed_precision(loop.precision, cuda),
                              log_with="wandb" if Tracker(loop.tracker) is Tracker.WANDB else None,
                              step_scheduler_with_optimizer=False)
    set_seed(loop.seed)
    return accelerator


def rank_seed(seed: int, accelerator: Accelerator) -> int:
    """``seed * world_size + rank``: distinct per process, reproducible."""
    return seed * accelerator.num_processes + accelerator.process_index


def step_generator(seed: int, step: int, accelerator: Accelerator) -> torch.Generator:
    """A generator on the accelerator's device seeded from ``(seed, rank, step)``, for per-step sampling
    (noise, posterior samples) that does not depend on how the run was interrupted."""
    state = np.random.SeedSequence([seed, accelerator.process_index, step]).generate_state(1)[0]
    return torch.Generator(device=accelerator.device).manual_seed(int(state))


def build_optimizer(params: Iterator[nn.Parameter], cfg: OptimConfig) -> torch.optim.AdamW:
    """AdamW over the parameters that require gradients."""
    trainable = [p for p in params if p.requires_grad]
    if not trainable:
        raise ConfigError("nothing to train: every parameter is frozen")
    return torch.optim.AdamW(trainable, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                             weight_decay=cfg.weight_decay)


@contextlib.contextmanager
def ema_weights(ema: EMAModel, model: nn.Module) -> Iterator[nn.Module]:
    """Temporarily load the EMA weights into ``model`` (validation and export always use the EMA)."""
    params = list(model.parameters())
    ema.store(params)
    ema.copy_to(params)
    try:
        yield model
    finally:
        ema.restore(params)


def enable_gradient_checkpointing(module: nn.Module) -> None:
    """Turn on activation checkpointing of a diffusers model (``train.gradient_checkpointing``); ConfigError
    when the model has none."""
    try:
        module.enable_gradient_checkpointing()  # type: ignore[operator]
    except (AttributeError, ValueError):
        raise ConfigError(f"train.gradient_checkpointing: {type(module).__name__} does not support it") from None


class MethodForward(nn.Module):
    """Makes ``module.<method>`` the ``forward`` of a wrapper, so DDP (which syncs gradients only through
    ``forward``) can wrap a model trained through another method, e.g. a decoder's ``decode``."""

    def __init__(self, module: nn.Module, method: str) -> None:
        super().__init__()
        self.module = module
        self.method = method

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.module, self.method)(*args, **kwargs)


def weights_digest(module: nn.Module) -> str:
    """SHA-256 of every parameter and buffer, bit for bit (to compare ranks or runs)."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------ data


class StepBatchSampler(Sampler[list[int]]):
    """Batches of dataset positions as a pure function of ``(seed, step, rank)``.

    The global sample stream walks one random permutation of the dataset per epoch; at ``step`` process
    ``rank`` takes samples ``(step * world_size + rank) * batch_size + j``. A position encodes
    ``epoch * len(dataset) + index`` so the dataset can be told the epoch (see :class:`EpochIndexed`).
    Iteration starts at ``start_step`` (resume) and ends at ``max_steps``.
    """

    def __init__(self, dataset_len: int, batch_size: int, seed: int, rank: int, world_size: int,
                 start_step: int, max_steps: int) -> None:
        if dataset_len < 1:
            raise ConfigError("the training dataset is empty")
        self.n, self.batch_size, self.seed = dataset_len, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.start_step, self.max_steps = start_step, max_steps
        self._perm: tuple[int, list[int]] = (-1, [])

    def _permutation(self, epoch: int) -> list[int]:
        if self._perm[0] != epoch:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, epoch]))
            self._perm = (epoch, rng.permutation(self.n).tolist())
        return self._perm[1]

    def positions(self, step: int) -> list[int]:
        """Dataset positions (``epoch * n + index``) this rank trains on at ``step``."""
        out = []
        for j in range(self.batch_size):
            epoch, k = divmod((step * self.world_size + self.rank) * self.batch_size + j, self.n)
            out.append(epoch * self.n + self._permutation(epoch)[k])
        return out

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.max_steps):
            yield self.positions(step)

    def __len__(self) -> int:
        return max(self.max_steps - self.start_step, 0)


class EpochIndexed(Dataset):
    """Maps a position ``epoch * n + index`` to ``dataset[index]``, first calling ``dataset.set_epoch(epoch)``
    when the dataset has one (datasets are deterministic per ``(seed, epoch, index)``)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.n = len(dataset)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, position: int) -> Any:
        epoch, index = divmod(position, self.n)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        return self.dataset[index]


# --------------------------------------------------------------------------------------------- session


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
    last_validation: dict[str, float] = field(default_factory=dict)
    last_validated_step: int = -1

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
        self.progress.update(1)
        if self.logged_step(self.state.step):
            scalars = {f"train/{k}": v for k, v in logs.items()}
            scalars["train/lr"] = self.scheduler.get_last_lr()[0]
            if grad_norm is not None:
                scalars["train/grad_norm"] = float(grad_norm)
            self.log.log(self.state.step, scalars)
            self.progress.set_postfix(loss=f"{logs.get('total', loss.item()):.4g}")

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
            self.last_checkpoint = save_checkpoint(self.accelerator, self.output_dir, self.state.step,
                                                   self.loop.keep_checkpoints)

    def validate(self, forward: Callable[[nn.Module], tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]],
                 curve_keys: tuple[str | tuple[str, ...], ...] = ("train/total",),
                 also_score: dict[str, str] | None = None) -> None:
        """Run ``forward(ema_model) -> (pred, gt, panels)`` on the main process with the EMA weights, log
        ``val/psnr`` and ``val/ssim``, write ``val/step-XXXXXXXX.png`` and refresh ``loss_curves.png``.

        Args:
            forward: ``pred``/``gt`` are ``(B, 3, T, H, W)`` in ``[0, 1]``; ``panels`` maps labels to
                ``(3, T, H, W)`` clips for the comparison PNG.
            curve_keys: panels of ``loss_curves.png`` (a key or a group of keys; ``val/psnr`` is added).
            also_score: ``{name: panel label}``: panels of ``gt``'s size also scored, logged as
                ``val/<name>_psnr`` and ``val/<name>_ssim`` (e.g. the lower-bound floor).
        """
        acc = self.accelerator
        if acc.is_main_process:
            model = self.unwrapped
            was_training = model.training
            with ema_weights(self.ema, model), torch.no_grad(), acc.autocast():
                model.eval()
                pred, gt, panels = forward(model)
            model.train(was_training)
            scores = clip_fidelity(pred, gt)
            for name, label in (also_score or {}).items():
                scores.update({f"{name}_{k}": v for k, v in clip_fidelity(panels[label][None], gt[:1]).items()})
            self.last_validation = scores
            self.last_validated_step = self.state.step
            self.log.log(self.state.step, {f"val/{k}": v for k, v in scores.items()})
            title = f"step {self.state.step}: PSNR {scores['psnr']:.2f} dB, SSIM {scores['ssim']:.4f} (EMA)"
            save_comparison_png(self.output_dir / "val" / f"step-{self.state.step:08d}.png", panels, title)
            records = read_metrics(self.output_dir / METRICS_FILE)
            val_keys = ("val/psnr", *(f"val/{name}_psnr" for name in also_score or {}))
            plot_runs({"run": records}, [*curve_keys, val_keys], self.output_dir / "loss_curves.png",
                      title=self.output_dir.name)
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
            self.last_checkpoint = save_checkpoint(acc, self.output_dir, self.state.step, self.loop.keep_checkpoints)
        digests = gather_object([weights_digest(self.unwrapped)])
        summary = {"step": self.state.step, "num_processes": acc.num_processes, "weight_digests": digests,
                   "checkpoint": str(self.last_checkpoint), "export": str(self.output_dir / EXPORT_DIR),
                   "validation": self.last_validation}
        if acc.is_main_process:
            with ema_weights(self.ema, self.unwrapped) as model, atomic_path(self.output_dir / EXPORT_DIR) as tmp:
                export(model, tmp)
            with atomic_path(self.output_dir / SUMMARY_FILE) as tmp:
                tmp.write_text(json.dumps(summary, indent=2))
        self.log.close()
        acc.wait_for_everyone()
        return summary


def build_lr_schedule(optimizer: torch.optim.Optimizer, optim: OptimConfig, max_steps: int,
                      num_processes: int = 1) -> torch.optim.lr_scheduler.LambdaLR:
    """The warm-up + ``optim.schedule`` learning-rate schedule over ``max_steps`` optimiser steps.

    Accelerate's prepared scheduler advances once per process on every step, so both lengths are counted in
    ``num_processes`` units; the rate then follows the same curve over ``max_steps`` on any number of GPUs.
    """
    name = "constant_with_warmup" if optim.schedule == "constant" else optim.schedule
    return get_scheduler(name, optimizer, num_warmup_steps=optim.warmup_steps * num_processes,
                         num_training_steps=max_steps * num_processes)


def start_session(accelerator: Accelerator, loop: LoopConfig, optim: OptimConfig, model: nn.Module,
                  config: Any, resume: bool = False) -> Session:
    """Prepare ``model`` (the trained module) for training and restore the newest checkpoint when ``resume``.

    Writes ``<output_dir>/config.yaml`` (the resolved config), builds AdamW + warm-up schedule and the EMA
    (from the synced weights), registers EMA and loop state for checkpointing, reseeds per rank, then loads
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
    optimizer = build_optimizer(model.parameters(), optim)
    scheduler = build_lr_schedule(optimizer, optim, loop.max_steps, accelerator.num_processes)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    ema = EMAModel(accelerator.unwrap_model(model).parameters(), decay=loop.ema_decay)
    state = LoopState()
    accelerator.register_for_checkpointing(ema, state)
    set_seed(rank_seed(loop.seed, accelerator))
    last = load_latest_checkpoint(accelerator, output_dir) if resume else None
    log = RunLog(accelerator, output_dir, config_to_dict(config), loop.tracker, loop.wandb_project,
                 resume_step=state.step if resume else None)
    progress = tqdm(total=loop.max_steps, initial=state.step, disable=not accelerator.is_local_main_process,
                    desc=output_dir.name, dynamic_ncols=True)
    return Session(accelerator, loop, optim, model, optimizer, scheduler, ema, state, log, output_dir, progress,
                   last_checkpoint=last)

