"""DOVER (Wu et al. 2023) through a local checkout of the official repository; there is no pip package.

The DOVE / FastVSR protocol scores each output with the official ``VQAssessment/DOVER`` code after writing its
frames as a lossless (libx264rgb) video at 8 fps. This hook does exactly that and nothing more: it writes the
lossless video (``fastvsr.data.writer``), runs ``dover_command`` (default ``python evaluate_one_video.py -v {video}
-f``) inside ``dover_root``, and takes the last number the command prints as the score. Without a configured
checkout holding ``pretrained_weights/DOVER.pth`` the metric is reported missing.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
from pathlib import Path

import torch

from fastvsr.errors import ConfigError, WeightsMissingError
from fastvsr.metrics.base import VideoMetric

DOVER_WEIGHTS = "pretrained_weights/DOVER.pth"
DOVER_FPS = 8
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


class DoverCommand(VideoMetric):
    """DOVER's fused score (0-1, higher is better) from the official code, run as a command per video.

    Args:
        root: the DOVER checkout (must hold ``pretrained_weights/DOVER.pth``).
        command: command line with a ``{video}`` placeholder, run with ``root`` as working folder.

    Raises:
        WeightsMissingError: no checkout configured, or its weights file is absent.
    """

    name = "dover"
    higher_better = True
    needs_gt = False

    def __init__(self, root: str | Path, command: str) -> None:
        if not str(root):
            raise WeightsMissingError("dover: no DOVER checkout configured (set dover_root to a local clone of "
                                      f"VQAssessment/DOVER with {DOVER_WEIGHTS})")
        self.root, self.command = Path(root).expanduser(), command
        if not (self.root / DOVER_WEIGHTS).is_file():
            raise WeightsMissingError(f"dover: weights not found: {self.root / DOVER_WEIGHTS}")
        if "{video}" not in command:
            raise ConfigError(f"dover_command must contain {{video}}, got '{command}'")

    def score(self, pred: torch.Tensor, gt: torch.Tensor | None = None) -> float:
        from fastvsr.data.writer import write_video

        with tempfile.TemporaryDirectory(prefix="fastvsr-dover-") as tmp:
            video = write_video(Path(tmp) / "pred.mp4", pred, DOVER_FPS, lossless=True)
            args = [part.replace("{video}", str(video)) for part in shlex.split(self.command)]
            run = subprocess.run(args, cwd=self.root, capture_output=True, text=True)
        numbers = NUMBER.findall(run.stdout)
        if run.returncode != 0 or not numbers:
            why = (run.stderr.strip().splitlines() or ["no number in its output"])[-1]
            raise ConfigError(f"dover: '{self.command}' failed in {self.root} (exit {run.returncode}): {why}")
        return float(numbers[-1])
