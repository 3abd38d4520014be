"""``Conv3d`` that calls oneDNN directly for CPU float32 inference.

PyTorch's backend choice for a 3D convolution looks only at ``N*C*T*H``: batch-1 convs with few channels or
frames go to its reference ``slow_conv3d``, several times slower than oneDNN on the same layer (6-10x on the
3-16-channel full-resolution VAE layers; 2-3x on a UNet's latent-size ``(1, 3, 3)`` and ``(3, 1, 1)`` convs).
:class:`OneDNNConv3d` is an ``nn.Conv3d`` (same parameters, same state dict) whose forward sends CPU float32
inference straight to ``torch.mkldnn_convolution``; training, autograd, other devices and dtypes, and
``torch.compile`` take the stock path. Same result up to float rounding (~1e-6).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fastvsr.ops.layout import layout_of


def onednn_inference(x: torch.Tensor) -> bool:
    """Whether to call oneDNN directly for ``x``: CPU float32 eager inference (torch.compile traces with fake
    tensors, which oneDNN's entry point does not take; inductor picks its own conv kernels)."""
    return (not torch.compiler.is_compiling() and x.device.type == "cpu" and x.dtype == torch.float32
            and not torch.is_grad_enabled() and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled)


class OneDNNConv3d(nn.Conv3d):
    """``nn.Conv3d`` on ``(B, C_in, T, H, W)`` -> ``(B, C_out, T', H', W')``; CPU float32 inference runs on
    oneDNN (see the module docstring), in the input's memory layout. Any ``padding_mode``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not onednn_inference(x) or isinstance(self.padding, str):  # "same" / "valid": the stock path
            return super().forward(x)
        padding = self.padding
        if self.padding_mode != "zeros":
            x = F.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding = (0, 0, 0)
        return self.onednn_conv(x, padding)

    def onednn_conv(self, x: torch.Tensor, padding: tuple[int, ...]) -> torch.Tensor:
        """oneDNN's convolution of ``x`` with this layer's weight, bias, stride and ``padding`` (zeros)."""
        return torch.mkldnn_convolution(x.contiguous(memory_format=layout_of(x)), self.weight, self.bias, padding,
                                        self.stride, self.dilation, self.groups)
