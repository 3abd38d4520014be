"""The DOVE / FastVSR evaluation protocol: align each pred/gt pair, score per frame, average per video.

* Both clips are truncated to their common frame count and cropped to their common size (top-left by
  default, or centre); no border is cropped.
* Frame metrics average their per-frame scores over the video; the benchmark number is the mean over videos
  (:class:`~fastvsr.metrics.results.EvalResults`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from fastvsr.errors import InputError
from fastvsr.metrics.base import VideoMetric
from fastvsr.metrics.config import CropMode
from fastvsr.metrics.registry import MetricSet
from fastvsr.metrics.results import EvalResults

RANGE_TOLERANCE = 1e-3


@dataclass
class VideoPair:
    """One video to score: a name, the prediction and (for full-reference metrics) its ground truth.

    ``pred`` / ``gt`` are paths (video file, image, or folder of frames) or ``(3, T, H, W)`` float ``[0, 1]``
    tensors.
    """

    name: str
    pred: Path | torch.Tensor
    gt: Path | torch.Tensor | None = None


def check_clip(video: torch.Tensor, what: str) -> torch.Tensor:
    """Validate a ``(3, T, H, W)`` float clip in ``[0, 1]``; returns it as float32."""
    if video.ndim != 4 or video.shape[0] != 3:
        raise InputError(f"{what}: expected a (3, T, H, W) clip, got shape {tuple(video.shape)}")
    if not video.is_floating_point():
        raise InputError(f"{what}: expected float pixels in [0, 1], got {video.dtype}")
    if video.shape[1] == 0:
        raise InputError(f"{what}: the clip has no frames")
    lo, hi = float(video.min()), float(video.max())
    if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
        raise InputError(f"{what}: pixels must lie in [0, 1], got [{lo:.3g}, {hi:.3g}]")
    return video.float()


def align_pair(pred: torch.Tensor, gt: torch.Tensor, crop: CropMode = CropMode.TOPLEFT) -> tuple[torch.Tensor, ...]:
    """Truncate two ``(3, T, H, W)`` clips to the common frame count and crop them to the common size."""
    t = min(pred.shape[1], gt.shape[1])
    h, w = min(pred.shape[2], gt.shape[2]), min(pred.shape[3], gt.shape[3])

    def crop_clip(video: torch.Tensor) -> torch.Tensor:
        top = (video.shape[2] - h) // 2 if crop == CropMode.CENTER else 0
        left = (video.shape[3] - w) // 2 if crop == CropMode.CENTER else 0
        return video[:, :t, top:top + h, left:left + w]

    return crop_clip(pred), crop_clip(gt)


def evaluate_video(pred: torch.Tensor, gt: torch.Tensor | None, metrics: Sequence[VideoMetric],
                   crop: CropMode = CropMode.TOPLEFT) -> dict[str, float]:
    """Score one clip with every metric.

    Args:
        pred: ``(3, T, H, W)`` float in ``[0, 1]``.
        gt: ``(3, T', H', W')`` float in ``[0, 1]`` or None (no-reference metrics only).
        metrics: built metrics.
        crop: where to crop to the common size.

    Returns:
        metric name -> the video's score.
    """
    pred = check_clip(pred, "prediction")
    if gt is not None:
        pred, gt = align_pair(pred, check_clip(gt, "ground truth"), crop)
    scores = {}
    for metric in metrics:
        if metric.needs_gt and gt is None:
            raise InputError(f"{metric.name} needs the ground truth, none was given")
        scores[metric.name] = metric.score(pred, gt if metric.needs_gt else None)
    return scores


def evaluate_batch(pred: torch.Tensor, gt: torch.Tensor | None, metrics: Sequence[VideoMetric],
                   crop: CropMode = CropMode.TOPLEFT) -> list[dict[str, float]]:
    """:func:`evaluate_video` for each clip of a ``(B, 3, T, H, W)`` batch (``gt`` the same or None)."""
    if pred.ndim != 5 or (gt is not None and (gt.ndim != 5 or gt.shape[0] != pred.shape[0])):
        raise InputError(f"expected (B, 3, T, H, W) batches, got {tuple(pred.shape)}"
                         f"{'' if gt is None else f' and {tuple(gt.shape)}'}")
    return [evaluate_video(pred[i], None if gt is None else gt[i], metrics, crop) for i in range(pred.shape[0])]


def load_clip(source: Path | torch.Tensor, max_frames: int = 0) -> torch.Tensor:
    """A ``(3, T, H, W)`` float ``[0, 1]`` clip from a tensor or a path (video, image, folder of frames)."""
    if isinstance(source, torch.Tensor):
        return source[:, :max_frames] if max_frames else source
    from fastvsr.data.video import read_video

    frames, _ = read_video(source, num_frames=max_frames or None)
    return frames


def evaluate_pairs(pairs: Iterable[VideoPair], metrics: MetricSet, crop: CropMode = CropMode.TOPLEFT,
                   max_frames: int = 0, method: str = "", dataset: str = "", progress: bool = True) -> EvalResults:
    """Score every pair and collect per-video rows and the summary.

    Args:
        pairs: the videos (paths or tensors).
        metrics: from :func:`fastvsr.metrics.registry.build_metrics`; its missing metrics are carried into the
            results as missing.
        crop: where to crop pred/gt to their common size.
        max_frames: use only the first N frames of each clip (0 = all).
        method, dataset: labels for the summary and the tables.
        progress: show a tqdm bar.

    Returns:
        :class:`EvalResults` (per-video scores, means, missing metrics with reasons, notes).
    """
    pairs = list(pairs)
    results = EvalResults(method=method, dataset=dataset, metric_names=metrics.names,
                          missing=dict(metrics.missing), notes=list(metrics.notes))
    for pair in tqdm(pairs, desc="evaluate", unit="video", disable=not progress):
        pred = load_clip(pair.pred, max_frames)
        gt = load_clip(pair.gt, max_frames) if pair.gt is not None else None
        results.add(pair.name, evaluate_video(pred, gt, metrics.metrics, crop))
    return results
