"""Tiny random models of the published diffusers classes, saved in the published folder layouts, so the
paper-scale loading, assembly, training and inference paths run on a CPU exactly as they would on the real
weights (nothing is downloaded; the weights are random).

* ``cogvideox``: a CogVideoX1.5-style snapshot (``vae/`` an ``AutoencoderKLCogVideoX`` folder) and a DOVE-style
  transformer folder (``transformer/``, a ``CogVideoXTransformer3DModel`` with ``patch_size_t = 2`` and 3D RoPE,
  plus ``prompt_embeds.safetensors``, the cached empty-prompt embedding DOVE ships).
* ``ltx``: an LTX-Video-style snapshot (``vae/`` an ``AutoencoderKLLTXVideo`` folder, ``transformer/`` an
  ``LTXVideoTransformer3DModel`` folder plus ``prompt_embeds.safetensors``).

Weights are saved in ``dtype`` (bf16 by default, as the published checkpoints are).
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import (
    AutoencoderKLCogVideoX,
    AutoencoderKLLTXVideo,
    CogVideoXTransformer3DModel,
    LTXVideoTransformer3DModel,
)
from safetensors.torch import save_file
from torch import nn

from fastvsr.models.denoisers.transformer import PROMPT_FILE

TINY_COGVIDEOX_VAE = dict(block_out_channels=(16, 16, 16, 16), latent_channels=4, norm_num_groups=4,
                          layers_per_block=1, temporal_compression_ratio=4, scaling_factor=0.7,
                          down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4)
TINY_COGVIDEOX_DIT = dict(num_attention_heads=2, attention_head_dim=16, in_channels=4, out_channels=4, num_layers=2,
                          time_embed_dim=8, text_embed_dim=16, max_text_seq_length=8, sample_height=16,
                          sample_width=16, sample_frames=9, patch_size=2, patch_size_t=2, patch_bias=False,
                          temporal_compression_ratio=4, use_rotary_positional_embeddings=True)
TINY_LTX_VAE = dict(latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                    layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1), scaling_factor=1.0)
TINY_LTX_DIT = dict(in_channels=8, out_channels=8, num_attention_heads=2, attention_head_dim=8, cross_attention_dim=16,
                    num_layers=2, caption_channels=16)
PROMPT_TOKENS = 8


def _save_transformer(transformer: torch.nn.Module, folder: Path, text_dim: int, dtype: torch.dtype) -> Path:
    nn.Module.to(transformer, dtype).save_pretrained(folder)
    prompt = torch.randn(1, PROMPT_TOKENS, text_dim, generator=torch.Generator().manual_seed(1)).to(dtype)
    save_file({"prompt_embeds": prompt.contiguous()}, str(folder / PROMPT_FILE))
    return folder


def make_tiny_cogvideox(out: Path, dtype: torch.dtype = torch.bfloat16, seed: int = 0) -> dict[str, Path]:
    """Write ``out/vae`` and ``out/transformer`` (see the module docstring); returns both folders."""
    torch.manual_seed(seed)
    vae = nn.Module.to(AutoencoderKLCogVideoX(**TINY_COGVIDEOX_VAE), dtype)
    vae.save_pretrained(out / "vae")
    dit = CogVideoXTransformer3DModel(**TINY_COGVIDEOX_DIT)
    return {"vae": out / "vae", "transformer": _save_transformer(dit, out / "transformer",
                                                                 TINY_COGVIDEOX_DIT["text_embed_dim"], dtype)}


def make_tiny_ltx(out: Path, dtype: torch.dtype = torch.bfloat16, seed: int = 0) -> dict[str, Path]:
    """Write ``out/vae`` and ``out/transformer`` of a tiny LTX-Video (see the module docstring)."""
    torch.manual_seed(seed)
    vae = AutoencoderKLLTXVideo(**TINY_LTX_VAE)
    with torch.no_grad():  # non-trivial latent statistics, as a real checkpoint has
        vae.latents_mean.copy_(torch.randn(TINY_LTX_VAE["latent_channels"]) * 0.1)
        vae.latents_std.copy_(torch.rand(TINY_LTX_VAE["latent_channels"]) + 0.5)
    nn.Module.to(vae, dtype).save_pretrained(out / "vae")
    dit = LTXVideoTransformer3DModel(**TINY_LTX_DIT)
    return {"vae": out / "vae", "transformer": _save_transformer(dit, out / "transformer",
                                                                 TINY_LTX_DIT["caption_channels"], dtype)}


MAKERS = {"cogvideox": make_tiny_cogvideox, "ltx": make_tiny_ltx}
