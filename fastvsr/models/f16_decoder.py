"""FastVSR's f16 decoder: an f8 VAE decoder with a per-frame PixelShuffle(2) and a channel copy before its head.

Layout (FastVSR figure (c)): the f8 decoder's conv_in, mid and up blocks unchanged (``4C`` channels at
``R = 8x`` the latent), PixelShuffle(2) per frame (``C`` at ``2R``), expansion back to ``4C`` (parameter-free
copy x4, or a 1x1 conv), then the f8 head (norm, SiLU, conv_out). Every f8 weight keeps its shape, so
:meth:`F16Decoder.from_f8` copies them all. With ``norm_placement="before"`` the head's norm/SiLU run at
``4C``/``R`` and the copy feeds conv_out directly, as it does in the norm-free block style (no norm or
activation in the head); then :meth:`F16Decoder.fold_copy` replaces "copy + conv_out" by one conv on ``C``
channels (exact up to float rounding, 4x fewer conv_out MACs and a 4x smaller input at ``2R``; inference
folds wherever it is exact, :func:`fastvsr.pipeline.device.prepare_model`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from einops import rearrange
from torch import nn

from fastvsr.errors import ConfigError
from fastvsr.models.local_files import require_weights, stored_dtype
from fastvsr.models.vae import VAE, build_split_decoder
from fastvsr.models.vae.causal_conv import FrameGroupNorm
from fastvsr.models.vae.common import DecoderContext, check_latent, decode_in_frame_batches, to_video01, unscale_latent
from fastvsr.ops.layout import layout_of
from fastvsr.ops.pixel import channel_copy, fold_copy_into_conv_weight, pixel_shuffle_frames

SHUFFLE = 2  # extra spatial factor of the decoder
EXPANSIONS = ("copy", "conv1x1")
NORM_PLACEMENTS = ("after", "before")


def check_f16_switches(expansion: str, norm_placement: str) -> None:
    """Raise ``ValueError`` unless ``expansion`` (``copy``: parameter-free tile x4, or ``conv1x1``: C -> 4C
    initialised as the copy) and ``norm_placement`` (``after`` the shuffle, the paper's figure, or ``before``
    it, which allows :meth:`F16Decoder.fold_copy`) are known."""
    if expansion not in EXPANSIONS:
        raise ValueError(f"decoder.expansion must be one of {EXPANSIONS}, got '{expansion}'")
    if norm_placement not in NORM_PLACEMENTS:
        raise ValueError(f"decoder.norm_placement must be one of {NORM_PLACEMENTS}, got '{norm_placement}'")


def _copy_as_conv_weight(channels: int, copies: int) -> torch.Tensor:
    """Weight ``(copies*C, C, 1, 1, 1)`` of the 1x1 conv that equals :func:`channel_copy`."""
    return torch.eye(channels).repeat(copies, 1)[:, :, None, None, None]


def normed_copy(x: torch.Tensor, norm: FrameGroupNorm, copies: int) -> torch.Tensor:
    """``norm(channel_copy(x, copies))`` without autograd, for a per-frame group norm on ``copies * C`` channels
    whose ``num_groups`` divides by ``copies`` (each group then lies inside one copy and has the statistics
    of a group of ``x``): ``x`` ``(B, C, T, H, W)`` normalised once with ``num_groups / copies`` groups, then
    each copy's affine written straight into the ``(B, copies * C, T, H, W)`` output, in ``x``'s layout."""
    b, c = x.shape[:2]
    frames = rearrange(x, "b c t h w -> (b t) c h w")
    normed = F.group_norm(frames, norm.num_groups // copies, eps=norm.eps)
    normed = rearrange(normed, "(b t) c h w -> b c t h w", b=b)
    out = torch.empty((b, copies * c, *x.shape[2:]), dtype=x.dtype, device=x.device, memory_format=layout_of(x))
    affine = (1, copies, c) + (1,) * (x.dim() - 2)
    torch.addcmul(norm.bias.view(affine), normed.unsqueeze(1), norm.weight.view(affine),
                  out=out.unflatten(1, (copies, c)))
    return out


class F16Decoder(ModelMixin, ConfigMixin):
    """Decoder with twice the spatial factor of the VAE it was built from (16 for an f8 VAE).

    ``decode(z)``: scaled latent ``(B, c, t, h, w)`` (the VAE's scaling) -> ``(B, 3, T, 16h, 16w)`` in ``[0, 1]``
    with ``T = (t - 1) * temporal_factor + 1``. Build it with :meth:`from_f8`; the constructor arguments are
    what ``config.json`` records (``base_kind``/``base_decoder``: the f8 VAE kind and its ``decoder_spec()``).
    """

    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(self, base_kind: str = "spatiotemporal", base_decoder: dict[str, Any] | None = None,
                 expansion: str = "copy", norm_placement: str = "after", folded: bool = False,
                 scaling_factor: float = 1.0, shift_factor: float | None = None) -> None:
        super().__init__()
        try:
            check_f16_switches(expansion, norm_placement)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        if base_decoder is None:
            raise ConfigError("F16Decoder needs base_decoder (build it with F16Decoder.from_f8(vae))")
        self.decoder = build_split_decoder(base_kind, base_decoder)
        wide = self.decoder.output_conv().in_channels
        if wide % (SHUFFLE * SHUFFLE):
            raise ConfigError(f"F16Decoder: the last decoder block has {wide} channels, not a multiple of 4")
        self.expand = nn.Conv3d(wide // 4, wide, 1) if expansion == "conv1x1" else None
        if folded:
            self._check_foldable()
            conv = self.decoder.output_conv()
            self._set_output_weight(conv.weight.new_empty(conv.out_channels, wide // 4, *conv.kernel_size))

    @classmethod
    def from_f8(cls, vae: VAE, expansion: str = "copy", norm_placement: str = "after") -> F16Decoder:
        """An f16 decoder holding a copy of every weight of ``vae.decoder`` (same dtype and device).

        ``vae``: a :class:`SpatioTemporalVAE` or :class:`CogVideoXVAE` (any spatial factor; the result has twice
        it). The ``conv1x1`` expansion starts as an exact copy (identity tiles, zero bias).
        """
        if getattr(vae, "post_quant_conv", None) is not None:
            raise ConfigError("F16Decoder.from_f8: VAEs with a post_quant_conv are not supported")
        param = next(vae.decoder.parameters())
        model = cls(base_kind=vae.decoder_kind, base_decoder=vae.decoder_spec(), expansion=expansion,
                    norm_placement=norm_placement, scaling_factor=float(vae.config.scaling_factor),
                    shift_factor=vae.config.shift_factor).to(param.device)
        if param.dtype != torch.float32:
            nn.Module.to(model, dtype=param.dtype)  # (diffusers' own .to warns about casts it has no cause to)
        model.decoder.load_state_dict(vae.decoder.state_dict(), strict=True)
        if model.expand is not None:
            with torch.no_grad():
                model.expand.weight.copy_(_copy_as_conv_weight(model.expand.in_channels, SHUFFLE * SHUFFLE))
                model.expand.bias.zero_()
        return model

    @classmethod
    def load(cls, folder: str | Path, torch_dtype: torch.dtype | None = None) -> F16Decoder:
        """A saved decoder folder (local only; ``WeightsMissingError`` names a missing file), in its stored dtype
        unless ``torch_dtype`` is given."""
        folder = require_weights(folder)
        return cls.from_pretrained(folder, torch_dtype=torch_dtype or stored_dtype(folder), local_files_only=True)

    def check_fits(self, vae: VAE, source: str = "decoder.pretrained") -> None:
        """Raise :class:`ConfigError` (one line naming the first differing tensor) unless this decoder was built
        from a decoder of ``vae``'s kind and shapes, with its latent scaling."""
        if self.config.base_kind != vae.decoder_kind:
            raise ConfigError(f"{source} is an f16 decoder of a {self.config.base_kind} VAE, but the VAE is "
                              f"{vae.decoder_kind}")
        mine = self.decoder.state_dict()
        for name, tensor in vae.decoder.state_dict().items():
            if name not in mine:
                raise ConfigError(f"{source} has no tensor decoder.{name} of the VAE's decoder")
            if not self.folded or name not in ("conv_out.weight", "conv_out.conv.weight"):
                if tuple(mine[name].shape) != tuple(tensor.shape):
                    raise ConfigError(f"{source}: tensor decoder.{name} is {tuple(mine[name].shape)}, the VAE's "
                                      f"decoder has {tuple(tensor.shape)}")
        if float(self.config.scaling_factor) != float(vae.config.scaling_factor):
            raise ConfigError(f"{source} decodes latents scaled by {self.config.scaling_factor}, the VAE scales "
                              f"them by {vae.config.scaling_factor}")

    @property
    def spatial_factor(self) -> int:
        return SHUFFLE * 2 ** (len(self.config.base_decoder["block_out_channels"]) - 1)

    @property
    def temporal_factor(self) -> int:
        spec = self.config.base_decoder
        return int(spec.get("temporal_factor", spec.get("temporal_compression_ratio", 1)))

    @property
    def latent_channels(self) -> int:
        return int(self.config.base_decoder["latent_channels"])

    @property
    def folded(self) -> bool:
        return bool(self.config.folded)

    @property
    def foldable(self) -> bool:
        """Whether :meth:`fold_copy` is exact: the copy feeds conv_out directly, i.e. ``expansion='copy'`` and
        either ``norm_placement='before'`` or a head without norm and activation (the norm-free block style,
        whose head is the identity wherever it sits)."""
        style = getattr(self.decoder, "style", None)
        identity_head = style is not None and style.norm == "none"
        return self.config.expansion == "copy" and (self.config.norm_placement == "before" or identity_head)

    def _check_foldable(self) -> None:
        if not self.foldable:
            raise ConfigError(
                "fold_copy is exact only when the copy feeds conv_out directly (expansion='copy', and "
                "norm_placement='before' or a norm-free head); this decoder has "
                f"expansion='{self.config.expansion}', norm_placement='{self.config.norm_placement}'")

    def _set_output_weight(self, weight: torch.Tensor) -> None:
        conv = self.decoder.output_conv()
        conv.weight = nn.Parameter(weight, requires_grad=conv.weight.requires_grad)
        conv.in_channels = weight.shape[1]

    def fold_copy(self) -> F16Decoder:
        """Fold the channel copy into conv_out (inference): conv_out then reads the ``C`` shuffled channels
        with its 4 input-channel slices summed. Exact; raises :class:`ConfigError` where it would not be."""
        self._check_foldable()
        if not self.folded:
            conv = self.decoder.output_conv()
            self._set_output_weight(fold_copy_into_conv_weight(conv.weight.detach(), SHUFFLE * SHUFFLE))
            self.register_to_config(folded=True)
        return self

    def _expand(self, x: torch.Tensor) -> torch.Tensor:
        if self.folded:
            return x
        if self.expand is not None:
            return self.expand(x)
        return channel_copy(x, SHUFFLE * SHUFFLE)

    def _expand_then_norm(self, x: torch.Tensor, ctx: DecoderContext) -> torch.Tensor:
        """The head's norm and activation of the expanded ``x`` (``norm_placement='after'``). In inference,
        for the copy and a per-frame group norm whose groups each lie inside one copy, the statistics are
        taken once on the ``C`` shuffled channels and the 4 affine copies written in one pass
        (:func:`normed_copy`; the same values up to float rounding, without the copy and a norm over it; not
        under ``torch.compile``, which fuses the plain path itself)."""
        norm = getattr(self.decoder, "norm_out", None)
        if (torch.is_grad_enabled() or torch.compiler.is_compiling() or self.expand is not None
                or not isinstance(norm, FrameGroupNorm) or not norm.affine or norm.num_groups % (SHUFFLE * SHUFFLE)):
            return self.decoder.forward_norm(self._expand(x), ctx)
        return self.decoder.style.activate(normed_copy(x, norm, SHUFFLE * SHUFFLE), inplace=True)

    def forward_head(self, feats: torch.Tensor, ctx: DecoderContext) -> torch.Tensor:
        """Last f8 feature map ``(B, 4C, T, R_h, R_w)`` -> pixels ``(B, 3, T, 2R_h, 2R_w)`` in ``[-1, 1]``."""
        decoder = self.decoder
        if self.config.norm_placement == "before":
            x = self._expand(pixel_shuffle_frames(decoder.forward_norm(feats, ctx), SHUFFLE))
        else:
            x = self._expand_then_norm(pixel_shuffle_frames(feats, SHUFFLE), ctx)
        return decoder.forward_out(x, ctx)

    def decode(self, z: torch.Tensor, clamp: bool = True) -> torch.Tensor:
        """Scaled latent ``(B, c, t, h, w)`` -> ``(B, 3, T, h*sf, w*sf)`` in ``[0, 1]`` (clamped unless
        ``clamp=False``), ``sf = spatial_factor``."""
        check_latent(z, self.latent_channels)
        z_raw = unscale_latent(z, self.config.scaling_factor, self.config.shift_factor)
        pixels = decode_in_frame_batches(self.decoder, z_raw, self.forward_head, self.temporal_factor)
        return to_video01(pixels, clamp)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`decode`."""
        return self.decode(z)
