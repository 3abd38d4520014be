"""Checks that a local model folder holds the files a loader needs (nothing is ever downloaded)."""

from __future__ import annotations

from pathlib import Path

from fastvsr.errors import WeightsMissingError


def require_files(folder: str | Path, *names: str | tuple[str, ...]) -> Path:
    """Return ``Path(folder)`` if every name exists in it; a tuple means "any one of these".

    Raises:
        WeightsMissingError: one line naming the folder and the first missing file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise WeightsMissingError(f"model folder {folder} does not exist")
    for name in names:
        options = (name,) if isinstance(name, str) else name
        if not any((folder / option).is_file() for option in options):
            raise WeightsMissingError(f"model folder {folder} is missing {' or '.join(options)}")
    return folder


WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.safetensors.index.json")
"""A diffusers model folder's weights: one safetensors file, or the index of its shards."""


def require_weights(folder: str | Path, *extra: str) -> Path:
    """:func:`require_files` for a diffusers model folder: ``config.json``, its weights and ``extra`` files."""
    return require_files(folder, "config.json", WEIGHT_FILES, *extra)
