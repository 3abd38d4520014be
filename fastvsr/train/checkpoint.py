"""Atomic, verified, rotated training checkpoints through accelerate's ``save_state`` / ``load_state``.

A checkpoint folder ``<output_dir>/checkpoints/step-00000010`` holds the trained model, optimiser, LR
scheduler, the objects registered with ``accelerator.register_for_checkpointing`` (the loop state, which
records the step, i.e. the data position), the RNG states of every process, what the session saves per
process (its EMA shards) and ``manifest.json``: the size and SHA-256 of every file. Under FSDP the model and
optimiser are sharded checkpoints (one part per process).

It is written to a hidden temporary folder by all ranks, hashed and renamed by the main process once complete,
so a crash mid-save never leaves a half checkpoint where ``--resume`` would find it. ``--resume`` checks every
file against the manifest and falls back, with a one-line warning, to the newest checkpoint that is intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import broadcast_object_list

from fastvsr.errors import InputError

CHECKPOINT_DIR = "checkpoints"
MANIFEST_FILE = "manifest.json"
_NAME = re.compile(r"^step-(\d{8})$")
PerProcess = Callable[[Path], None]  # saves or loads this process's extra state in a checkpoint folder


def checkpoint_root(output_dir: str | Path) -> Path:
    return Path(output_dir) / CHECKPOINT_DIR


def list_checkpoints(output_dir: str | Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first (temporary folders of interrupted saves are ignored)."""
    root = checkpoint_root(output_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and _NAME.match(p.name)]
    return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))  # type: ignore[union-attr]


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)


def write_manifest(folder: Path) -> Path:
    """Record the size and SHA-256 of every file of ``folder`` in ``folder/manifest.json``."""
    entries = {p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)}
               for p in _files(folder)}
    path = folder / MANIFEST_FILE
    path.write_text(json.dumps(entries, indent=1))
    return path


def damage(folder: Path) -> str | None:
    """Why the checkpoint ``folder`` cannot be resumed from (the first missing, resized or altered file), or
    None when every file matches its manifest."""
    try:
        entries = json.loads((folder / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return f"{folder / MANIFEST_FILE} is missing or unreadable"
    for name, entry in entries.items():
        path = folder / name
        if not path.is_file():
            return f"{path} is missing"
        if path.stat().st_size != entry["size"]:
            return f"{path} is {path.stat().st_size} bytes, {entry['size']} were written"
        if _sha256(path) != entry["sha256"]:
            return f"{path} is damaged (its SHA-256 differs from the one recorded at save)"
    return None


def save_checkpoint(accelerator: Accelerator, output_dir: str | Path, step: int, keep: int,
                    per_process: PerProcess | None = None) -> Path:
    """Save the full training state at ``step`` (call on every rank; ``per_process(folder)`` saves each
    process's extra state) and keep only the newest ``keep``.

    Returns:
        The checkpoint folder.
    """
    root = checkpoint_root(output_dir)
    final = root / f"step-{step:08d}"
    tmp = root / f".step-{step:08d}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    if per_process is not None:
        per_process(tmp)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        write_manifest(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for old in list_checkpoints(output_dir)[:-keep]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return final


def newest_intact(output_dir: str | Path) -> Path:
    """The newest checkpoint whose files all match their manifest; a one-line warning on stderr for each newer
    one skipped.

    Raises:
        InputError: no checkpoint, or none intact (the message names the damaged file of the newest).
    """
    found = list_checkpoints(output_dir)
    if not found:
        raise InputError(f"--resume: no checkpoint in {checkpoint_root(output_dir)}; start without --resume")
    first_damage = None
    for folder in reversed(found):
        why = damage(folder)
        if why is None:
            return folder
        first_damage = first_damage or why
        print(f"warning: --resume skips checkpoint {folder.name}: {why}", file=sys.stderr)
    raise InputError(f"--resume: no intact checkpoint in {checkpoint_root(output_dir)} (newest: {first_damage})")


def load_latest_checkpoint(accelerator: Accelerator, output_dir: str | Path,
                           per_process: PerProcess | None = None) -> Path:
    """Restore the newest intact checkpoint of ``output_dir`` into the prepared objects (call on every rank; the
    main process verifies, every rank loads the one it chose).

    Raises:
        InputError: the run has no intact checkpoint to resume from.
    """
    choice: list[str | None] = [None]
    if accelerator.is_main_process:
        try:
            choice = [str(newest_intact(output_dir))]
        except InputError as err:
            choice = [f"error:{err}"]
    if accelerator.num_processes > 1:
        broadcast_object_list(choice)
    if choice[0] is None or choice[0].startswith("error:"):
        raise InputError(str(choice[0])[len("error:"):] if choice[0] else "--resume: no checkpoint chosen")
    folder = Path(choice[0])
    accelerator.load_state(str(folder))
    if per_process is not None:
        per_process(folder)
    return folder
