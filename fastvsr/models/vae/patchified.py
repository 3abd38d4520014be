"""TurboVSR's 32x32x8 autoencoder, LTX-Video style: a 4x4 pixel patchify in front of our causal 3D VAE.

The patchify is :func:`~fastvsr.ops.pixel.pixel_unshuffle_frames` (space-to-depth per frame), the unpatchify
its inverse :func:`~fastvsr.ops.pixel.pixel_shuffle_frames`.

LTX-Video reaches 32x spatial compression by moving the patchify from the transformer to the VAE input:
``p x p`` pixel patches become channels (``3 -> 3 p^2``), then causal 3D conv stages downsample ``2^(n-1)``
more in space and ``temporal_factor`` in time (the first frame on its own).  :class:`PatchifiedVAE` is
:class:`~fastvsr.models.vae.SpatioTemporalVAE` with that patchify (and the matching unpatchify after the
decoder's ``conv_out``), so everything else (causality, per-frame norms, the ``k * tf + 1`` frame rule, the
``[0, 1]`` pixel / scaled latent API, save/load) is the same code.
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import register_to_config

from fastvsr.models.vae.autoencoder import CausalDecoder3D, CausalEncoder3D, SpatioTemporalVAE
from fastvsr.ops.pixel import pixel_shuffle_frames, pixel_unshuffle_frames


class PatchifiedEncoder3D(CausalEncoder3D):
    """:class:`CausalEncoder3D` on ``patch x patch`` pixel patches: ``(B, 3, T, H, W)`` in ``[-1, 1]`` ->
    moments ``(B, 2c, (T-1)/tf+1, H/(patch f), W/(patch f))``."""

    def __init__(self, patch_size: int, **kwargs: object) -> None:
        super().__init__(in_channels=3 * patch_size ** 2, **kwargs)  # type: ignore[arg-type]
        self.patch_size = patch_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(pixel_unshuffle_frames(x, self.patch_size))


class PatchifiedDecoder3D(CausalDecoder3D):
    """:class:`CausalDecoder3D` whose ``conv_out`` emits ``3 patch^2`` channels, unpatchified to pixels."""

    def __init__(self, patch_size: int, **kwargs: object) -> None:
        super().__init__(out_channels=3 * patch_size ** 2, **kwargs)  # type: ignore[arg-type]
        self.patch_size = patch_size

    def forward_out(self, feats: torch.Tensor, ctx: object) -> torch.Tensor:
        return pixel_shuffle_frames(self.conv_out(feats), self.patch_size)


class PatchifiedVAE(SpatioTemporalVAE):
    """Causal 3D VAE behind a ``patch_size`` pixel patchify: spatial factor ``patch_size * 2^(n-1)``.

    With ``patch_size=4``, four ``block_out_channels`` (three 2x resamplings), ``temporal_factor=8`` and
    ``latent_channels=128`` this is the LTX-Video geometry (32x32x8, clips of ``8k + 1`` frames).

    ``encode``: ``(B, 3, T, H, W)`` in ``[0, 1]``, ``T = k * tf + 1``, ``H, W`` multiples of the spatial factor
    -> scaled latent ``(B, c, (T-1)/tf+1, H/f, W/f)``; ``decode``: the inverse, clamped to ``[0, 1]``.
    Other frame counts or sizes raise :class:`~fastvsr.errors.InputError` (one line).
    """

    decoder_kind = "patchified"
    decoder_keys = SpatioTemporalVAE.decoder_keys + ("patch_size",)

    @register_to_config
    def __init__(self, block_out_channels: tuple[int, ...] = (32, 64, 64, 128), layers_per_block: int = 1,
                 latent_channels: int = 128, temporal_factor: int = 8, norm_num_groups: int = 8,
                 scaling_factor: float = 1.0, shift_factor: float | None = None, patch_size: int = 4) -> None:
        super(SpatioTemporalVAE, self).__init__()  # our own encoder/decoder, not the parent's
        if patch_size < 1:
            raise ValueError(f"patch_size must be >= 1, got {patch_size}")
        kwargs = dict(block_out_channels=tuple(block_out_channels), layers_per_block=layers_per_block,
                      latent_channels=latent_channels, temporal_factor=temporal_factor,
                      norm_num_groups=norm_num_groups)
        self.encoder = PatchifiedEncoder3D(patch_size, **kwargs)
        self.decoder = PatchifiedDecoder3D(patch_size, **kwargs)

    @property
    def spatial_factor(self) -> int:
        return int(self.config.patch_size) * 2 ** (len(self.config.block_out_channels) - 1)
