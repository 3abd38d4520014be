"""Evaluation results: per-video scores, means over videos, missing metrics; written as CSV + JSON."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastvsr.atomic import atomic_path, check_output_path

CSV_NAME = "per_video.csv"
JSON_NAME = "summary.json"


def _mean(values: list[float]) -> float:
    """Mean over videos, ignoring NaN (a video too short for the metric); NaN when nothing is left."""
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


@dataclass
class EvalResults:
    """Scores of a set of videos.

    Attributes:
        method, dataset: labels used by the tables.
        metric_names: computed metrics, in order.
        rows: ``(video name, {metric: score})`` in evaluation order.
        missing: requested metric -> why it was not computed (never estimated).
        notes: remarks (e.g. which flow E*warp used).
    """

    method: str = ""
    dataset: str = ""
    metric_names: list[str] = field(default_factory=list)
    rows: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, scores: dict[str, float]) -> None:
        self.rows.append((name, scores))

    def means(self) -> dict[str, float]:
        """Metric -> mean over videos of the per-video scores."""
        return {m: _mean([scores[m] for _, scores in self.rows]) for m in self.metric_names}

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (NaN means become null)."""
        means = {m: (None if math.isnan(v) else v) for m, v in self.means().items()}
        return {"method": self.method, "dataset": self.dataset, "num_videos": len(self.rows), "metrics": means,
                "missing": self.missing, "notes": self.notes, "videos": [name for name, _ in self.rows]}


def result_paths(out_dir: str | Path, overwrite: bool = False) -> tuple[Path, Path]:
    """``(per_video.csv, summary.json)`` paths in ``out_dir``, checked before any work is done.

    Raises:
        OutputError: the files exist and ``overwrite`` is False, or the folder cannot be created.
    """
    return (check_output_path(Path(out_dir) / CSV_NAME, overwrite),
            check_output_path(Path(out_dir) / JSON_NAME, overwrite))


def write_results(results: EvalResults, out_dir: str | Path, overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``per_video.csv`` (one row per video, one column per metric) and ``summary.json`` atomically.

    Raises:
        OutputError: the files exist and ``overwrite`` is False, or the folder cannot be created.
    """
    csv_path, json_path = result_paths(out_dir, overwrite)
    with atomic_path(csv_path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video", *results.metric_names])
        for name, scores in results.rows:
            writer.writerow([name, *(repr(scores[m]) for m in results.metric_names)])
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(results.summary(), indent=2) + "\n")
    return csv_path, json_path
