"""Adapter around diffusers' ``AutoencoderKLCogVideoX`` (the CogVideoX1.5 VAE DOVE and FastVSR use).

:class:`CogVideoXVAE` *is* an ``AutoencoderKLCogVideoX`` (same config and state-dict keys, so
``from_pretrained(local_dir)`` loads a real diffusers CogVideoX VAE folder) whose decoder is a
:class:`CogVideoXSplitDecoder` and whose ``encode``/``decode`` follow our VAE contract (pixels in ``[0, 1]``,
scaled latents). Decoding keeps diffusers' schedule: 2 latent frames at a time with the causal conv cache.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from diffusers.models.autoencoders.autoencoder_kl_cogvideox import AutoencoderKLCogVideoX, CogVideoXDecoder3D
from torch import nn

from fastvsr.errors import InputError
from fastvsr.models.vae.common import DecoderContext, VideoVAEMixin

LATENT_FRAMES_PER_BATCH = 2  # what diffusers' AutoencoderKLCogVideoX._decode uses (the VAE was trained so)


class CogVideoXSplitDecoder(CogVideoXDecoder3D):
    """``CogVideoXDecoder3D`` with its forward split into body and head (no new parameters).

    ``forward_features(z_raw, conv_cache)`` runs conv_in, mid and up blocks (the last feature map has
    ``block_out_channels[0]`` channels at 8x the latent size); ``forward_norm`` is ``norm_out`` (SpatialNorm3D
    conditioned on ``ctx.zq``) + SiLU, ``forward_out`` is the causal ``conv_out``. Every conv cache produced is
    collected in ``ctx.cache_out`` under the keys diffusers uses.
    """

    def _call(self, module: nn.Module, *args: Any) -> tuple[torch.Tensor, Any]:
        if torch.is_grad_enabled() and self.gradient_checkpointing:
            return self._gradient_checkpointing_func(module, *args)
        return module(*args)

    def forward_features(self, z: torch.Tensor, conv_cache: dict[str, Any] | None = None
                         ) -> tuple[torch.Tensor, DecoderContext]:
        ctx = DecoderContext(zq=z, cache_in=conv_cache or {})
        h, ctx.cache_out["conv_in"] = self.conv_in(z, conv_cache=ctx.cache_in.get("conv_in"))
        h, ctx.cache_out["mid_block"] = self._call(self.mid_block, h, None, z, ctx.cache_in.get("mid_block"))
        for i, up_block in enumerate(self.up_blocks):
            key = f"up_block_{i}"
            h, ctx.cache_out[key] = self._call(up_block, h, None, z, ctx.cache_in.get(key))
        return h, ctx

    def forward_norm(self, feats: torch.Tensor, ctx: DecoderContext) -> torch.Tensor:
        h, ctx.cache_out["norm_out"] = self.norm_out(feats, ctx.zq, conv_cache=ctx.cache_in.get("norm_out"))
        return self.conv_act(h)

    def forward_out(self, feats: torch.Tensor, ctx: DecoderContext) -> torch.Tensor:
        out, ctx.cache_out["conv_out"] = self.conv_out(feats, conv_cache=ctx.cache_in.get("conv_out"))
        return out

    def forward_head(self, feats: torch.Tensor, ctx: DecoderContext) -> torch.Tensor:
        return self.forward_out(self.forward_norm(feats, ctx), ctx)

    def output_conv(self) -> nn.Conv3d:
        return self.conv_out.conv

    def frame_batches(self, num_frames: int) -> list[slice]:
        """diffusers' schedule: batches of 2 latent frames, the first one taking the odd remainder.

        Only odd latent counts decode to ``4 * (t - 1) + 1`` frames (an even first batch would expand frame 0 to
        4 frames), so an even count raises :class:`InputError`.
        """
        if num_frames % 2 == 0:
            raise InputError(f"the CogVideoX decoder needs an odd number of latent frames, got {num_frames} "
                             "(pad clips to k*8+1 frames)")
        size = LATENT_FRAMES_PER_BATCH
        rem = num_frames % size
        return [slice(size * i + (0 if i == 0 else rem), size * (i + 1) + rem)
                for i in range(max(num_frames // size, 1))]


DECODER_KEYS = ("latent_channels", "up_block_types", "block_out_channels", "layers_per_block", "act_fn",
                "norm_eps", "norm_num_groups", "temporal_compression_ratio")


def split_decoder_from_spec(spec: dict[str, Any]) -> CogVideoXSplitDecoder:
    """Build a :class:`CogVideoXSplitDecoder` from :meth:`CogVideoXVAE.decoder_spec`."""
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k != "latent_channels"}
    return CogVideoXSplitDecoder(in_channels=spec["latent_channels"], **kwargs)


class CogVideoXVAE(VideoVAEMixin, AutoencoderKLCogVideoX):
    """CogVideoX VAE (f8, t4, 16 latent channels at paper scale; scaling 0.7 for CogVideoX1.5) with our API.

    ``encode``: ``(B, 3, T, H, W)`` in ``[0, 1]``, ``T % 8 == 1``, ``H, W % 8 == 0`` -> scaled latent
    ``(B, c, (T-1)/4+1, H/8, W/8)``; ``decode``: scaled latent -> ``(B, 3, T, H, W)`` clamped to ``[0, 1]``.
    Constructor arguments are those of ``AutoencoderKLCogVideoX``.
    """

    decoder_kind = "cogvideox"
    temporal_factor_key = "temporal_compression_ratio"
    decoder_keys = DECODER_KEYS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decoder = split_decoder_from_spec(self.decoder_spec())

    # diffusers reads the accepted config keys from the signature: present the parent's.
    __init__.__signature__ = inspect.signature(AutoencoderKLCogVideoX.__init__)  # type: ignore[attr-defined]

    @property
    def frame_multiple(self) -> int:
        """``2 * temporal_factor`` (8): the decoder's 2-latent-frame batches need an odd latent count, so clips
        have ``8k + 1`` frames (DOVE pads to that too)."""
        return LATENT_FRAMES_PER_BATCH * self.temporal_factor

    def _moments(self, video: torch.Tensor) -> torch.Tensor:
        return self._encode(video)  # diffusers' frame-batched encode with the conv cache (and quant_conv)

    def _prepare_latent(self, z_raw: torch.Tensor) -> torch.Tensor:
        return z_raw if self.post_quant_conv is None else self.post_quant_conv(z_raw)
