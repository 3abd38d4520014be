"""DOVER (Wu et al. 2023) through a local checkout of the official repository; there is no pip package.

The DOVE / FastVSR protocol scores each output with the official ``VQAssessment/DOVER`` code after writing its
frames as a lossless (libx264rgb, crf 0) video at 8 fps. This hook does exactly that and nothing more: it writes
the lossless video, runs ``dover_command`` (default ``python evaluate_one_video.py -v {video} -f``) inside
``dover_root``, and takes the last number the command prints as the score. Without a configured checkout holding
``pretrained_weights/DOVER.pth`` the metric is reported missing.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import torch
from einops import rearrange

from fastvsr.errors import ConfigError, WeightsMissingError
from fastvsr.metrics.base import VideoMetric

DOVER_WEIGHTS = "pretrained_weights/DOVER.pth"
DOVER_FPS = 8
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def write_lossless_video(video: torch.Tensor, path: Path, fps: int = DOVER_FPS) -> Path:
    """Write ``(3, T, H, W)`` float ``[0, 1]`` frames as lossless RGB H.264 (libx264rgb, crf 0) with PyAV."""
    frames = (rearrange(video, "c t h w -> t h w c").clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264rgb", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "rgb24"
        stream.options = {"crf": "0"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


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
        with tempfile.TemporaryDirectory(prefix="fastvsr-dover-") as tmp:
            video = write_lossless_video(pred, Path(tmp) / "pred.mp4")
            args = [part.replace("{video}", str(video)) for part in shlex.split(self.command)]
            run = subprocess.run(args, cwd=self.root, capture_output=True, text=True)
        numbers = NUMBER.findall(run.stdout)
        if run.returncode != 0 or not numbers:
            why = (run.stderr.strip().splitlines() or ["no number in its output"])[-1]
            raise ConfigError(f"dover: '{self.command}' failed in {self.root} (exit {run.returncode}): {why}")
        return float(numbers[-1])
