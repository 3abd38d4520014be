"""LTX-Video's DiT (diffusers ``LTXVideoTransformer3DModel``) as a TurboVSR denoiser.

TurboVSR's denoiser at paper scale is the LTX-Video 2B DiT on the 32x32x8 latent with patch size 1, so one
token per latent cell. The adapter gives it the denoiser interface ``forward(z_t, t, cond, step_size)``:

* **condition channels**: the noisy latent and the LR condition (latent + first-frame mask) are concatenated
  along channels, so ``transformer.in_channels = c + cond``. A published LTX-Video transformer
  (``in_channels = c``) is converted by :meth:`LTXDiTDenoiser.from_folder`: its input projection is widened
  with zero-initialised columns for the condition, so the converted model reproduces the pretrained one's
  output on the original channels;
* **step size** (shortcut models): a zero-initialised MLP of the step level (:mod:`.embeddings`) added to the
  transformer's timestep embedding (the output of ``time_embed.emb``, which feeds both the blocks' adaptive
  norms and the output modulation), through a forward hook, so the diffusers module and its weights stay as
  published;
* **text**: cross-attention to a fixed, cached prompt embedding ``prompt_embeds`` ``(1, L, caption_channels)``
  (as DOVE's empty-prompt embedding), broadcast over the batch; a call may pass per-clip embeddings instead
  (``prompt_embeds=`` ``(B, L', caption_channels)``, e.g. T5 embeddings of captions of the LR clips, computed
  offline: ``data.prompt_embeds_dir`` for training, ``prompt_embeds`` of the inference settings).

Timesteps are schedule units in ``[0, 1000]`` (noise level x 1000), which is what LTX-Video's pipelines pass.
Folder format: :mod:`fastvsr.models.denoisers.transformer` plus ``step_embedding.safetensors`` for a shortcut
model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import torch
from diffusers import LTXVideoTransformer3DModel
from diffusers.models.embeddings import Timesteps
from einops import rearrange
from safetensors.torch import load_file, save_file
from torch import nn

from fastvsr.errors import ConfigError, WeightsMissingError
from fastvsr.models.denoisers.embeddings import SINUSOIDAL_CHANNELS, embed_step_size, step_size_embedding
from fastvsr.models.denoisers.transformer import PROMPT_FILE, TransformerDenoiser
from fastvsr.models.local_files import require_weights, stored_dtype
from fastvsr.prompt_file import read_prompt_embeds

STEP_FILE = "step_embedding.safetensors"


@dataclass
class LTXDiTConfig:
    """Size of the LTX-Video DiT; the defaults are LTX-Video 2B (28 blocks, 32 heads x 64 = 2048 wide).

    ``prompt_tokens``: length of the stand-in text condition (zeros) of a randomly built model.
    ``prompt_embeds``: a safetensors file ``{"prompt_embeds": (1, L, caption_channels)}`` for a pretrained
    transformer folder that has none (a published LTX-Video ``transformer/`` folder).
    """

    num_layers: int = 28
    num_attention_heads: int = 32
    attention_head_dim: int = 64
    caption_channels: int = 4096
    prompt_tokens: int = 1
    prompt_embeds: str | None = None


def _public_config(transformer: nn.Module) -> dict[str, Any]:
    return {k: v for k, v in transformer.config.items() if not k.startswith("_")}


def widen_input(transformer: LTXVideoTransformer3DModel, in_channels: int) -> LTXVideoTransformer3DModel:
    """A copy of ``transformer`` whose input projection takes ``in_channels`` (>= its own): the original columns
    are copied, the new ones are zero, so the output on the original channels is unchanged."""
    old = transformer.proj_in.weight
    if in_channels < old.shape[1]:
        raise ConfigError(f"cannot narrow the transformer's input from {old.shape[1]} to {in_channels} channels")
    with torch.device("meta"):
        wide = LTXVideoTransformer3DModel(**{**_public_config(transformer), "in_channels": in_channels})
    state = dict(transformer.state_dict())
    weight = old.new_zeros(old.shape[0], in_channels)
    weight[:, :old.shape[1]] = old.detach()
    state["proj_in.weight"] = weight
    wide.load_state_dict(state, assign=True)
    return wide


class LTXDiTDenoiser(TransformerDenoiser):
    """``LTXVideoTransformer3DModel`` (patch size 1) over ``[z_t, cond]`` latents.

    Args:
        transformer: the diffusers transformer (``in_channels = c + cond channels``, ``out_channels = c``).
        prompt_embeds: ``(1, L, caption_channels)`` text condition.
        step_embedding: the step-size MLP of a shortcut model (:func:`step_size_embedding`), or None.
    """

    transformer_class = LTXVideoTransformer3DModel
    denoiser_kind = "ltx_dit"
    takes_prompt = True  # forward accepts per-call prompt_embeds
    latent_multiple = 1
    temporal_latent_multiple = 1

    def __init__(self, transformer: LTXVideoTransformer3DModel, prompt_embeds: torch.Tensor,
                 step_embedding: nn.Module | None = None) -> None:
        super().__init__(transformer, prompt_embeds)
        self.step_proj = Timesteps(SINUSOIDAL_CHANNELS, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.step_embedding = step_embedding
        self._pending_step: torch.Tensor | None = None
        transformer.time_embed.emb.register_forward_hook(self._add_step_embedding)

    def _add_step_embedding(self, module: nn.Module, args: Any, output: torch.Tensor) -> torch.Tensor:
        return output if self._pending_step is None else output + self._pending_step.to(output.dtype)

    @property
    def width(self) -> int:
        cfg = self.transformer.config
        return cfg.num_attention_heads * cfg.attention_head_dim

    @property
    def has_step_size_embedding(self) -> bool:
        return self.step_embedding is not None

    def with_step_size_embedding(self) -> LTXDiTDenoiser:
        """A copy with a zero-initialised step-size embedding (same output until fine-tuned)."""
        param = next(self.transformer.parameters())
        step = step_size_embedding(SINUSOIDAL_CHANNELS, self.width).to(device=param.device, dtype=param.dtype)
        converted = copy.deepcopy(self)
        converted.step_embedding = step
        return converted

    @classmethod
    def from_config(cls, cfg: LTXDiTConfig, latent_channels: int, cond_channels: int,
                    prompt_embeds: torch.Tensor | None = None) -> LTXDiTDenoiser:
        """A randomly initialised adapter; ``prompt_embeds`` defaults to ``prompt_tokens`` zero tokens."""
        width = cfg.num_attention_heads * cfg.attention_head_dim
        transformer = LTXVideoTransformer3DModel(
            in_channels=latent_channels + cond_channels, out_channels=latent_channels, patch_size=1,
            patch_size_t=1, num_attention_heads=cfg.num_attention_heads,
            attention_head_dim=cfg.attention_head_dim, cross_attention_dim=width, num_layers=cfg.num_layers,
            caption_channels=cfg.caption_channels)
        if prompt_embeds is None:
            prompt_embeds = torch.zeros(1, cfg.prompt_tokens, cfg.caption_channels)
        return cls(transformer, prompt_embeds)

    @classmethod
    def from_folder(cls, folder: str | Path, latent_channels: int, cond_channels: int,
                    prompt_file: str | Path | None = None, torch_dtype: torch.dtype | None = None) -> LTXDiTDenoiser:
        """Load a transformer folder: one this adapter saved, or a published LTX-Video ``transformer/`` folder
        (``in_channels = latent_channels``), whose input is widened for the condition (:func:`widen_input`).
        The prompt comes from the folder's ``prompt_embeds.safetensors``, else from ``prompt_file``.

        Raises:
            WeightsMissingError: missing weights; ConfigError: no prompt embedding, or channels that fit neither.
        """
        folder = require_weights(folder)
        prompt_path = folder / PROMPT_FILE if (folder / PROMPT_FILE).is_file() else prompt_file
        if prompt_path is None:
            raise ConfigError(f"{folder} has no {PROMPT_FILE}; give the cached text embedding as "
                              "denoiser.ltx.prompt_embeds=FILE (a safetensors file with 'prompt_embeds')")
        if not Path(prompt_path).is_file():
            raise WeightsMissingError(f"prompt embedding file {prompt_path} does not exist")
        prompt = read_prompt_embeds(prompt_path)
        transformer = LTXVideoTransformer3DModel.from_pretrained(
            folder, torch_dtype=torch_dtype or stored_dtype(folder), local_files_only=True)
        have, want = transformer.config.in_channels, latent_channels + cond_channels
        if have == latent_channels and cond_channels:
            transformer = widen_input(transformer, want)
        elif have != want:
            raise ConfigError(f"{folder}: the transformer takes {have} input channels; a TurboVSR denoiser on "
                              f"{latent_channels}-channel latents needs {latent_channels} (published) or {want}")
        step = None
        if (folder / STEP_FILE).is_file():
            param = next(transformer.parameters())
            step = step_size_embedding(SINUSOIDAL_CHANNELS, transformer.config.num_attention_heads
                                       * transformer.config.attention_head_dim).to(param.dtype)
            step.load_state_dict(load_file(str(folder / STEP_FILE)))
        return cls(transformer, prompt, step)

    @classmethod
    def from_pretrained(cls, folder: str | Path, torch_dtype: torch.dtype | None = None) -> Self:
        """A folder :meth:`save_pretrained` wrote (its channels as saved)."""
        in_channels = LTXVideoTransformer3DModel.load_config(str(require_weights(folder)))["in_channels"]
        return cls.from_folder(folder, in_channels, 0, torch_dtype=torch_dtype)

    def save_pretrained(self, folder: str | Path) -> None:
        super().save_pretrained(folder)
        if self.step_embedding is not None:
            state = {k: v.detach().cpu().contiguous() for k, v in self.step_embedding.state_dict().items()}
            save_file(state, str(Path(folder) / STEP_FILE))

    @property
    def patch_size(self) -> int:
        return 1

    def forward(self, z_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None,
                step_size: torch.Tensor | None = None, prompt_embeds: torch.Tensor | None = None) -> torch.Tensor:
        """Prediction ``(B, c, t, h, w)`` for ``z_t`` and ``cond`` ``(B, c + 1, t, h, w)`` at ``t`` ``(B,)``;
        ``step_size`` (B,) for a shortcut model (None otherwise); ``prompt_embeds`` ``(B or 1, L, C)`` instead of
        the cached prompt."""
        if cond is None:
            raise ValueError("LTXDiTDenoiser needs the LR condition latent (cond)")
        b, _, frames, height, width = z_t.shape
        tokens = rearrange(torch.cat([z_t, cond], dim=1), "b c t h w -> b (t h w) c")
        prompt = self.prompt(b, tokens, prompt_embeds)
        mask = tokens.new_ones(b, prompt.shape[1])
        self._pending_step = embed_step_size(self.step_proj, self.step_embedding,
                                             None if step_size is None else step_size.to(tokens.device), tokens.dtype)
        try:
            out = self.transformer(tokens, prompt, t, mask, num_frames=frames, height=height, width=width,
                                   return_dict=False)[0]
        finally:
            self._pending_step = None
        return rearrange(out, "b (t h w) c -> b c t h w", t=frames, h=height, w=width)
