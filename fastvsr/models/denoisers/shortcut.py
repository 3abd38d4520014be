"""Shortcut conversion: give a trained flow denoiser a (zero-initialised) step-size embedding.

The converted model has the same weights plus the new step-size branch, whose last layer is zero, so it
predicts exactly what the flow model did until shortcut training moves it (Frans et al. 2024, conversion of a
pretrained model as TurboVSR does). Denoisers that can be converted have ``has_step_size_embedding`` and
``with_step_size_embedding()`` (the UNet and the LTX-Video DiT adapter).
"""

from __future__ import annotations

from torch import nn


def uses_step_size(denoiser: nn.Module) -> bool:
    """True when ``denoiser`` has a step-size embedding (takes ``step_size``)."""
    return bool(getattr(denoiser, "has_step_size_embedding", False))


def add_step_size_embedding(denoiser: nn.Module) -> nn.Module:
    """A copy of ``denoiser`` with a zero-initialised step-size embedding (same output until fine-tuned).

    Raises:
        ValueError: the denoiser cannot take one, or already has it.
    """
    if not hasattr(denoiser, "with_step_size_embedding"):
        raise ValueError(f"{type(denoiser).__name__} cannot take a step-size embedding")
    if uses_step_size(denoiser):
        raise ValueError("the denoiser already has a step-size embedding")
    return denoiser.with_step_size_embedding()
