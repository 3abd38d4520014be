"""Match predictions to ground truths on disk: one clip, or folders of clips matched by name.

A clip is a video file or a folder of frame images. ``--pred`` / ``--gt`` are either one clip each, or folders
whose entries are clips; entries are matched by name without extension (``calendar.mp4`` <-> ``calendar/``).
"""

from __future__ import annotations

from pathlib import Path

from fastvsr.data.frames import list_frame_files
from fastvsr.errors import InputError
from fastvsr.metrics.protocol import VideoPair

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".y4m"}  # containers PyAV reads
MAX_LISTED = 3


def _is_frame_folder(path: Path) -> bool:
    return path.is_dir() and bool(list_frame_files(path))


def is_clip(path: Path) -> bool:
    """A video file or a folder holding frame images directly."""
    return (path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES) or _is_frame_folder(path)


def list_clips(folder: Path) -> dict[str, Path]:
    """Name (without extension) -> clip path for every clip directly inside ``folder``."""
    clips: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not is_clip(entry):
            continue
        name = entry.stem if entry.is_file() else entry.name
        if name in clips:
            raise InputError(f"two clips named '{name}' in {folder}: {clips[name].name} and {entry.name}")
        clips[name] = entry
    return clips


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def match_pairs(pred: str | Path, gt: str | Path | None = None) -> list[VideoPair]:
    """Pairs to evaluate.

    Args:
        pred: a clip or a folder of clips.
        gt: the same kind of thing, or None for no-reference evaluation.

    Raises:
        InputError: a path does not exist, a folder holds no clips, a clip is paired with a folder, or names
            do not match (every prediction needs its ground truth and vice versa).
    """
    pred = Path(pred)
    gt = Path(gt) if gt is not None else None
    for path, flag in ((pred, "--pred"), (gt, "--gt")):
        if path is not None and not path.exists():
            raise InputError(f"{flag} {path} does not exist")
    if is_clip(pred):
        if gt is not None and not is_clip(gt):
            raise InputError(f"--pred {pred} is one clip but --gt {gt} is not a video or a folder of frames")
        return [VideoPair(pred.stem if pred.is_file() else pred.name, pred, gt)]
    preds = list_clips(pred)
    if not preds:
        raise InputError(f"--pred {pred} holds no videos or frame folders")
    if gt is None:
        return [VideoPair(name, path) for name, path in preds.items()]
    if is_clip(gt):
        raise InputError(f"--gt {gt} is one clip but --pred {pred} is a folder of clips")
    gts = list_clips(gt)
    no_gt = [n for n in preds if n not in gts]
    if no_gt:
        raise InputError(f"{len(no_gt)} prediction(s) have no ground truth of the same name in {gt}: {_names(no_gt)}")
    no_pred = [n for n in gts if n not in preds]
    if no_pred:
        raise InputError(f"{len(no_pred)} ground truth clip(s) have no prediction in {pred}: {_names(no_pred)}")
    return [VideoPair(name, path, gts[name]) for name, path in preds.items()]
