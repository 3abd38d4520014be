"""What counts as a clip on disk, and how a folder of clips is listed (training sources, benchmark sets,
evaluation pairs all use this one rule).

A clip is a video file (a suffix PyAV reads) or a folder holding frame images directly. In a folder of clips,
each entry is named by its file name without suffix or its folder name; hidden entries are skipped, and two
entries with the same name (``calendar.mp4`` and ``calendar/``) are an error rather than one silently winning.
"""

from __future__ import annotations

from pathlib import Path

from fastvsr.data.frames import list_frame_files
from fastvsr.errors import InputError

VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".y4m"})  # containers PyAV reads
MAX_LISTED = 3


def is_video_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES


def is_frame_folder(path: Path) -> bool:
    """A folder that holds frame images directly."""
    return path.is_dir() and bool(list_frame_files(path))


def is_clip(path: Path) -> bool:
    """A video file or a folder holding frame images directly."""
    return is_video_file(path) or is_frame_folder(path)


def clip_name(path: Path) -> str:
    """A clip's name: the file name without suffix, or the folder name."""
    return path.stem if path.is_file() else path.name


def list_clips(folder: Path) -> dict[str, Path]:
    """Name -> clip for every clip directly inside ``folder``, sorted by name.

    Raises:
        InputError: two clips have the same name.
    """
    clips: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not is_clip(entry):
            continue
        name = clip_name(entry)
        if name in clips:
            raise InputError(f"two clips named '{name}' in {folder}: {clips[name].name} and {entry.name}")
        clips[name] = entry
    return clips


def listed(names: list[str]) -> str:
    """``"a, b, c"`` or ``"a, b, c and 4 more"`` for one-line error messages."""
    more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return ", ".join(names[:MAX_LISTED]) + more
