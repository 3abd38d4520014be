"""Shortcut conversion: give a trained flow denoiser a (zero-initialised) step-size embedding.

The converted model has the same weights plus the new step-size branch, whose last layer is zero, so it
predicts exactly what the flow model did until shortcut training moves it (Frans et al. 2024, conversion of a
pretrained model as TurboVSR does).
"""

from __future__ import annotations

from typing import Any

from torch import nn

STEP_SIZE_KEY = "use_step_size_embedding"


def uses_step_size(denoiser: nn.Module) -> bool:
    """True when ``denoiser`` was built with a step-size embedding (takes ``step_size``)."""
    config: Any = getattr(denoiser, "config", {})
    return bool(config.get(STEP_SIZE_KEY, False)) if hasattr(config, "get") else False


def add_step_size_embedding(denoiser: nn.Module) -> nn.Module:
    """A copy of a diffusers-config denoiser (e.g. :class:`SpatioTemporalUNet`) with a step-size embedding.

    Raises:
        ValueError: the denoiser has no ``use_step_size_embedding`` option, or already uses it.
    """
    config: Any = getattr(denoiser, "config", None)
    if config is None or STEP_SIZE_KEY not in config:
        raise ValueError(f"{type(denoiser).__name__} has no {STEP_SIZE_KEY} option")
    if config[STEP_SIZE_KEY]:
        raise ValueError("the denoiser already has a step-size embedding")
    converted = type(denoiser).from_config({**config, STEP_SIZE_KEY: True})
    missing, unexpected = converted.load_state_dict(denoiser.state_dict(), strict=False)
    stray = [k for k in missing if ".step_embedding." not in f".{k}"] + list(unexpected)
    if stray:
        raise ValueError(f"conversion changed weights other than the step-size embedding: {stray[:3]}")
    param = next(denoiser.parameters())
    return converted.to(device=param.device, dtype=param.dtype)
