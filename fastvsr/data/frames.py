"""Image files (one-frame videos) and folders of images (naturally sorted frames) through PIL."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from fastvsr.data.info import DEFAULT_IMAGE_FPS, VideoInfo
from fastvsr.errors import InputError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``frame2.png`` before ``frame10.png``."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower()) for part in re.split(r"(\d+)", name) if part)


def list_frame_files(folder: Path) -> list[Path]:
    """Image files directly inside ``folder`` (hidden files skipped), in natural order."""
    files = [p for p in folder.iterdir() if p.is_file() and is_image_file(p) and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


@contextlib.contextmanager
def _pil_errors(path: Path) -> Iterator[None]:
    """Turn PIL's errors for ``path`` (missing, not an image, truncated) into one-line ``InputError``s."""
    try:
        yield
    except FileNotFoundError:
        raise InputError(f"image {path} does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise InputError(f"cannot read image {path}: {str(err).splitlines()[0]}") from None


def load_image(path: Path) -> np.ndarray:
    """One image as ``(3, H, W)`` RGB planes: ``uint8``, or ``uint16`` for 16-bit grayscale images.

    EXIF orientation is applied, grayscale and palette images become RGB, alpha is dropped.
    """
    with _pil_errors(path), Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode in _SIXTEEN_BIT_MODES:
            gray = np.asarray(image).astype(np.uint16)
            return np.stack([gray] * 3)
        return np.ascontiguousarray(np.asarray(image.convert("RGB")).transpose(2, 0, 1))


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    """``(width, height)`` after EXIF orientation (5-8 swap the axes)."""
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    return (image.height, image.width) if orientation in (5, 6, 7, 8) else image.size


def probe_images(path: Path, files: Sequence[Path]) -> VideoInfo:
    """Probe an image file or a folder of images (headers only; every frame must have the same size).

    Results are cached per folder and file modification times, so datasets that re-probe a frame folder for
    every item pay the header reads once.
    """
    if not files:
        raise InputError(f"folder {path} has no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    stamps = tuple((str(f), f.stat().st_mtime_ns) for f in files)
    return _probe_images_cached(path, stamps)


@functools.lru_cache(maxsize=256)
def _probe_images_cached(path: Path, stamps: tuple[tuple[str, int], ...]) -> VideoInfo:
    files = [Path(name) for name, _ in stamps]
    if not files:
        raise InputError(f"folder {path} has no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    with _pil_errors(files[0]), Image.open(files[0]) as first:
        width, height = _oriented_size(first)
        codec, mode = (first.format or files[0].suffix[1:]).lower(), first.mode
    for file in files[1:]:
        with _pil_errors(file), Image.open(file) as image:
            size = _oriented_size(image)
        if size != (width, height):
            raise InputError(f"{file} is {size[0]}x{size[1]} but {files[0].name} is {width}x{height}; "
                             "all frames in a folder must have the same size")
    return VideoInfo(path=path, num_frames=len(files), height=height, width=width, fps=DEFAULT_IMAGE_FPS,
                     has_audio=False, is_image_sequence=True, codec=codec, pix_fmt=mode,
                     bit_depth=16 if mode in _SIXTEEN_BIT_MODES else 8)


def image_files(path: Path) -> list[Path]:
    """The frames of an image source: the file itself or the folder's images."""
    return list_frame_files(path) if path.is_dir() else [path]


def iter_image_frames(info: VideoInfo, start: int = 0) -> Iterator[np.ndarray]:
    """Load frames ``start, start + 1, ...`` of an image source (see :func:`load_image`)."""
    for file in image_files(info.path)[start:]:
        yield _as_depth(load_image(file), info.bit_depth)


def _as_depth(planes: np.ndarray, bit_depth: int) -> np.ndarray:
    """Bring a frame to the folder's sample type (set by its first frame): uint8, or uint16 when 16-bit."""
    if bit_depth > 8 and planes.dtype == np.uint8:
        return planes.astype(np.uint16) * 257
    if bit_depth <= 8 and planes.dtype == np.uint16:
        return (planes >> 8).astype(np.uint8)
    return planes


def save_image(array: np.ndarray, path: Path) -> None:
    """Write an ``(H, W, 3)`` uint8 array; the format follows the suffix (PNG is lossless)."""
    Image.fromarray(array).save(path)
