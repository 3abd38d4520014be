"""Device and precision handling for inference: pick the device, cast the model, optionally compile it."""

from __future__ import annotations

import torch
from torch import nn

from fastvsr.errors import ConfigError
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.vae.autoencoder import set_frame_batch
from fastvsr.models.vae.causal_conv import use_channels_last
from fastvsr.pipeline.config import InferConfig
from fastvsr.precision import Precision, torch_dtype


def resolve_device(name: str) -> torch.device:
    """``auto`` -> ``cuda`` when available else ``cpu``; raises ConfigError for CUDA on a machine without it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{name}' requested but no CUDA device is available; use --device cpu")
    return device


def resolve_dtype(precision: Precision | str, device: torch.device | str = "cpu") -> torch.dtype:
    """The torch dtype of ``precision`` on ``device`` (``auto``: bf16 on a bf16-capable CUDA device, else fp32)."""
    return torch_dtype(precision, torch.device(device))


def to_device(x: torch.Tensor, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``x`` on ``device`` (in ``dtype``). A CPU tensor bound for CUDA goes through pinned (page-locked) memory
    and is copied asynchronously, on the current stream, so the copy runs at full bus speed and the kernels
    queued before it keep the GPU busy meanwhile; everywhere else it is ``x.to(device, dtype)``."""
    if device.type == "cuda" and x.device.type == "cpu":
        x = x.pin_memory().to(device, non_blocking=True)
    return x.to(device=device, dtype=dtype)


def fold_copy_where_exact(model: nn.Module) -> bool:
    """Fold the channel copy of ``model.decoder`` into its conv_out when that decoder is an
    :class:`~fastvsr.models.f16_decoder.F16Decoder` on which it is exact (in place); returns whether it is
    folded now."""
    decoder = getattr(model, "decoder", None)
    if not isinstance(decoder, F16Decoder) or not decoder.foldable:
        return False
    decoder.fold_copy()
    return True


def prepare_model(model: nn.Module, cfg: InferConfig) -> nn.Module:
    """Put a model in inference state on ``cfg.device`` in ``cfg.dtype`` (in place; returns it).

    The model's causal VAE coders encode and decode ``cfg.frame_batch`` frames at a time; with
    ``cfg.fold_copy`` an f16 decoder whose channel copy feeds conv_out directly has the copy folded into
    conv_out's weight (:meth:`fastvsr.models.f16_decoder.F16Decoder.fold_copy`: same output up to float
    rounding, conv_out reads 4x fewer channels at the output size); with ``cfg.channels_last`` on CPU the
    causal convs' weights are stored channels-last, so the coders compute in that layout. With
    ``cfg.compile`` the model's ``encode``, ``restore`` and ``decode`` methods are replaced by
    ``torch.compile`` d versions (dynamic shapes, since tiles at the edges differ in size).
    """
    model.eval().requires_grad_(False)
    device = resolve_device(cfg.device)
    model.to(device=device, dtype=resolve_dtype(cfg.dtype, device))
    set_frame_batch(model, cfg.frame_batch)
    if cfg.fold_copy:
        fold_copy_where_exact(model)
    if cfg.channels_last and device.type == "cpu":
        use_channels_last(model)
    if cfg.compile:
        for name in ("encode", "restore", "decode"):
            setattr(model, name, torch.compile(getattr(model, name), dynamic=True, backend=cfg.compile_backend))
    return model
