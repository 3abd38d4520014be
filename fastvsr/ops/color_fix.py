"""Colour correction of restored frames against the (upsampled) low-resolution input.

* AdaIN: per frame and channel, give the output the mean and standard deviation of the reference.
* Wavelet: keep the output's high frequencies and take the low frequencies from the reference (a
  dilated-Gaussian "a trous" decomposition, blurred with kornia). Diffusion restorers tend to shift colours,
  which live in the low frequencies; detail lives in the high ones.

Both take tensors of the same shape; ``fix(x, x) == x`` up to rounding.
"""

from __future__ import annotations

import torch
from einops import rearrange
from kornia.filters import gaussian_blur2d

from fastvsr.ops.color_fix_mode import ColorFix


def _check_same_shape(output: torch.Tensor, reference: torch.Tensor) -> None:
    if output.shape != reference.shape or output.ndim != 5:
        raise ValueError(
            f"colour fix needs two (B, C, T, H, W) tensors of one shape, got {tuple(output.shape)} and "
            f"{tuple(reference.shape)}"
        )


def adain_color_fix(output: torch.Tensor, reference: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Match each frame's per-channel mean and standard deviation to the reference's.

    Args:
        output, reference: ``(B, C, T, H, W)`` float in ``[0, 1]``, same shape.

    Returns:
        ``(B, C, T, H, W)`` float clamped to ``[0, 1]``.
    """
    _check_same_shape(output, reference)
    dims = (-2, -1)
    out_std, out_mean = torch.std_mean(output, dim=dims, keepdim=True, correction=0)
    ref_std, ref_mean = torch.std_mean(reference, dim=dims, keepdim=True, correction=0)
    return ((output - out_mean) * (ref_std / (out_std + eps)) + ref_mean).clamp(0, 1)


def wavelet_low_frequency(frames: torch.Tensor, levels: int = 5) -> torch.Tensor:
    """Low-frequency residual of an "a trous" decomposition: ``levels`` Gaussian blurs of doubling width.

    Args:
        frames: ``(N, C, H, W)`` float.
        levels: number of decomposition levels; level ``i`` blurs with sigma ``2 ** i``.

    Returns:
        ``(N, C, H, W)``: what is left after removing all ``levels`` high-frequency bands.
    """
    low = frames
    for level in range(levels):
        sigma = float(2**level)
        radius = min(int(3 * sigma), (min(frames.shape[-2:]) - 1))  # reflect border needs radius < size
        kernel = 2 * max(radius, 1) + 1
        low = gaussian_blur2d(low, kernel, (sigma, sigma), border_type="reflect" if radius >= 1 else "replicate")
    return low


def wavelet_color_fix(output: torch.Tensor, reference: torch.Tensor, levels: int = 5) -> torch.Tensor:
    """High frequencies of ``output`` plus low frequencies of ``reference``, frame by frame.

    Args:
        output: restored video ``(B, C, T, H, W)`` float in ``[0, 1]``.
        reference: the LR input resized to the output size, same shape and range.
        levels: wavelet levels (coarser colour transfer with more levels).

    Returns:
        ``(B, C, T, H, W)`` float clamped to ``[0, 1]``.
    """
    _check_same_shape(output, reference)
    b = output.shape[0]
    out = rearrange(output, "b c t h w -> (b t) c h w")
    ref = rearrange(reference, "b c t h w -> (b t) c h w")
    fixed = out - wavelet_low_frequency(out, levels) + wavelet_low_frequency(ref, levels)
    return rearrange(fixed.clamp(0, 1), "(b t) c h w -> b c t h w", b=b)


def color_fix(output: torch.Tensor, reference: torch.Tensor, method: ColorFix | str) -> torch.Tensor:
    """Apply the colour fix named by ``method`` (``"none"`` returns ``output`` unchanged)."""
    method = ColorFix(method)
    if method is ColorFix.ADAIN:
        return adain_color_fix(output, reference)
    if method is ColorFix.WAVELET:
        return wavelet_color_fix(output, reference)
    return output
