"""Checks that a local model folder holds the files a loader needs (nothing is ever downloaded)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open

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


SAFETENSORS_DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16, "F64": torch.float64}
WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.safetensors.index.json")
"""A diffusers model folder's weights: one safetensors file, or the index of its shards."""


def require_weights(folder: str | Path, *extra: str) -> Path:
    """:func:`require_files` for a diffusers model folder: ``config.json``, its weights and ``extra`` files."""
    return require_files(folder, "config.json", WEIGHT_FILES, *extra)


def stored_dtype(folder: str | Path) -> torch.dtype | None:
    """The dtype the weights of a diffusers folder are stored in (read from the safetensors header of its first
    weight file, so loading keeps it: a bf16 checkpoint stays bf16), or None when it holds no safetensors."""
    folder = Path(folder)
    index = folder / WEIGHT_FILES[1]
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text()).get("weight_map", {}).values()))
        path = folder / shards[0] if shards else None
    else:
        path = folder / WEIGHT_FILES[0]
    if path is None or not path.is_file():
        return None
    with safe_open(str(path), framework="pt") as handle:
        keys = list(handle.keys())
        return SAFETENSORS_DTYPES.get(handle.get_slice(keys[0]).get_dtype()) if keys else None
