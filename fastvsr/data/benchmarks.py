"""Paired benchmark sets on disk: UDM10, SPMCS, YouHQ40, RealVSR, MVSR4x (LQ + GT) and VideoLQ (LQ only).

Standard layout (as DOVE ships them under ``datasets/test/<Name>/``): a folder per set holding an LQ folder
(``LQ`` or ``LQ-Video``) and, with ground truth, a GT folder (``GT`` or ``GT-Video``). Each holds one clip per
entry, a video file or a folder of frames; LQ and GT clips are matched by name without suffix
(``calendar.mp4`` <-> ``calendar/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from fastvsr.data.clips import list_clips, listed
from fastvsr.data.video import read_video
from fastvsr.errors import InputError


@dataclass(frozen=True)
class BenchmarkSpec:
    """Where a benchmark's clips live below its root and how much its LQ is upscaled to GT size.

    Attributes:
        folder: the set's folder name below the benchmarks root.
        lq_folders: candidate LQ sub-folders, the first that exists is used.
        gt_folders: candidate GT sub-folders; empty for sets without ground truth.
        scale: GT size / LQ size (4; 1 for RealVSR and MVSR4x, whose LQ is GT-sized).
    """

    folder: str
    lq_folders: tuple[str, ...] = ("LQ", "LQ-Video")
    gt_folders: tuple[str, ...] = ("GT", "GT-Video")
    scale: int = 4

    @property
    def has_gt(self) -> bool:
        return bool(self.gt_folders)


BENCHMARKS: dict[str, BenchmarkSpec] = {
    "udm10": BenchmarkSpec("UDM10"),
    "spmcs": BenchmarkSpec("SPMCS"),
    "youhq40": BenchmarkSpec("YouHQ40"),
    "realvsr": BenchmarkSpec("RealVSR", scale=1),
    "mvsr4x": BenchmarkSpec("MVSR4x", scale=1),
    "videolq": BenchmarkSpec("VideoLQ", gt_folders=()),
}


@dataclass(frozen=True)
class ClipPair:
    """One benchmark clip: its name, LQ clip and GT clip (``None`` without ground truth)."""

    name: str
    lq: Path
    gt: Path | None


def get_spec(name: str) -> BenchmarkSpec:
    """The registry entry for ``name`` (case-insensitive). Raises :class:`InputError` for unknown names."""
    spec = BENCHMARKS.get(name.lower())
    if spec is None:
        raise InputError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return spec


def _first_folder(root: Path, candidates: tuple[str, ...], label: str, name: str) -> Path:
    for candidate in candidates:
        if (root / candidate).is_dir():
            return root / candidate
    raise InputError(f"{name}: no {label} folder in {root} (expected one of {', '.join(candidates)})")


def pair_benchmark(name: str, root: str | Path) -> list[ClipPair]:
    """Match the LQ and GT clips of benchmark ``name`` under ``root`` (the folder holding ``<Name>/``, or the
    set's own folder).

    Raises:
        InputError: unknown name, missing folders, no clips, or clips without a partner, e.g.
            ``udm10: 2 GT clips have no LQ: foo, bar``.
    """
    key, spec = name.lower(), get_spec(name)
    base = Path(root) / spec.folder if (Path(root) / spec.folder).is_dir() else Path(root)
    lq = list_clips(_first_folder(base, spec.lq_folders, "LQ", key))
    if not lq:
        raise InputError(f"{key}: no LQ clips (videos or frame folders) in {base}")
    if not spec.has_gt:
        return [ClipPair(n, path, None) for n, path in lq.items()]
    gt = list_clips(_first_folder(base, spec.gt_folders, "GT", key))
    for missing, have, lacking in ((sorted(set(gt) - set(lq)), "GT", "LQ"), (sorted(set(lq) - set(gt)), "LQ", "GT")):
        if missing:
            raise InputError(f"{key}: {len(missing)} {have} clips have no {lacking}: {listed(missing)}")
    return [ClipPair(n, lq[n], gt[n]) for n in lq]


class BenchmarkDataset(Dataset):
    """Whole clips of a benchmark: ``{"lq": (3, T, h, w), "gt": (3, T, h * scale, w * scale) (sets with GT
    only), "name": str, "scale": int}``, floats in ``[0, 1]``.

    Raises:
        InputError: (on construction) see :func:`pair_benchmark`; (on access) LQ and GT frame counts differ.
    """

    def __init__(self, name: str, root: str | Path, max_frames: int | None = None) -> None:
        self.spec = get_spec(name)
        self.key = name.lower()
        self.pairs = pair_benchmark(name, root)
        self.max_frames = max_frames

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | str | int]:
        pair = self.pairs[index]
        lq, _ = read_video(pair.lq, num_frames=self.max_frames)
        item: dict[str, torch.Tensor | str | int] = {"lq": lq, "name": pair.name, "scale": self.spec.scale}
        if pair.gt is not None:
            gt, _ = read_video(pair.gt, num_frames=self.max_frames)
            if gt.shape[1] != lq.shape[1]:
                raise InputError(f"{self.key}/{pair.name}: LQ has {lq.shape[1]} frames but GT has {gt.shape[1]}")
            item["gt"] = gt
        return item
