"""The run's accelerator and its randomness: device and mixed precision, and seeds per rank and per step."""

from __future__ import annotations

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed

from fastvsr.errors import ConfigError
from fastvsr.precision import Precision, concrete_precision
from fastvsr.train.config import LoopConfig, Tracker


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
