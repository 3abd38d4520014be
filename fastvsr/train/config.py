"""Settings every training stage shares: the loop (steps, precision, checkpoints, logging) and the optimiser."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from fastvsr.config import require
from fastvsr.models.config import DecoderKind, ModelConfig
from fastvsr.precision import Precision

LR_SCHEDULES = ("constant", "cosine", "linear")


class Tracker(str, Enum):
    """Where scalars go besides ``metrics.jsonl`` (always written): nowhere else, or wandb (offline works)."""

    JSONL = "jsonl"
    WANDB = "wandb"


@dataclass
class OptimConfig:
    """AdamW with linear warm-up and gradient-norm clipping.

    ``schedule``: after the warm-up the learning rate stays at ``lr`` (``constant``, DOVE's recipe) or decays
    to 0 at ``train.max_steps`` along a half cosine (``cosine``) or a line (``linear``).
    """

    lr: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    weight_decay: float = 1e-4
    warmup_steps: int = 0
    grad_clip: float = 1.0  # max gradient norm; 0 disables clipping
    schedule: str = "constant"

    def __post_init__(self) -> None:
        require(self.lr > 0, f"optim.lr must be > 0, got {self.lr}")
        require(self.schedule in LR_SCHEDULES, f"optim.schedule must be one of {LR_SCHEDULES}, got '{self.schedule}'")
        require(self.warmup_steps >= 0, f"optim.warmup_steps must be >= 0, got {self.warmup_steps}")
        require(self.grad_clip >= 0, f"optim.grad_clip must be >= 0, got {self.grad_clip}")


@dataclass
class LoopConfig:
    """The training loop: length, batch, precision, EMA, and how often to log, validate and checkpoint."""

    output_dir: str = "runs/train"
    seed: int = 42
    max_steps: int = 1000
    batch_size: int = 1  # per process
    num_workers: int = 0
    precision: Precision = Precision.AUTO  # autocast of the forward passes (fastvsr.precision)
    gradient_checkpointing: bool = False
    ema_decay: float = 0.999
    log_every: int = 10
    validate_every: int = 500  # 0: only at the end
    validate_at_start: bool = True  # a step-0 baseline on the curves (skipped when resuming)
    checkpoint_every: int = 500  # 0: only at the end
    keep_checkpoints: int = 3
    tracker: Tracker = Tracker.JSONL
    wandb_project: str = "fastvsr"
    processes: int = 0  # the number of processes the run must have (0: any); fewer is an error, not a smaller run

    def __post_init__(self) -> None:
        require(self.max_steps >= 1, f"train.max_steps must be >= 1, got {self.max_steps}")
        require(self.batch_size >= 1, f"train.batch_size must be >= 1, got {self.batch_size}")
        require(0 < self.ema_decay < 1, f"train.ema_decay must be in (0, 1), got {self.ema_decay}")
        require(self.keep_checkpoints >= 1, f"train.keep_checkpoints must be >= 1, got {self.keep_checkpoints}")
        for name in ("log_every", "validate_every", "checkpoint_every", "num_workers", "processes"):
            require(getattr(self, name) >= 0, f"train.{name} must be >= 0, got {getattr(self, name)}")


def require_trained_autoencoder(model: ModelConfig, allow_random: bool, stage: str, decoder: bool = False) -> None:
    """Refuse a stage that freezes the autoencoder when it would be built at random.

    A frozen random VAE (or f16 decoder, with ``decoder``) trains nothing real and says nothing about it, so
    ``model.vae.pretrained`` (and ``model.decoder.pretrained`` for an f16 decoder) must be set unless the
    user asked for a smoke run with ``allow_random_vae: true``.

    Raises:
        ValueError: (a :class:`~fastvsr.errors.ConfigError` once loaded) naming the missing key.
    """
    if allow_random:
        return
    require(model.vae.pretrained is not None,
            f"{stage} freezes the VAE but model.vae.pretrained is not set (it would be built at random): set it to "
            "a trained VAE folder, or allow_random_vae=true for a smoke run")
    f16 = DecoderKind(model.decoder.kind) is DecoderKind.F16
    require(not decoder or not f16 or model.decoder.pretrained is not None,
            f"{stage} freezes the f16 decoder but model.decoder.pretrained is not set (it would be the untrained "
            "copy of the f8 decoder): set it to stage 1's export, or allow_random_vae=true for a smoke run")
