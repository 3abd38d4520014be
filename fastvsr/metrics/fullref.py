"""PSNR and SSIM, the two weight-free full-reference metrics, written to match pyiqa's ``psnr`` and ``ssim``.

They are written here (a few lines on top of kornia's Gaussian filtering) so fidelity numbers need neither the
optional pyiqa install nor its ~3 s import; ``tests/test_metrics.py`` checks them against pyiqa.

* PSNR: on RGB, data range 1, ``10 log10(1 / (MSE + 1e-8))`` per frame: pyiqa's ``psnr`` formula, so an
  identical frame scores a finite 80 dB (:data:`PSNR_CEILING`) instead of ``inf``, and a video's mean stays
  finite. The ``1e-8`` shifts a 40 dB frame by 4e-4 dB.
* SSIM: pyiqa's default ``ssim``: the Y (luma, BT.601 ``0.299 R + 0.587 G + 0.114 B``) channel scaled to
  ``[0, 255]`` and rounded like an 8-bit image, an 11x11 Gaussian window (sigma 1.5, applied separably) over the
  valid region only, ``C1 = (0.01 * 255)^2``, ``C2 = (0.03 * 255)^2``, the contrast-structure term clipped at
  0, float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from kornia.filters import filter2d_separable, get_gaussian_kernel1d

from fastvsr.errors import InputError
from fastvsr.metrics.base import FrameMetric

LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # BT.601 luma, the Y of YIQ that pyiqa's ssim uses
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
PSNR_EPS = 1e-8  # added to the MSE, as pyiqa does
PSNR_CEILING = 10.0 * math.log10(1.0 / PSNR_EPS)  # 80 dB: the PSNR of an identical frame


def psnr(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB on RGB with data range 1.

    Args:
        pred, gt: ``(N, 3, H, W)`` float in ``[0, 1]``.

    Returns:
        ``(N,)`` float64 in ``(0, 80]`` dB; :data:`PSNR_CEILING` (80) where the images are identical.
    """
    mse = (pred.double() - gt.double()).pow(2).mean(dim=(1, 2, 3))
    return 10.0 * torch.log10(1.0 / (mse + PSNR_EPS))


def luma_255(images: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` RGB in ``[0, 1]`` -> ``(N, 1, H, W)`` float64 luma in ``[0, 255]``, rounded to integers.

    Computed in the input's precision before rounding, as pyiqa does, so rounding ties break the same way.
    """
    weights = torch.tensor(LUMA_WEIGHTS, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return ((images * weights).sum(dim=1, keepdim=True) * 255.0).round().double()


def ssim(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM on the Y channel (pyiqa ``ssim`` defaults, no downsampling, no border crop).

    Args:
        pred, gt: ``(N, 3, H, W)`` float in ``[0, 1]``, ``H, W >= 11``.

    Returns:
        ``(N,)`` float64 in ``[0, 1]`` (1 for identical images).
    """
    if min(pred.shape[-2:]) < SSIM_WINDOW:
        raise InputError(f"SSIM needs frames of at least {SSIM_WINDOW}x{SSIM_WINDOW}, got {tuple(pred.shape[-2:])}")
    x, y = luma_255(pred), luma_255(gt)
    window = get_gaussian_kernel1d(SSIM_WINDOW, SSIM_SIGMA, dtype=torch.float64, device=x.device)  # (1, 11)
    # the five local moments in one separable Gaussian pass: (N, 5, H - 10, W - 10)
    moments = filter2d_separable(torch.cat([x, y, x * x, y * y, x * y], dim=1), window, window, padding="valid")
    mu_x, mu_y, xx, yy, xy = moments.unbind(dim=1)
    var_x, var_y, cov = xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    contrast_structure = torch.relu((2 * cov + c2) / (var_x + var_y + c2))
    luminance = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    return (luminance * contrast_structure).mean(dim=(1, 2))


class FullReferenceMetric(FrameMetric):
    """A per-frame full-reference function (``psnr``, ``ssim``; higher is better) as a video metric."""

    higher_better = True
    needs_gt = True

    def __init__(self, name: str, function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 frame_batch: int = 4) -> None:
        super().__init__(frame_batch)
        self.name, self.function = name, function

    def score_frames(self, pred: torch.Tensor, gt: torch.Tensor | None) -> torch.Tensor:
        return self.function(pred, gt)


class PSNRMetric(FullReferenceMetric):
    """PSNR per frame, averaged over the video; frames identical to the ground truth (scored
    :data:`PSNR_CEILING`) are counted in the video's notes."""

    def __init__(self, frame_batch: int = 4) -> None:
        super().__init__("psnr", psnr, frame_batch)

    def frame_notes(self, scores: torch.Tensor) -> list[str]:
        identical = int((scores >= PSNR_CEILING).sum())
        if not identical:
            return []
        note = f"psnr: {identical} of {scores.numel()} frames identical to the ground truth, each scored "
        return [note + f"{PSNR_CEILING:g} dB"]
