"""Install metric weight files a user downloaded: identify each by its SHA-256, copy it into the weights folder.

Nothing is downloaded. A file is recognised by its content, whatever its name:

* files whose name carries a hash (torch.hub's convention, used by torchvision and pyiqa: the hex digits after
  the last ``-`` are the start of the file's SHA-256) must have a SHA-256 that starts with them;
* ``RN50.pt`` must have the full SHA-256 that OpenAI's CLIP embeds in its download URL;
* ``niqe_modelparameters.mat`` has no published hash: it is recognised by its name and checked to hold the two
  keys NIQE reads.

Every file is checked before any is copied; each copy is atomic (:func:`fastvsr.atomic.atomic_path`) and lands
at its place in the TORCH_HOME layout of :mod:`fastvsr.metrics.weights`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fastvsr.atomic import atomic_path
from fastvsr.errors import InputError, OutputError
from fastvsr.metrics.weights import REQUIRED_FILES, resolve_weights_dir, weight_file

HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,})\.[^.]+$")
# the files whose name carries no hash, with their full SHA-256: RN50.pt's is the folder of OpenAI CLIP's download
# URL (clip/clip.py's _MODELS; pyiqa/archs/clip_model.py holds the same URL and checks the file against it)
FULL_SHA256 = {"RN50.pt": "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762"}
NIQE_KEYS = ("mu_prisparam", "cov_prisparam")


@dataclass(frozen=True)
class KnownFile:
    """A weight file the metrics read.

    Attributes:
        relative: its path under ``<weights_dir>/hub`` (``checkpoints/vgg16-397923af.pth``).
        sha256: its SHA-256 in hex, or the leading digits of it that its name carries; empty when it is
            recognised by name only.
    """

    relative: str
    sha256: str

    @property
    def name(self) -> str:
        return PurePosixPath(self.relative).name


def known_files() -> dict[str, KnownFile]:
    """File name -> :class:`KnownFile` for every file in :data:`fastvsr.metrics.weights.REQUIRED_FILES`."""
    table = {}
    for relative in dict.fromkeys(rel for files in REQUIRED_FILES.values() for rel in files):
        name = PurePosixPath(relative).name
        in_name = HASH_IN_NAME.search(name)
        table[name] = KnownFile(relative, FULL_SHA256.get(name) or (in_name.group(1) if in_name else ""))
    return table


KNOWN_FILES = known_files()


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, in lowercase hex."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def check_niqe_params(path: Path) -> None:
    """Raise :class:`InputError` unless ``path`` is a MATLAB file holding the keys pyiqa's NIQE reads."""
    from scipy.io.matlab import MatReadError, loadmat

    try:
        keys = set(loadmat(path))
    except (MatReadError, OSError, ValueError, TypeError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise InputError(f"{path}: not a readable MATLAB .mat file ({reason})") from None
    absent = [key for key in NIQE_KEYS if key not in keys]
    if absent:
        raise InputError(f"{path}: not NIQE parameters: it lacks {', '.join(absent)}")


# checks for the files recognised by name only
CONTENT_CHECKS: dict[str, Callable[[Path], None]] = {"niqe_modelparameters.mat": check_niqe_params}


def identify(path: Path, digest: str, table: dict[str, KnownFile]) -> KnownFile:
    """The known file whose SHA-256 (or its leading digits) ``digest`` matches, else the one named like ``path``.

    Raises:
        InputError: ``path`` matches no known file, has a known name but another hash, or fails the content
            check of a file recognised by name.
    """
    for known in table.values():
        if known.sha256 and digest.startswith(known.sha256):
            return known
    known = table.get(path.name)
    if known is None:
        names = ", ".join(table)
        raise InputError(f"{path}: SHA-256 {digest[:12]}... matches no known metric weight file ({names})")
    if known.sha256:
        raise InputError(f"{path}: SHA-256 starts {digest[:8]} but {known.name}'s must start {known.sha256[:8]}; "
                         "the file is damaged or another version: download it again")
    CONTENT_CHECKS.get(known.name, lambda _: None)(path)
    return known


@dataclass(frozen=True)
class Installation:
    """One file to install: where it is, what it is, its SHA-256 and where it goes."""

    source: Path
    known: KnownFile
    digest: str
    target: Path


def plan_installs(files: Sequence[str | Path], root: Path, table: dict[str, KnownFile]) -> list[Installation]:
    """Identify every file (nothing is written).

    Raises:
        InputError: a file is missing, is not a regular file, matches no known file (:func:`identify`), or two
            files are the same known file.
    """
    plan: dict[str, Installation] = {}
    for item in files:
        source = Path(item).expanduser()
        if not source.is_file():
            raise InputError(f"{source} {'is not a file' if source.exists() else 'does not exist'}")
        digest = sha256_file(source)
        known = identify(source, digest, table)
        if known.name in plan:
            raise InputError(f"{plan[known.name].source} and {source} are both {known.name}; give one of them")
        plan[known.name] = Installation(source, known, digest, weight_file(root, known.relative))
    return list(plan.values())


def _status(item: Installation, overwrite: bool) -> str:
    """``installed``, ``replaced`` or ``already installed`` for one planned file.

    Raises:
        OutputError: the target holds other contents and ``overwrite`` is False.
    """
    target = item.target
    if not (target.exists() or target.is_symlink()):
        return "installed"
    if target.is_file() and sha256_file(target) == item.digest:
        return "already installed"
    if not overwrite:
        raise OutputError(f"{target} already exists with other contents; pass --overwrite to replace it")
    return "replaced"


def install_weights(files: Sequence[str | Path], weights_dir: str | Path = "", overwrite: bool = False,
                    table: dict[str, KnownFile] | None = None) -> list[tuple[Installation, str]]:
    """Copy downloaded weight files into ``weights_dir`` (default ``$TORCH_HOME`` or ``~/.cache/torch``).

    Every file is identified and every target checked before anything is copied.

    Args:
        files: the downloaded files (any names; see the module docstring for how each is recognised).
        weights_dir: the weights folder that ``scripts/evaluate.py --weights-dir`` reads.
        overwrite: replace a target that holds other contents.
        table: the known files (default :data:`KNOWN_FILES`).

    Returns:
        ``(installation, status)`` per file, status ``installed``, ``replaced`` or ``already installed``
        (identical contents, not copied again).

    Raises:
        InputError: a file is missing or matches no known file, or two files are the same one.
        OutputError: a target holds other contents and ``overwrite`` is False, or cannot be written.
    """
    root = resolve_weights_dir(weights_dir)
    plan = plan_installs(files, root, KNOWN_FILES if table is None else table)
    done = [(item, _status(item, overwrite)) for item in plan]
    for item, status in done:
        if status != "already installed":
            with atomic_path(item.target, overwrite=True) as tmp:
                shutil.copyfile(item.source, tmp)
    return done
