"""Atomic, rotated training checkpoints through accelerate's ``save_state`` / ``load_state``.

A checkpoint folder ``<output_dir>/checkpoints/step-00000010`` holds the trained model, optimiser, LR
scheduler, every object registered with ``accelerator.register_for_checkpointing`` (the EMA and the loop state,
which records the step, i.e. the data position) and the RNG states of every process. It is written to a hidden
temporary folder by all ranks and renamed by the main process once complete, so a crash mid-save never leaves a
half checkpoint where ``--resume`` would find it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from accelerate import Accelerator

from fastvsr.errors import InputError

CHECKPOINT_DIR = "checkpoints"
_NAME = re.compile(r"^step-(\d{8})$")


def checkpoint_root(output_dir: str | Path) -> Path:
    return Path(output_dir) / CHECKPOINT_DIR


def list_checkpoints(output_dir: str | Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first (temporary folders of interrupted saves are ignored)."""
    root = checkpoint_root(output_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and _NAME.match(p.name)]
    return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))  # type: ignore[union-attr]


def save_checkpoint(accelerator: Accelerator, output_dir: str | Path, step: int, keep: int) -> Path:
    """Save the full training state at ``step`` (call on every rank) and keep only the newest ``keep``.

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
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for old in list_checkpoints(output_dir)[:-keep]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return final


def load_latest_checkpoint(accelerator: Accelerator, output_dir: str | Path) -> Path:
    """Restore the newest checkpoint of ``output_dir`` into the prepared objects (call on every rank).

    Raises:
        InputError: the run has no checkpoint to resume from.
    """
    found = list_checkpoints(output_dir)
    if not found:
        raise InputError(f"--resume: no checkpoint in {checkpoint_root(output_dir)}; start without --resume")
    accelerator.load_state(str(found[-1]))
    return found[-1]
