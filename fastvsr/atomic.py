"""Safe file outputs: nothing but the output itself is ever replaced, and nothing appears half-written.

Rules (documented for users in docs/inference.md, "Where outputs go"):

* A file or folder is written to a temporary path beside the target and renamed onto it on success; on an
  error (or SIGINT/SIGTERM, see :mod:`fastvsr.cli`) the temporary is removed. A temporary left by a killed
  process (``kill -9``) is removed by the next atomic write into the same folder.
* Every folder written here holds a manifest, :data:`MANIFEST`, listing the files it was written with. An
  existing folder is replaced (``overwrite=True``) only when it has a manifest and holds nothing else: a folder
  fastvsr did not write, or one a user has since added files to, is never deleted.
* An output that is, or is a folder holding, one of the run's inputs is refused.
* Parent folders are created when the write starts and removed again if the write fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from fastvsr.errors import OutputError

MANIFEST = ".fastvsr-output.json"
_TMP_TAG = "fastvsr-tmp"
_TMP_PATTERN = re.compile(rf"^\..*\.{_TMP_TAG}-(\d+)-[0-9a-f]+(\.|$)")


def folder_files(folder: Path) -> list[str]:
    """Relative POSIX paths of every file and link under ``folder`` (not the manifest), sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if (p.is_file() or p.is_symlink()) and p.name != MANIFEST)


def _write_manifest(folder: Path) -> None:
    (folder / MANIFEST).write_text(json.dumps({"written_by": "fastvsr", "files": folder_files(folder)}, indent=1))


def replaceable_folder_error(folder: Path) -> str | None:
    """Why the existing folder ``folder`` must not be replaced, or ``None`` when fastvsr wrote all of it."""
    try:
        listed = set(json.loads((folder / MANIFEST).read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return (f"output {folder} is an existing folder that fastvsr did not write; it is never replaced: "
                "choose a new path")
    extra = [name for name in folder_files(folder) if name not in listed]
    if extra:
        return (f"output folder {folder} holds files fastvsr did not write (e.g. {extra[0]}); it is never "
                "replaced: choose a new path")
    return None


def is_output_folder(path: Path) -> bool:
    """True when ``path`` is a folder that fastvsr wrote as one output (it has a :data:`MANIFEST`)."""
    return path.is_dir() and (path / MANIFEST).is_file()


def resolve_output(path: str | Path, default_name: str) -> Path:
    """The command-line rule for ``--output``: an existing folder that is not itself a fastvsr output is a
    destination, and the output is written inside it as ``default_name``; any other path is the output."""
    out = Path(path)
    return out / default_name if out.is_dir() and not is_output_folder(out) else out


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_path(path: str | Path, overwrite: bool = False, inputs: tuple[str | Path, ...] = ()) -> Path:
    """Validate an output path before any work is done (creates nothing).

    Raises:
        OutputError: the output is one of ``inputs`` or a folder holding one; it exists and ``overwrite`` is
            False; it is a folder fastvsr may not replace (:func:`replaceable_folder_error`); or its parent
            cannot hold it.
    """
    out = Path(path)
    target = out.resolve()
    for src in inputs:
        source = Path(src)
        if not source.exists():
            continue
        if target == source.resolve():
            raise OutputError(f"output {out} is the input file; choose another --output")
        if out.is_dir() and _inside(source.resolve(), target):
            raise OutputError(f"output {out} is a folder that holds the input {source}; choose another --output")
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise OutputError(f"output {out} already exists; pass --overwrite to replace it")
        if out.is_dir() and not out.is_symlink() and (why := replaceable_folder_error(out)):
            raise OutputError(why)
    ancestor = out.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"cannot create folder {out.parent}: {ancestor} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into {ancestor}: permission denied")
    return out


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporaries that killed fastvsr processes left in ``folder``; returns what was removed."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            match = _TMP_PATTERN.match(entry.name)
            if match is None or _pid_alive(int(match.group(1))):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; returns the ones created, deepest first."""
    created = []
    current = folder.absolute()
    while not current.exists():
        created.append(current)
        current = current.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create folder {folder}: {err.strerror}") from None
    return created


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _temporary_name(target: Path) -> Path:
    """A hidden name beside ``target`` that keeps its suffix (format-sniffing writers such as PyAV and PIL pick
    the container from it) and carries this process's id (so a later run can tell a stale one)."""
    stem, suffix = (target.stem, target.suffix) if target.suffix else (target.name, "")
    return target.with_name(f".{stem}.{_TMP_TAG}-{os.getpid()}-{secrets.token_hex(4)}{suffix}")


def _commit(tmp: Path, target: Path) -> None:
    """Move ``tmp`` onto ``target``, replacing only ``target`` itself (a link is replaced, not followed)."""
    if tmp.is_dir():
        _write_manifest(tmp)
    if target.is_dir() and not target.is_symlink():
        if why := replaceable_folder_error(target):
            raise OutputError(why)
        old = _temporary_name(target)
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
        return
    if tmp.is_dir() and (target.is_symlink() or target.exists()):
        target.unlink()
    os.replace(tmp, target)


@contextlib.contextmanager
def scratch_folder(target: str | Path) -> Iterator[Path]:
    """A hidden temporary folder beside ``target`` (parents created), removed with everything in it when the
    block ends; one a killed process left behind is removed by the next write there."""
    target = Path(target)
    created = _make_parents(target.parent)
    remove_stale_temporaries(target.parent)
    folder = _temporary_name(target.with_name(f"{target.name}.parts"))
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if not target.exists():
            _remove_empty(created)


@contextlib.contextmanager
def atomic_path(path: str | Path, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (not yet created); move it onto ``path`` when the block succeeds.

    Works for files and for folders (the writer creates the temporary as either). A folder gets a
    :data:`MANIFEST`. Parent folders created here are removed again when the block fails.

    Raises:
        OutputError: ``path`` exists and ``overwrite`` is False, it may not be replaced
            (:func:`check_output_path`), or nothing was written.
    """
    target = Path(path)
    check_output_path(target, overwrite=overwrite)
    created = _make_parents(target.parent)
    remove_stale_temporaries(target.parent)
    tmp = _temporary_name(target)
    done = False
    try:
        yield tmp
        if not (tmp.exists() or tmp.is_symlink()):
            raise OutputError(f"nothing was written for {target}")
        _commit(tmp, target)
        done = True
    finally:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists() or tmp.is_symlink():
            tmp.unlink()
        if not done:
            _remove_empty(created)
