"""E*warp: temporal consistency of a video as the flow-warping error between consecutive output frames.

As in the public E*warp script DOVE and FastVSR call (after Lai et al., "Learning Blind Video Temporal
Consistency", ECCV 2018), for each consecutive pair of *output* frames ``(a, b)``:

1. both are bilinearly downsampled x0.5;
2. forward flow ``a -> b`` and backward flow ``b -> a`` are estimated (RAFT, or OpenCV DIS as the weight-free
   fallback; the output name says which: ``ewarp[raft]`` / ``ewarp[dis]``);
3. ``b`` is warped onto ``a`` with the forward flow;
4. pixels are excluded where the flows disagree (forward-backward check of Sundaram et al. 2010:
   ``|f + b_w|^2 > 0.01 (|f|^2 + |b_w|^2) + 0.5``), at motion boundaries (``|grad f|^2 > 0.01 |f|^2 + 0.002``),
   or where the flow points outside the frame;
5. error = sum of squared RGB differences over the kept pixels / number of kept pixels.

The video's score is the mean over pairs x 1000 (the tables' x10^-3 unit). No ground truth is used.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from kornia.filters import spatial_gradient

from fastvsr.metrics.base import VideoMetric
from fastvsr.metrics.flow import FlowEstimator

SCALE = 1000.0


def backward_warp(image: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``image`` at ``x + flow(x)`` (bilinear).

    Args:
        image: ``(N, C, H, W)``.
        flow: ``(N, 2, H, W)`` pixel displacements ``(dx, dy)``.

    Returns:
        the warped ``(N, C, H, W)`` image and an ``(N, 1, H, W)`` bool mask of samples that fall inside it.
    """
    n, _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=flow.device, dtype=flow.dtype),
                            torch.arange(w, device=flow.device, dtype=flow.dtype), indexing="ij")
    x, y = xs + flow[:, 0], ys + flow[:, 1]  # (N, H, W) sample positions in pixels
    grid = torch.stack((2 * x / max(w - 1, 1) - 1, 2 * y / max(h - 1, 1) - 1), dim=-1)
    warped = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return warped, inside.unsqueeze(1)


def valid_mask(forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
    """``(N, 1, H, W)`` bool: pixels of the first frame whose forward flow is trustworthy.

    Args:
        forward: ``(N, 2, H, W)`` flow first -> second frame.
        backward: ``(N, 2, H, W)`` flow second -> first frame.
    """
    backward_at_target, inside = backward_warp(backward, forward)
    round_trip = (forward + backward_at_target).pow(2).sum(1, keepdim=True)
    magnitudes = forward.pow(2).sum(1, keepdim=True) + backward_at_target.pow(2).sum(1, keepdim=True)
    inconsistent = round_trip > 0.01 * magnitudes + 0.5
    gradient = spatial_gradient(forward, mode="diff", normalized=False)  # (N, 2, 2, H, W)
    boundary = gradient.pow(2).sum(dim=(1, 2)).unsqueeze(1) > 0.01 * forward.pow(2).sum(1, keepdim=True) + 0.002
    return inside & ~inconsistent & ~boundary


def warp_errors(first: torch.Tensor, second: torch.Tensor, flow: FlowEstimator) -> torch.Tensor:
    """Per-pair warping error (unscaled) of full-resolution frame pairs.

    Args:
        first, second: ``(N, 3, H, W)`` float in ``[0, 1]``, consecutive frames.
        flow: the flow estimator.

    Returns:
        ``(N,)`` float64: mean over kept pixels of the squared RGB difference (summed over channels); NaN for a
        pair with no kept pixel.
    """
    a, b = (F.interpolate(x.float(), scale_factor=0.5, mode="bilinear", align_corners=False) for x in (first, second))
    forward, backward = flow(a, b), flow(b, a)
    a, b = a.to(forward.device), b.to(forward.device)
    warped, _ = backward_warp(b, forward)
    keep = valid_mask(forward, backward).to(a.dtype)
    squared = ((a - warped).pow(2) * keep).sum(dim=(1, 2, 3)).double()
    kept = keep.sum(dim=(1, 2, 3)).double()
    return torch.where(kept > 0, squared / kept.clamp(min=1), torch.full_like(kept, math.nan)).cpu()


class EWarp(VideoMetric):
    """E*warp (x10^-3, lower is better) of one video with the given flow estimator.

    Args:
        flow: a :class:`~fastvsr.metrics.flow.FlowEstimator`; its ``label`` goes into the metric name.
        pair_batch: frame pairs per flow call.
    """

    higher_better = False
    needs_gt = False

    def __init__(self, flow: FlowEstimator, pair_batch: int = 4) -> None:
        self.flow, self.pair_batch = flow, pair_batch
        self.name = f"ewarp[{flow.label}]"

    def score(self, pred: torch.Tensor, gt: torch.Tensor | None = None) -> float:
        frames = rearrange(pred, "c t h w -> t c h w")
        if frames.shape[0] < 2:
            return math.nan
        first, second = frames[:-1], frames[1:]  # consecutive pairs
        errors = [warp_errors(first[i:i + self.pair_batch], second[i:i + self.pair_batch], self.flow)
                  for i in range(0, first.shape[0], self.pair_batch)]
        errors = torch.cat(errors)
        return float(errors[~errors.isnan()].mean() * SCALE) if (~errors.isnan()).any() else math.nan
