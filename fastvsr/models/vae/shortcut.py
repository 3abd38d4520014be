"""Parameter-free pixel <-> latent shortcut of the small causal VAE (residual autoencoding, as in DC-AE).

With ``shortcut=True`` the encoder's posterior mean is ``learned + pixels_to_latent(x)`` and the decoder's output
is ``learned + latent_to_pixels(z)``: the latent always carries a downscaled copy of the frames, stored
space-to-depth, and the networks learn only what that copy misses. At initialisation the autoencoder is already
an area-down / bicubic-up round trip instead of noise, which is what lets a small model train on a CPU.

For ``c`` latent channels the copy is the frame area-downscaled to ``p = sqrt(c / 3)`` times the latent size
and unshuffled by ``p`` (``c = 48``: ``p = 4``, a half-resolution copy for an f8 VAE). The decoder shuffles it
back and upsamples it bicubically to whatever size its head produced, so an f16 decoder built from the f8 one
(``fastvsr.models.f16_decoder``) inherits the shortcut at its own factor. Frames are handled one by one, so the
shortcut needs a VAE without temporal compression.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange

from fastvsr.ops.pixel import pixel_shuffle_frames, pixel_unshuffle_frames


def shortcut_unshuffle(latent_channels: int, spatial_factor: int, image_channels: int = 3) -> int:
    """``p``: the shortcut copy is ``p x`` the latent size; raises ``ValueError`` unless ``latent_channels`` is
    ``image_channels * p * p`` with ``p`` dividing ``spatial_factor``."""
    p = math.isqrt(latent_channels // image_channels)
    if image_channels * p * p != latent_channels or p == 0 or spatial_factor % p:
        raise ValueError(f"the VAE shortcut needs latent_channels = {image_channels} * p^2 with p dividing the "
                         f"spatial factor {spatial_factor}; got latent_channels={latent_channels}")
    return p


def check_shortcut(latent_channels: int, spatial_factor: int, temporal_factor: int) -> None:
    """Raise ``ValueError`` unless a VAE with these sizes can carry the shortcut (no temporal compression,
    ``latent_channels = 3 p^2`` with ``p`` dividing ``spatial_factor``)."""
    if temporal_factor != 1:
        raise ValueError(f"the VAE shortcut works frame by frame: temporal_factor must be 1, got {temporal_factor}")
    shortcut_unshuffle(latent_channels, spatial_factor)


def pixels_to_latent(x: torch.Tensor, spatial_factor: int, latent_channels: int) -> torch.Tensor:
    """``(B, 3, T, H, W)`` pixels (any range; ``[-1, 1]`` inside the VAE) -> ``(B, c, T, H/f, W/f)``: every
    frame area-downscaled by ``f / p`` and unshuffled by ``p`` (``f = spatial_factor``, ``c = latent_channels``)."""
    p = shortcut_unshuffle(latent_channels, spatial_factor, x.shape[1])
    pool = spatial_factor // p
    if pool > 1:
        b = x.shape[0]
        x = rearrange(F.avg_pool2d(rearrange(x, "b c t h w -> (b t) c h w"), pool), "(b t) c h w -> b c t h w", b=b)
    return pixel_unshuffle_frames(x, p)


def latent_to_pixels(z: torch.Tensor, size: tuple[int, int], image_channels: int = 3) -> torch.Tensor:
    """``(B, c, T, h, w)`` raw latent -> ``(B, 3, T, size[0], size[1])``: shuffled by ``p`` into a small frame,
    then bicubically upsampled (``align_corners=False``, not clamped) to ``size``."""
    p = math.isqrt(z.shape[1] // image_channels)
    small = pixel_shuffle_frames(z, p)
    if tuple(small.shape[-2:]) == tuple(size):
        return small
    b = small.shape[0]
    frames = F.interpolate(rearrange(small, "b c t h w -> (b t) c h w").contiguous(), size=tuple(size),
                           mode="bicubic", align_corners=False)  # contiguous: bicubic is slower channels-last
    return rearrange(frames, "(b t) c h w -> b c t h w", b=b)
