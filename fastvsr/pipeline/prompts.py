"""Per-clip text conditions at inference (``InferConfig.prompt_embeds``): one embedding file for the run, or a
folder holding ``<clip name>.safetensors`` per input clip (e.g. T5 embeddings of captions of the LR clips,
computed offline); each file holds ``prompt_embeds`` ``(1, L, C)``. Only models whose denoiser cross-attends
to text take one (the LTX-Video DiT of TurboVSR); others stop with a one-line error."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import torch

from fastvsr.data.clips import clip_name
from fastvsr.errors import InputError
from fastvsr.pipeline.config import InferConfig
from fastvsr.prompt_file import read_prompt_embeds


def with_clip_prompt(cfg: InferConfig, source: Path) -> InferConfig:
    """``cfg`` with ``prompt_embeds`` resolved for the input clip ``source``: a folder setting becomes that
    folder's ``<clip name>.safetensors``; a file or no setting stays as it is.

    Raises:
        InputError: the setting names nothing, or the folder has no file for this clip.
    """
    if not cfg.prompt_embeds:
        return cfg
    setting = Path(cfg.prompt_embeds)
    if setting.is_dir():
        path = setting / f"{clip_name(source)}.safetensors"
        if not path.is_file():
            raise InputError(f"prompt_embeds: no embedding for {source.name} in {setting} (expected {path.name})")
        return replace(cfg, prompt_embeds=str(path))
    if not setting.is_file():
        raise InputError(f"prompt_embeds: {setting} is neither an embedding file nor a folder of them")
    return cfg


@functools.lru_cache(maxsize=4)
def load_prompt(path: str) -> torch.Tensor:
    """``prompt_embeds`` ``(1, L, C)`` float of a safetensors file (cached: every chunk of a clip uses it).

    Raises:
        InputError: the file holds no ``(1, L, C)`` ``prompt_embeds``.
    """
    return read_prompt_embeds(path)
