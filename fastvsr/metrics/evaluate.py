"""Evaluate predictions on disk against ground truths on disk (what ``scripts/evaluate.py`` runs)."""

from __future__ import annotations

from pathlib import Path

from fastvsr.metrics.config import EvalConfig
from fastvsr.metrics.pairs import match_pairs
from fastvsr.metrics.protocol import evaluate_pairs
from fastvsr.metrics.registry import build_metrics
from fastvsr.metrics.results import EvalResults


def evaluate_paths(cfg: EvalConfig, pred: str | Path, gt: str | Path | None = None, method: str = "",
                   dataset: str = "", progress: bool = True) -> EvalResults:
    """Match ``pred`` with ``gt`` (clips or folders of clips), build ``cfg.metrics`` and score every pair.

    Inputs are checked before any metric is loaded. Metrics that cannot run (missing weights, no ground truth)
    are listed in ``EvalResults.missing``.

    Raises:
        InputError: missing or unmatched inputs, unreadable videos, a pred and its gt of different sizes (unless
            ``cfg.crop``) or frame counts (unless ``cfg.truncate``).
        ConfigError: unknown metric names.
    """
    pairs = match_pairs(pred, gt)
    metrics = build_metrics(cfg, with_gt=gt is not None)
    return evaluate_pairs(pairs, metrics, cfg.crop, cfg.max_frames, method=method, dataset=dataset,
                          progress=progress, truncate=cfg.truncate)
