"""The run's accelerator and its randomness: device, mixed precision and distributed engine, and seeds per rank
and per step.

The engine is accelerate's, chosen by how the run is launched (``accelerate launch --config_file
configs/accelerate/<engine>.yaml``): DDP (``--multi_gpu``), FSDP or DeepSpeed. A launch that would silently run
something else is an error: processes that did not join one run, fewer processes than ``train.processes``, an
engine asked for but not available. accelerate enables FSDP only on accelerator devices; on a CPU (tests, tiny
paper-structured runs with gloo) :func:`setup_accelerator` switches its state to FSDP, so the same accelerate
FSDP code (FSDP2 sharding, sharded checkpoints) runs.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState, PartialState
from accelerate.utils import DistributedType, FullyShardedDataParallelPlugin, set_seed

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


def _flag(name: str) -> bool:
    return os.environ.get(name, "false").lower() in ("1", "true", "yes")


def requested_engine() -> str:
    """``fsdp``, ``deepspeed`` or ``ddp``: what the launch asked for (accelerate's environment)."""
    return "fsdp" if _flag("ACCELERATE_USE_FSDP") else "deepspeed" if _flag("ACCELERATE_USE_DEEPSPEED") else "ddp"


def _check_engine(engine: str, cuda: bool) -> None:
    if engine == "deepspeed":
        if importlib.util.find_spec("deepspeed") is None:
            raise ConfigError("the launch asks for DeepSpeed, which is not installed: pip install deepspeed (or "
                              "launch with configs/accelerate/fsdp.yaml)")
        if not cuda:
            raise ConfigError("DeepSpeed needs CUDA devices; on a CPU launch with configs/accelerate/fsdp_cpu.yaml")


def _enable_fsdp_on_cpu(accelerator: Accelerator) -> None:
    """Switch accelerate's state to FSDP on a CPU run (its own code enables FSDP only on accelerator devices),
    with the plugin the launch config describes."""
    accelerator.state.fsdp_plugin = FullyShardedDataParallelPlugin()
    accelerator.state.distributed_type = DistributedType.FSDP
    PartialState._shared_state["distributed_type"] = DistributedType.FSDP


def _check_processes(accelerator: Accelerator, loop: LoopConfig) -> None:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > accelerator.num_processes:
        raise ConfigError(f"{world} processes were launched but did not join one run (each sees "
                          f"{accelerator.num_processes}); launch with accelerate launch --multi_gpu or a "
                          "configs/accelerate file (on a CPU: configs/accelerate/ddp_cpu.yaml or fsdp_cpu.yaml)")
    if loop.processes and accelerator.num_processes != loop.processes:
        raise ConfigError(f"train.processes={loop.processes} but the run has {accelerator.num_processes} "
                          f"process(es); launch {loop.processes} (accelerate launch --num_processes "
                          f"{loop.processes} with --multi_gpu or a configs/accelerate file) or change train.processes")


def setup_accelerator(loop: LoopConfig) -> Accelerator:
    """The run's accelerator: CUDA when present, else CPU (one process, or several with gloo under a DDP or
    FSDP launch). The LR scheduler steps once per optimiser step whatever the number of processes. Also seeds
    every RNG with ``loop.seed`` (the same on every rank, so models are built identically); :func:`start_session`
    reseeds per rank afterwards.

    Raises:
        ConfigError: a launch that would run something other than what it asked for (module docstring).
    """
    cuda = torch.cuda.is_available()
    engine = requested_engine()
    _check_engine(engine, cuda)
    accelerator = Accelerator(cpu=not cuda, mixed_precision=resolve_mixed_precision(loop.precision, cuda),
                              log_with="wandb" if Tracker(loop.tracker) is Tracker.WANDB else None,
                              step_scheduler_with_optimizer=False)
    if engine == "fsdp" and not cuda and accelerator.num_processes > 1:
        _enable_fsdp_on_cpu(accelerator)
    _check_processes(accelerator, loop)
    set_seed(loop.seed)
    return accelerator


def release_accelerator() -> None:
    """Forget this process's accelerator settings, so the next :func:`setup_accelerator` in the same process
    builds its own (another precision included). accelerate keeps them process-wide and refuses to change them:
    call this between runs that share a process (the recipe's stages, an ablation's runs)."""
    AcceleratorState._reset_state(True)


def is_sharded(accelerator: Accelerator) -> bool:
    """Whether the trained module's parameters are sharded across processes (FSDP)."""
    return accelerator.distributed_type is DistributedType.FSDP


def rank_seed(seed: int, accelerator: Accelerator) -> int:
    """``seed * world_size + rank``: distinct per process, reproducible."""
    return seed * accelerator.num_processes + accelerator.process_index


def step_generator(seed: int, step: int, accelerator: Accelerator) -> torch.Generator:
    """A generator on the accelerator's device seeded from ``(seed, rank, step)``, for per-step sampling
    (noise, posterior samples) that does not depend on how the run was interrupted."""
    state = np.random.SeedSequence([seed, accelerator.process_index, step]).generate_state(1)[0]
    return torch.Generator(device=accelerator.device).manual_seed(int(state))
