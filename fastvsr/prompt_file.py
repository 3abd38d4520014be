"""The text-embedding file every layer reads (a denoiser's cached prompt, per-clip captions of training
sources and of inference inputs): a safetensors file holding ``prompt_embeds`` ``(1, L, C)``."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from fastvsr.errors import InputError

PROMPT_KEY = "prompt_embeds"


def read_prompt_embeds(path: str | Path) -> torch.Tensor:
    """``prompt_embeds`` ``(1, L, C)`` of the safetensors file ``path``.

    Raises:
        InputError: the file holds no ``(1, L, C)`` ``prompt_embeds``.
    """
    embeds = load_file(str(path)).get(PROMPT_KEY)
    if embeds is None or embeds.ndim != 3 or embeds.shape[0] != 1:
        raise InputError(f"{path} must hold '{PROMPT_KEY}' of shape (1, L, C)")
    return embeds
