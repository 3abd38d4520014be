"""What the diffusers-transformer denoisers share: a fixed text condition and the folder format.

A transformer denoiser wraps a diffusers transformer (``self.transformer``) and holds the text condition it
cross-attends to as a tensor (``prompt_embeds``, ``(1, L, D)``: DOVE's empty-prompt T5 embedding, or a
stand-in), broadcast over the batch. Folder format (``save_pretrained`` / ``from_pretrained``): the plain
diffusers transformer folder (``config.json`` + ``diffusion_pytorch_model*.safetensors``, sharded and in the
dtype the weights have, as diffusers writes them) plus ``prompt_embeds.safetensors`` holding
``{"prompt_embeds": (1, L, D)}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import torch
from safetensors.torch import save_file
from torch import nn

from fastvsr.errors import ConfigError
from fastvsr.models.local_files import require_weights, stored_dtype
from fastvsr.prompt_file import PROMPT_KEY, read_prompt_embeds

PROMPT_FILE = "prompt_embeds.safetensors"


class TransformerDenoiser(nn.Module):
    """Base of the transformer adapters; subclasses set ``transformer_class`` and implement ``forward``.

    Args:
        transformer: the diffusers transformer.
        prompt_embeds: ``(1, L, D)`` (or ``(L, D)``) text condition, broadcast over the batch.
    """

    transformer_class: ClassVar[type[Any]]

    def __init__(self, transformer: nn.Module, prompt_embeds: torch.Tensor) -> None:
        super().__init__()
        self.transformer = transformer
        self.register_buffer("prompt_embeds", prompt_embeds.reshape(1, *prompt_embeds.shape[-2:]), persistent=False)

    @property
    def config(self) -> Any:
        """The transformer's config (what ``save_pretrained`` records)."""
        return self.transformer.config

    def prompt(self, batch: int, like: torch.Tensor, given: torch.Tensor | None = None) -> torch.Tensor:
        """The text condition ``(batch, L, D)`` in ``like``'s dtype and device: ``given`` (``(batch or 1, L', D)``,
        e.g. per-clip caption embeddings) or the cached prompt."""
        prompt = self.prompt_embeds if given is None else given
        if prompt.ndim != 3 or prompt.shape[-1] != self.prompt_embeds.shape[-1] or prompt.shape[0] not in (1, batch):
            raise ConfigError(f"prompt embeddings must be (1 or {batch}, L, {self.prompt_embeds.shape[-1]}), got "
                              f"{tuple(prompt.shape)}")
        return prompt.to(device=like.device, dtype=like.dtype).expand(batch, -1, -1)

    def enable_gradient_checkpointing(self) -> None:
        self.transformer.enable_gradient_checkpointing()

    def save_pretrained(self, folder: str | Path) -> None:
        """Write the transformer folder (its dtype kept, sharded as diffusers does) plus the prompt file."""
        self.transformer.save_pretrained(folder)
        save_file({PROMPT_KEY: self.prompt_embeds.detach().cpu().contiguous()}, str(Path(folder) / PROMPT_FILE))

    @classmethod
    def from_pretrained(cls, folder: str | Path, torch_dtype: torch.dtype | None = None) -> Self:
        """Load a folder written by :meth:`save_pretrained` (local only; ``WeightsMissingError`` names a missing
        file). The weights keep their stored dtype unless ``torch_dtype`` is given."""
        folder = require_weights(folder, PROMPT_FILE)
        transformer = cls.transformer_class.from_pretrained(folder, torch_dtype=torch_dtype or stored_dtype(folder),
                                                            local_files_only=True)
        return cls(transformer, read_prompt_embeds(folder / PROMPT_FILE))
