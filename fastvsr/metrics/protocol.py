"""The DOVE / FastVSR evaluation protocol: align each pred/gt pair, score per frame, average per video.

* Pred and gt must have the same size and frame count. A size mismatch is an error unless cropping is asked for
  (``crop``: both clips cropped to their common size from the top-left corner or the centre); a frame-count
  mismatch is an error unless ``truncate`` is set (both cut to the common count). Every crop or cut is noted
  per clip. No border is cropped.
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


def _size(video: torch.Tensor) -> str:
    return f"{video.shape[3]}x{video.shape[2]}"


def _crop_to(video: torch.Tensor, height: int, width: int, crop: CropMode) -> torch.Tensor:
    """``video`` ``(3, T, H, W)`` cropped to ``(3, T, height, width)`` from its top-left corner or centre."""
    top = (video.shape[2] - height) // 2 if crop == CropMode.CENTER else 0
    left = (video.shape[3] - width) // 2 if crop == CropMode.CENTER else 0
    return video[:, :, top:top + height, left:left + width]


def align_pair(pred: torch.Tensor, gt: torch.Tensor, crop: CropMode = CropMode.NONE, truncate: bool = False,
               name: str = "clip") -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Check that two ``(3, T, H, W)`` clips match, cropping or truncating them only when asked to.

    Args:
        pred, gt: the clips.
        crop: ``NONE`` refuses different sizes; ``TOPLEFT`` / ``CENTER`` crop both to their common size.
        truncate: cut both to their common frame count when the counts differ.
        name: the clip's name, for the messages.

    Returns:
        ``(pred, gt, notes)``: the clips with equal shapes, and one note per crop or cut applied.

    Raises:
        InputError: the sizes differ and ``crop`` is ``NONE``, or the frame counts differ and ``truncate`` is off.
    """
    crop, notes = CropMode(crop), []
    if pred.shape[2:] != gt.shape[2:]:
        h, w = min(pred.shape[2], gt.shape[2]), min(pred.shape[3], gt.shape[3])
        if crop == CropMode.NONE:
            raise InputError(f"clip '{name}': prediction is {_size(pred)} but ground truth is {_size(gt)}; pass "
                             f"--crop topleft or --crop center to score both cropped to {w}x{h}")
        notes.append(f"{name}: prediction {_size(pred)} and ground truth {_size(gt)} cropped ({crop.value}) "
                     f"to {w}x{h}")
        pred, gt = _crop_to(pred, h, w, crop), _crop_to(gt, h, w, crop)
    if pred.shape[1] != gt.shape[1]:
        t = min(pred.shape[1], gt.shape[1])
        if not truncate:
            raise InputError(f"clip '{name}': prediction has {pred.shape[1]} frames but ground truth has "
                             f"{gt.shape[1]}; pass --truncate to score the first {t} of both")
        notes.append(f"{name}: prediction ({pred.shape[1]} frames) and ground truth ({gt.shape[1]}) truncated "
                     f"to {t} frames")
        pred, gt = pred[:, :t], gt[:, :t]
    return pred, gt, notes


def evaluate_video(pred: torch.Tensor, gt: torch.Tensor | None, metrics: Sequence[VideoMetric],
                   crop: CropMode = CropMode.NONE, truncate: bool = False, name: str = "clip",
                   notes: list[str] | None = None) -> dict[str, float]:
    """Score one clip with every metric.

    Args:
        pred: ``(3, T, H, W)`` float in ``[0, 1]``.
        gt: ``(3, T', H', W')`` float in ``[0, 1]`` or None (no-reference metrics only); it must match ``pred``
            unless ``crop`` / ``truncate`` allow the difference (:func:`align_pair`).
        metrics: built metrics.
        crop, truncate: what to do when the shapes differ (:func:`align_pair`).
        name: the clip's name, for messages and notes.
        notes: when given, remarks on this clip are appended to it (crop or cut applied, frames at PSNR's
            ceiling), each starting with ``name``.

    Returns:
        metric name -> the video's score.

    Raises:
        InputError: a clip is malformed, or pred and gt differ in a way not allowed.
    """
    pred = check_clip(pred, f"{name}: prediction")
    remarks = []
    if gt is not None:
        pred, gt, remarks = align_pair(pred, check_clip(gt, f"{name}: ground truth"), crop, truncate, name)
    scores = {}
    for metric in metrics:
        if metric.needs_gt and gt is None:
            raise InputError(f"{metric.name} needs the ground truth, none was given")
        scores[metric.name], metric_notes = metric.score_with_notes(pred, gt if metric.needs_gt else None)
        remarks += [f"{name}: {note}" for note in metric_notes]
    if notes is not None:
        notes.extend(remarks)
    return scores


def evaluate_batch(pred: torch.Tensor, gt: torch.Tensor | None, metrics: Sequence[VideoMetric],
                   crop: CropMode = CropMode.NONE, truncate: bool = False,
                   notes: list[str] | None = None) -> list[dict[str, float]]:
    """:func:`evaluate_video` for each clip of a ``(B, 3, T, H, W)`` batch (``gt`` the same or None); clip ``i``
    is named ``clip i`` in messages and ``notes``."""
    if pred.ndim != 5 or (gt is not None and (gt.ndim != 5 or gt.shape[0] != pred.shape[0])):
        raise InputError(f"expected (B, 3, T, H, W) batches, got {tuple(pred.shape)}"
                         f"{'' if gt is None else f' and {tuple(gt.shape)}'}")
    return [evaluate_video(pred[i], None if gt is None else gt[i], metrics, crop, truncate, f"clip {i}", notes)
            for i in range(pred.shape[0])]


def load_clip(source: Path | torch.Tensor, max_frames: int = 0) -> torch.Tensor:
    """A ``(3, T, H, W)`` float ``[0, 1]`` clip from a tensor or a path (video, image, folder of frames)."""
    if isinstance(source, torch.Tensor):
        return source[:, :max_frames] if max_frames else source
    from fastvsr.data.video import read_video

    frames, _ = read_video(source, num_frames=max_frames or None)
    return frames


def evaluate_pairs(pairs: Iterable[VideoPair], metrics: MetricSet, crop: CropMode = CropMode.NONE,
                   max_frames: int = 0, method: str = "", dataset: str = "", progress: bool = True,
                   truncate: bool = False) -> EvalResults:
    """Score every pair and collect per-video rows and the summary.

    Args:
        pairs: the videos (paths or tensors).
        metrics: from :func:`fastvsr.metrics.registry.build_metrics`; its missing metrics are carried into the
            results as missing.
        crop, truncate: what to do when a pred and its gt differ in size or frame count (:func:`align_pair`).
        max_frames: use only the first N frames of each clip (0 = all).
        method, dataset: labels for the summary and the tables.
        progress: show a tqdm bar.

    Returns:
        :class:`EvalResults` (per-video scores, means, missing metrics with reasons, notes: the metrics' and
        one per clip that was cropped, truncated or had frames at PSNR's ceiling).

    Raises:
        InputError: a clip cannot be read, or a pred and its gt differ in a way not allowed.
    """
    pairs = list(pairs)
    results = EvalResults(method=method, dataset=dataset, metric_names=metrics.names,
                          missing=dict(metrics.missing), notes=list(metrics.notes))
    for pair in tqdm(pairs, desc="evaluate", unit="video", disable=not progress):
        pred = load_clip(pair.pred, max_frames)
        gt = load_clip(pair.gt, max_frames) if pair.gt is not None else None
        results.add(pair.name, evaluate_video(pred, gt, metrics.metrics, crop, truncate, pair.name, results.notes))
    return results
