"""Helpers on the trained module: EMA weights swapped in, activation checkpointing, a ``forward`` for DDP/FSDP
to wrap, and a bit-exact digest of the weights."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from diffusers.training_utils import EMAModel
from torch import nn
from torch.distributed.tensor import DTensor

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


def local_tensor(tensor: torch.Tensor) -> torch.Tensor:
    """This process's part of a tensor: the local shard of an FSDP (DTensor) parameter, else the tensor."""
    return tensor.to_local() if isinstance(tensor, DTensor) else tensor


def weights_digest(module: nn.Module) -> str:
    """SHA-256 of every parameter and buffer this process holds (its shard under FSDP), bit for bit (to compare
    ranks or runs)."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(local_tensor(tensor).detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_ema(ema: EMAModel, path: Path) -> None:
    """Write this process's EMA state (its shards of the shadow weights under FSDP) to ``path``."""
    state = ema.state_dict()
    state["shadow_params"] = [local_tensor(p).detach().cpu().clone() for p in ema.shadow_params]
    torch.save(state, path)


def load_ema(ema: EMAModel, path: Path) -> None:
    """Restore what :func:`save_ema` wrote into ``ema``, keeping its shadow tensors (and their sharding)."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    saved = state.pop("shadow_params")
    if len(saved) != len(ema.shadow_params):
        raise ValueError(f"{path} holds {len(saved)} EMA tensors, the model has {len(ema.shadow_params)}")
    ema.load_state_dict({**state, "shadow_params": ema.shadow_params})
    with torch.no_grad():
        for shadow, value in zip(ema.shadow_params, saved):
            local_tensor(shadow).copy_(value)


SHARD_UNITS = ("CogVideoXBlock", "LTXVideoTransformerBlock", "CogVideoXResnetBlock3D", "ResBlock3D",
               "FactorisedResBlock")
"""Block classes that become FSDP units of their own (the transformer blocks, the VAE and UNet residual blocks)."""


def mark_shard_units(module: nn.Module) -> list[str]:
    """Set ``module._no_split_modules`` (what accelerate's transformer-based FSDP wrap policy shards by) to the
    :data:`SHARD_UNITS` it contains; returns them."""
    present = {type(m).__name__ for m in module.modules()}
    units = [name for name in SHARD_UNITS if name in present]
    module._no_split_modules = units  # type: ignore[assignment]
    return units
