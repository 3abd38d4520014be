"""Colour correction of restored frames against the low-resolution input.

* AdaIN: per frame and channel, give the output the mean and standard deviation of the reference.
* Wavelet: keep the output's high frequencies and take the low frequencies from the reference (a
  dilated-Gaussian "a trous" decomposition, blurred with kornia). Diffusion restorers tend to shift colours,
  which live in the low frequencies; detail lives in the high ones.

:func:`color_fix` (the pipeline's) takes the LR input itself: AdaIN against it upsampled, the wavelet fix
computed at the input's resolution (:func:`wavelet_color_fix_lr`, within 1/255 of :func:`wavelet_color_fix`
against the bilinearly upsampled input, the full-resolution definition, at a small fraction of its cost).
``fix(x, x) == x`` up to rounding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from kornia.filters import gaussian_blur2d

from fastvsr.ops.color_fix_mode import ColorFix
from fastvsr.ops.resize import resize_video


def _check_same_shape(output: torch.Tensor, reference: torch.Tensor) -> None:
    if output.shape != reference.shape or output.ndim != 5:
        raise ValueError(
            f"colour fix needs two (B, C, T, H, W) tensors of one shape, got {tuple(output.shape)} and "
            f"{tuple(reference.shape)}"
        )


def _check_input(output: torch.Tensor, lr: torch.Tensor) -> None:
    if output.ndim != 5 or lr.ndim != 5 or lr.shape[:3] != output.shape[:3] or any(
            s > o for s, o in zip(lr.shape[-2:], output.shape[-2:], strict=True)):
        raise ValueError(f"colour fix needs an output (B, C, T, H, W) and an input (B, C, T, h, w) no larger, got "
                         f"{tuple(output.shape)} and {tuple(lr.shape)}")


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


def wavelet_low_frequency(frames: torch.Tensor, levels: int = 5, pixel_size: float = 1.0) -> torch.Tensor:
    """Low-frequency residual of an "a trous" decomposition: ``levels`` Gaussian blurs of doubling width.

    Args:
        frames: ``(N, C, H, W)`` float.
        levels: number of decomposition levels; level ``i`` blurs with sigma ``2 ** i`` (full-resolution
            pixels).
        pixel_size: full-resolution pixels per pixel of ``frames`` (``4`` for frames at a quarter of the
            output's size): the sigmas are divided by it, so the same frequencies are removed.

    Returns:
        ``(N, C, H, W)``: what is left after removing all ``levels`` high-frequency bands.
    """
    low = frames
    for level in range(levels):
        sigma = 2**level / pixel_size
        radius = min(max(math.ceil(3 * sigma - 1e-6), 1), min(frames.shape[-2:]) - 1)  # reflect needs < size
        kernel = 2 * max(radius, 1) + 1
        low = gaussian_blur2d(low, kernel, (sigma, sigma), border_type="reflect" if radius >= 1 else "replicate")
    return low


def wavelet_color_fix(output: torch.Tensor, reference: torch.Tensor, levels: int = 5) -> torch.Tensor:
    """High frequencies of ``output`` plus low frequencies of ``reference``, frame by frame (the
    full-resolution definition; the pipeline computes it at the input's resolution, :func:`wavelet_color_fix_lr`).

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


def wavelet_color_fix_lr(output: torch.Tensor, lr: torch.Tensor, levels: int = 5) -> torch.Tensor:
    """:func:`wavelet_color_fix` computed at the resolution of the input: the low frequencies of ``lr`` minus
    those of ``output`` area-downsampled to ``lr``'s size (sigmas divided by the scale), bilinearly upsampled
    and added to ``output``. The low frequencies are smooth at either resolution, so this is the
    full-resolution fix against the bilinearly upsampled ``lr`` up to ~0.6/255 on real 720p frames, with the
    blurs run on ``scale**2`` times fewer pixels.

    Args:
        output: restored video ``(B, C, T, H, W)`` float in ``[0, 1]``.
        lr: the input ``(B, C, T, h, w)``, ``h <= H`` and ``w <= W``, same range.
        levels: wavelet levels.

    Returns:
        ``(B, C, T, H, W)`` float clamped to ``[0, 1]``.
    """
    _check_input(output, lr)
    b, size, full = output.shape[0], tuple(lr.shape[-2:]), tuple(output.shape[-2:])
    pixel_size = output.shape[-1] / lr.shape[-1]
    out = rearrange(output, "b c t h w -> (b t) c h w")
    small = rearrange(lr, "b c t h w -> (b t) c h w").float()
    shrunk = out if size == full else F.interpolate(out, size=size, mode="area")
    delta = wavelet_low_frequency(small, levels, pixel_size) - wavelet_low_frequency(shrunk, levels, pixel_size)
    if size != full:
        delta = F.interpolate(delta, size=full, mode="bilinear", align_corners=False)
    return rearrange((out + delta).clamp_(0, 1), "(b t) c h w -> b c t h w", b=b)


def color_fix(output: torch.Tensor, lr: torch.Tensor, method: ColorFix | str) -> torch.Tensor:
    """Apply the colour fix named by ``method`` to ``output`` ``(B, C, T, H, W)`` against the input ``lr``
    ``(B, C, T, h, w)`` (no larger; both in ``[0, 1]``): ``adain`` against ``lr`` bilinearly upsampled,
    ``wavelet`` at ``lr``'s resolution (:func:`wavelet_color_fix_lr`), ``wavelet_full`` at the output's
    (:func:`wavelet_color_fix` against ``lr`` bilinearly upsampled), ``none`` returns ``output``."""
    method = ColorFix(method)
    if method is ColorFix.NONE:
        return output
    if method is ColorFix.WAVELET:
        return wavelet_color_fix_lr(output, lr)  # checks its inputs
    _check_input(output, lr)
    reference = lr if lr.shape == output.shape else resize_video(lr, tuple(output.shape[-2:]))
    if method is ColorFix.ADAIN:
        return adain_color_fix(output, reference)
    return wavelet_color_fix(output, reference)
