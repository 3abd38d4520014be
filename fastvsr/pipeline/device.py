"""Device and precision handling for inference: pick the device, cast the model, optionally compile it."""

from __future__ import annotations

import torch
from torch import nn

from fastvsr.errors import ConfigError
from fastvsr.pipeline.config import InferConfig, Precision

TORCH_DTYPES = {Precision.FP32: torch.float32, Precision.BF16: torch.bfloat16, Precision.FP16: torch.float16}


def resolve_device(name: str) -> torch.device:
    """``auto`` -> ``cuda`` when available else ``cpu``; raises ConfigError for CUDA on a machine without it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{name}' requested but no CUDA device is available; use --device cpu")
    return device


def resolve_dtype(precision: Precision | str) -> torch.dtype:
    return TORCH_DTYPES[Precision(precision)]


def prepare_model(model: nn.Module, cfg: InferConfig) -> nn.Module:
    """Put a model in inference state on ``cfg.device`` in ``cfg.dtype`` (in place; returns it).

    With ``cfg.compile`` the model's ``encode``, ``restore`` and ``decode`` methods are replaced by
    ``torch.compile`` d versions (dynamic shapes, since tiles at the edges differ in size).
    """
    model.eval().requires_grad_(False)
    model.to(device=resolve_device(cfg.device), dtype=resolve_dtype(cfg.dtype))
    if cfg.compile:
        for name in ("encode", "restore", "decode"):
            setattr(model, name, torch.compile(getattr(model, name), dynamic=True))
    return model
