"""What every metric is: a per-video score, and the per-frame specialisation most metrics use.

Protocol (DOVE / FastVSR): frame metrics score each frame, the video's score is the mean over its frames; the
benchmark score is the mean over videos (done by the caller, :mod:`fastvsr.metrics.protocol`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from einops import rearrange


class VideoMetric(ABC):
    """A metric that gives one number per video.

    Attributes:
        name: the name used in outputs (``"psnr"``, ``"ewarp[dis]"``).
        higher_better: direction of "better".
        needs_gt: full-reference (needs the ground truth) or no-reference.
    """

    name: str
    higher_better: bool
    needs_gt: bool

    @abstractmethod
    def score(self, pred: torch.Tensor, gt: torch.Tensor | None) -> float:
        """Score one video.

        Args:
            pred: ``(3, T, H, W)`` float in ``[0, 1]``, the restored video.
            gt: ``(3, T, H, W)`` float in ``[0, 1]`` of the same shape (full-reference metrics), else None.
        """

    def score_with_notes(self, pred: torch.Tensor, gt: torch.Tensor | None) -> tuple[float, list[str]]:
        """:meth:`score` and remarks on this video for the summary's notes (none by default)."""
        return self.score(pred, gt), []


class FrameMetric(VideoMetric):
    """A metric computed per frame and averaged over the video's frames (frames go in batches)."""

    def __init__(self, frame_batch: int = 4) -> None:
        self.frame_batch = frame_batch

    @abstractmethod
    def score_frames(self, pred: torch.Tensor, gt: torch.Tensor | None) -> torch.Tensor:
        """Per-frame scores.

        Args:
            pred: ``(N, 3, H, W)`` float in ``[0, 1]``.
            gt: ``(N, 3, H, W)`` float in ``[0, 1]``, or None for no-reference metrics.

        Returns:
            ``(N,)`` float64 scores.
        """

    def per_frame(self, pred: torch.Tensor, gt: torch.Tensor | None) -> torch.Tensor:
        """``(T,)`` float64 scores of the frames of one ``(3, T, H, W)`` video (and its ``gt``)."""
        frames = rearrange(pred, "c t h w -> t c h w")
        refs = rearrange(gt, "c t h w -> t c h w") if gt is not None else None
        scores = []
        for start in range(0, frames.shape[0], self.frame_batch):
            stop = start + self.frame_batch
            batch_ref = refs[start:stop] if refs is not None else None
            with torch.no_grad():
                scores.append(self.score_frames(frames[start:stop], batch_ref).reshape(-1).double().cpu())
        return torch.cat(scores)

    def frame_notes(self, scores: torch.Tensor) -> list[str]:
        """Remarks on one video's ``(T,)`` per-frame scores for the summary's notes (none by default)."""
        return []

    def score(self, pred: torch.Tensor, gt: torch.Tensor | None) -> float:
        return float(self.per_frame(pred, gt).mean())

    def score_with_notes(self, pred: torch.Tensor, gt: torch.Tensor | None) -> tuple[float, list[str]]:
        scores = self.per_frame(pred, gt)
        return float(scores.mean()), self.frame_notes(scores)
