"""Static facts about each metric output name: table label, direction, ground-truth need, printed decimals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    label: str
    higher_better: bool
    needs_gt: bool
    decimals: int


# in the row order of FastVSR Table 1, then the extra metrics
METRIC_INFO: dict[str, MetricInfo] = {
    "psnr": MetricInfo("PSNR", True, True, 2),
    "ssim": MetricInfo("SSIM", True, True, 4),
    "lpips": MetricInfo("LPIPS", False, True, 4),
    "dists": MetricInfo("DISTS", False, True, 4),
    "clipiqa": MetricInfo("CLIP-IQA", True, False, 4),
    "musiq": MetricInfo("MUSIQ", True, False, 2),
    "dover": MetricInfo("DOVER", True, False, 4),
    "ewarp[raft]": MetricInfo("E*warp", False, False, 2),  # the paper's E*warp (RAFT flow), x10^-3
    "ewarp[dis]": MetricInfo("E*warp (DIS flow)", False, False, 2),  # fallback flow: not comparable with the paper
    "niqe": MetricInfo("NIQE", False, False, 2),
}
