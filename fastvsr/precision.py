"""Numeric precision, one setting for training and inference: ``auto``, ``fp32``, ``bf16`` or ``fp16``.

``auto`` is bf16 on a CUDA device that supports it and fp32 everywhere else. ``no`` (accelerate's name for
full precision) is accepted as ``fp32``. The enum imports nothing heavy (command-line parsers list its values);
torch is imported by the functions that need it.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


class Precision(str, Enum):
    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"

    @classmethod
    def _missing_(cls, value: object) -> Precision | None:
        return cls.FP32 if value == "no" else None


def concrete_precision(precision: Precision | str, device: torch.device) -> Precision:
    """``precision`` with ``auto`` resolved for ``device`` (bf16 on a bf16-capable CUDA device, else fp32)."""
    import torch

    precision = Precision(precision)
    if precision is not Precision.AUTO:
        return precision
    cuda_bf16 = device.type == "cuda" and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return Precision.BF16 if cuda_bf16 else Precision.FP32


def torch_dtype(precision: Precision | str, device: torch.device) -> torch.dtype:
    """The torch dtype of ``precision`` on ``device``."""
    import torch

    dtypes = {Precision.FP32: torch.float32, Precision.BF16: torch.bfloat16, Precision.FP16: torch.float16}
    return dtypes[concrete_precision(precision, device)]
