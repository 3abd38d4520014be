"""Helpers on the trained module: EMA weights swapped in, activation checkpointing, a ``forward`` for DDP/FSDP
to wrap, and a bit-exact digest of the weights."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import torch
from diffusers.training_utils import EMAModel
from torch import nn

from fastvsr.errors import ConfigError


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
