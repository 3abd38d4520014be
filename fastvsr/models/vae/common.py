"""What every VAE and decoder here shares: shape checks, pixel/latent scaling, and the split decoder loop.

Pixels at the public boundary are ``(B, 3, T, H, W)`` in ``[0, 1]``; inside the networks they are in
``[-1, 1]``. Public latents are scaled: ``z = (z_raw - shift_factor) * scaling_factor``.

A *split decoder* (our own :class:`~fastvsr.models.vae.autoencoder.CausalDecoder3D` and the CogVideoX
:class:`~fastvsr.models.vae.cogvideox.CogVideoXSplitDecoder`) exposes

- ``forward_features(z_raw, conv_cache) -> (feats, ctx)``: conv_in, mid and up blocks; ``feats`` is the last
  feature map (``4C`` channels at ``R = spatial_factor x`` the latent size),
- ``forward_norm(feats, ctx)``: the output norm and activation, ``forward_out(feats, ctx)``: ``conv_out``,
- ``output_conv()``: the ``nn.Conv3d`` holding conv_out's weight, and ``frame_batches(t)``: the latent-frame
  slices it decodes one after another (carrying the causal conv cache between them),

so :class:`~fastvsr.models.f16_decoder.F16Decoder` can insert its pixel shuffle between body and head.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution
from torch import nn

from fastvsr.errors import InputError
from fastvsr.models.vae.causal_conv import causal_stream


@dataclass
class DecoderContext:
    """State a head needs: the raw latent ``zq`` (CogVideoX spatial norms condition on it) and conv caches."""

    zq: torch.Tensor
    cache_in: dict[str, Any] = field(default_factory=dict)
    cache_out: dict[str, Any] = field(default_factory=dict)


class SplitDecoder(Protocol):
    """The body/head split of a VAE decoder (see the module docstring)."""

    def forward_features(self, z: torch.Tensor, conv_cache: dict[str, Any] | None = None
                         ) -> tuple[torch.Tensor, DecoderContext]: ...

    def forward_norm(self, feats: torch.Tensor, ctx: DecoderContext) -> torch.Tensor: ...

    def forward_out(self, feats: torch.Tensor, ctx: DecoderContext) -> torch.Tensor: ...

    def output_conv(self) -> nn.Conv3d: ...

    def frame_batches(self, num_frames: int) -> list[slice]: ...


Head = Callable[[torch.Tensor, DecoderContext], torch.Tensor]


def check_video(video: torch.Tensor, spatial_factor: int, frame_multiple: int, channels: int = 3) -> None:
    """Raise :class:`InputError` unless ``video`` is ``(B, channels, T, H, W)`` with ``T % frame_multiple == 1``
    (any T when ``frame_multiple == 1``) and ``H, W`` multiples of the spatial factor."""
    if video.dim() != 5 or video.shape[1] != channels:
        raise InputError(f"expected a video tensor (B, {channels}, T, H, W), got shape {tuple(video.shape)}")
    t, h, w = video.shape[2:]
    if frame_multiple > 1 and t % frame_multiple != 1:
        raise InputError(f"frame count {t} must be k*{frame_multiple}+1 for this VAE (pad the clip first)")
    if h % spatial_factor or w % spatial_factor:
        raise InputError(f"frame size {h}x{w} must be a multiple of {spatial_factor} (pad the frames first)")


def check_latent(z: torch.Tensor, channels: int) -> None:
    """Raise :class:`InputError` unless ``z`` is ``(B, channels, t, h, w)``."""
    if z.dim() != 5 or z.shape[1] != channels:
        raise InputError(f"expected a latent (B, {channels}, t, h, w), got shape {tuple(z.shape)}")


def scale_latent(z_raw: torch.Tensor, scaling_factor: float, shift_factor: float | None) -> torch.Tensor:
    """Raw VAE latent -> the scaled latent the denoiser sees."""
    return (z_raw - (shift_factor or 0.0)) * scaling_factor


def unscale_latent(z: torch.Tensor, scaling_factor: float, shift_factor: float | None) -> torch.Tensor:
    """Inverse of :func:`scale_latent`."""
    return z / scaling_factor + (shift_factor or 0.0)


def to_model_range(video01: torch.Tensor) -> torch.Tensor:
    """``[0, 1]`` pixels -> ``[-1, 1]``."""
    return video01 * 2.0 - 1.0


def to_video01(pixels: torch.Tensor, clamp: bool = True) -> torch.Tensor:
    """Network output in ``[-1, 1]`` (roughly) -> pixels in ``[0, 1]`` (clamped unless ``clamp=False``, which
    training losses use so that gradients do not vanish outside the range). With autograd off it works in
    place on ``pixels``, a decoder's fresh output."""
    if not torch.is_grad_enabled() and not pixels.requires_grad:  # inference: in place, no frame-size copies
        video = pixels.add_(1.0).div_(2.0)
        return video.clamp_(0.0, 1.0) if clamp else video
    video = (pixels + 1.0) / 2.0
    return video.clamp(0.0, 1.0) if clamp else video


