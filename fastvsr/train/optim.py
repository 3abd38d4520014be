"""The optimiser and its learning-rate schedule (``OptimConfig``)."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from diffusers.optimization import get_scheduler
from torch import nn

from fastvsr.errors import ConfigError
from fastvsr.train.config import OptimConfig


def build_optimizer(params: Iterator[nn.Parameter], cfg: OptimConfig) -> torch.optim.AdamW:
    """AdamW over the parameters that require gradients."""
    trainable = [p for p in params if p.requires_grad]
    if not trainable:
        raise ConfigError("nothing to train: every parameter is frozen")
    return torch.optim.AdamW(trainable, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                             weight_decay=cfg.weight_decay)


def build_lr_schedule(optimizer: torch.optim.Optimizer, optim: OptimConfig, max_steps: int,
                      num_processes: int = 1) -> torch.optim.lr_scheduler.LambdaLR:
    """The warm-up + ``optim.schedule`` learning-rate schedule over ``max_steps`` optimiser steps.

    Accelerate's prepared scheduler advances once per process on every step, so both lengths are counted in
    ``num_processes`` units; the rate then follows the same curve over ``max_steps`` on any number of GPUs.
    """
    name = "constant_with_warmup" if optim.schedule == "constant" else optim.schedule
    return get_scheduler(name, optimizer, num_warmup_steps=optim.warmup_steps * num_processes,
                         num_training_steps=max_steps * num_processes)
