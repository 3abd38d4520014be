"""Match predictions to ground truths on disk: one clip, or folders of clips matched by name.

A clip is a video file or a folder of frame images. ``--pred`` / ``--gt`` are either one clip each, or folders
whose entries are clips; entries are matched by name without extension (``calendar.mp4`` <-> ``calendar/``).
"""

from __future__ import annotations

from pathlib import Path

from fastvsr.data.clips import is_clip, list_clips, listed
from fastvsr.errors import InputError
from fastvsr.metrics.protocol import VideoPair


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
        raise InputError(f"{len(no_gt)} prediction(s) have no ground truth of the same name in {gt}: {listed(no_gt)}")
    no_pred = [n for n in gts if n not in preds]
    if no_pred:
        raise InputError(f"{len(no_pred)} ground truth clip(s) have no prediction in {pred}: {listed(no_pred)}")
    return [VideoPair(name, path, gts[name]) for name, path in preds.items()]
