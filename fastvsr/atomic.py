"""Atomic file outputs: write to a temporary file beside the target, rename on success.

A failed or interrupted write never leaves a half-written file at the target path, and an existing output is
only replaced when ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fastvsr.errors import OutputError


def check_output_path(path: str | Path, overwrite: bool = False, inputs: tuple[str | Path, ...] = ()) -> Path:
    """Validate an output path before any work is done.

    Raises:
        OutputError: the output equals one of ``inputs``, or exists and ``overwrite`` is False, or its parent
            folder cannot be created.
    """
    out = Path(path)
    for src in inputs:
        if Path(src).exists() and out.exists() and out.resolve() == Path(src).resolve():
            raise OutputError(f"output {out} is the input file; choose another --output")
    if out.exists() and not overwrite:
        raise OutputError(f"output {out} already exists; pass --overwrite to replace it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create folder {out.parent}: {err.strerror}") from None
    return out


@contextlib.contextmanager
def atomic_path(path: str | Path, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; move it onto ``path`` when the block succeeds.

    The temporary keeps the target's suffix so format-sniffing writers (PyAV, PIL) pick the right container.
    Works for files and for folders (a folder output is written into a temporary folder, then renamed).
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputError(f"output {target} already exists; pass --overwrite to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers create it themselves (as a file or a folder)
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"nothing was written for {target}")
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
