"""Run logs: every scalar goes to ``<output_dir>/metrics.jsonl`` (one JSON object per step) and, when asked, to
wandb through accelerate's tracker (``WANDB_MODE=offline`` works without a network, ``disabled`` in tests)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from accelerate import Accelerator

from fastvsr.atomic import atomic_path
from fastvsr.train.config import Tracker

METRICS_FILE = "metrics.jsonl"


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Records of a ``metrics.jsonl`` file, in order (empty when the file does not exist)."""
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class RunLog:
    """Appends scalars per step on the main process; on resume, drops records after the resumed step.

    Args:
        accelerator: the run's accelerator (built with ``log_with="wandb"`` when ``tracker`` is wandb).
        output_dir: run folder; ``metrics.jsonl`` lives there.
        config: the resolved config as a plain dict (sent to wandb).
        tracker: ``jsonl`` or ``wandb``.
        project: wandb project name.
        resume_step: the step training resumes from, or None for a fresh run (which starts a new file).
    """

    def __init__(self, accelerator: Accelerator, output_dir: str | Path, config: dict[str, Any],
                 tracker: Tracker, project: str, resume_step: int | None = None) -> None:
        self.accelerator = accelerator
        self.path = Path(output_dir) / METRICS_FILE
        self.use_tracker = Tracker(tracker) is Tracker.WANDB
        if not accelerator.is_main_process:
            return
        kept = [r for r in read_metrics(self.path) if r["step"] <= resume_step] if resume_step is not None else []
        with atomic_path(self.path) as tmp:
            tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
        if self.use_tracker:
            accelerator.init_trackers(project, config=config, init_kwargs={"wandb": {"dir": str(output_dir)}})

    def log(self, step: int, scalars: dict[str, float]) -> None:
        """Record ``scalars`` at ``step`` (non-finite values are written as null)."""
        if not self.accelerator.is_main_process:
            return
        clean = {k: (float(v) if math.isfinite(float(v)) else None) for k, v in scalars.items()}
        with self.path.open("a") as f:
            f.write(json.dumps({"step": step, **clean}) + "\n")
        if self.use_tracker:
            self.accelerator.log(scalars, step=step)

    def close(self) -> None:
        if self.use_tracker:
            self.accelerator.end_training()