def decode_in_frame_batches(decoder: SplitDecoder, z_raw: torch.Tensor, head: Head, temporal_factor: int
                            ) -> torch.Tensor:
    """Run ``decoder`` body + ``head`` over the decoder's latent-frame batches, carrying the conv cache (an
    explicit ``conv_cache`` for CogVideoX's decoder; the frames each :class:`CausalConv3d` keeps inside
    :func:`causal_stream` for ours).

    ``z_raw``: unscaled latent ``(B, c, t, h, w)`` decoding to ``(t - 1) * temporal_factor + 1`` frames;
    returns the head's outputs along time. With several batches and autograd off, each batch's output is
    copied into one output tensor allocated after the first batch, so no concatenation of whole outputs
    (and no second output-size tensor) is needed.
    """
    batches = decoder.frame_batches(z_raw.shape[2])
    cache: dict[str, Any] | None = None
    outputs: list[torch.Tensor] = []
    video: torch.Tensor | None = None  # (B, C, T, H, W): the whole output, when written in place
    done = 0
    with causal_stream(decoder) if len(batches) > 1 else nullcontext():
        for frames in batches:
            feats, ctx = decoder.forward_features(z_raw[:, :, frames], cache)
            out = head(feats, ctx)
            cache = ctx.cache_out
            del feats, ctx
            if len(batches) == 1 or torch.is_grad_enabled():
                outputs.append(out)
                continue
            if video is None:
                total = (z_raw.shape[2] - 1) * temporal_factor + 1
                video = out.new_empty(*out.shape[:2], total, *out.shape[3:])
            video[:, :, done:done + out.shape[2]] = out
            done += out.shape[2]
            del out  # not alive during the next batch
    if video is not None:
        if done != video.shape[2]:
            raise RuntimeError(f"the decoder's batches gave {done} frames, expected {video.shape[2]}")
        return video
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=2)


class VideoVAEMixin:
    """Our VAE contract on top of a diffusers ``ConfigMixin`` model with ``self.decoder`` a split decoder.

    Subclasses set ``decoder_kind``, ``temporal_factor_key`` (config key of the temporal factor) and
    ``decoder_keys`` (config keys the decoder is built from) and implement ``_moments`` (the encoder's Gaussian
    moments of ``[-1, 1]`` pixels); their config has ``block_out_channels``, ``latent_channels``,
    ``scaling_factor`` and ``shift_factor``.
    """

    decoder_kind: str
    temporal_factor_key: str
    decoder_keys: tuple[str, ...]
    config: Any
    decoder: Any

    @property
    def spatial_factor(self) -> int:
        return 2 ** (len(self.config.block_out_channels) - 1)

    @property
    def temporal_factor(self) -> int:
        return int(self.config[self.temporal_factor_key])

    @property
    def frame_multiple(self) -> int:
        """Input frame counts must be ``k * frame_multiple + 1`` (``temporal_factor`` unless the decoder needs
        more, see :class:`CogVideoXVAE`)."""
        return self.temporal_factor

    @property
    def latent_channels(self) -> int:
        return int(self.config.latent_channels)

    def decoder_spec(self) -> dict[str, Any]:
        """Constructor arguments of ``self.decoder`` (what :class:`F16Decoder` rebuilds it from), JSON-friendly."""
        return {k: (list(v) if isinstance(v, (list, tuple)) else v)
                for k, v in self.config.items() if k in self.decoder_keys}

    def _moments(self, video: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _prepare_latent(self, z_raw: torch.Tensor) -> torch.Tensor:
        """Hook applied to the raw latent before the decoder (identity unless the model has a post-quant conv)."""
        return z_raw

    def posterior(self, video01: torch.Tensor) -> DiagonalGaussianDistribution:
        """The encoder's Gaussian over *raw* (unscaled) latents of ``(B, 3, T, H, W)`` pixels in ``[0, 1]``
        (``.mean``, ``.logvar``, ``.kl()`` for training)."""
        check_video(video01, self.spatial_factor, self.frame_multiple)
        return DiagonalGaussianDistribution(self._moments(to_model_range(video01)))

    def encode(self, video01: torch.Tensor, sample: bool = False,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """``(B, 3, T, H, W)`` in ``[0, 1]`` -> scaled latent ``(B, c, (T-1)/tf+1, H/f, W/f)``: the posterior
        mode, or a sample drawn with ``generator`` when ``sample``."""
        posterior = self.posterior(video01)
        z_raw = posterior.sample(generator) if sample else posterior.mode()
        return scale_latent(z_raw, self.config.scaling_factor, self.config.shift_factor)

    def decode(self, z: torch.Tensor, clamp: bool = True) -> torch.Tensor:
        """Scaled latent ``(B, c, t, h, w)`` -> pixels ``(B, 3, (t-1)*tf+1, h*f, w*f)`` in ``[0, 1]`` (clamped
        unless ``clamp=False``)."""
        check_latent(z, self.latent_channels)
        z_raw = self._prepare_latent(unscale_latent(z, self.config.scaling_factor, self.config.shift_factor))
        pixels = decode_in_frame_batches(self.decoder, z_raw, self.decoder.forward_head, self.temporal_factor)
        return to_video01(pixels, clamp)

    def forward(self, video01: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``decode(encode(video01))``."""
        return self.decode(self.encode(video01))
