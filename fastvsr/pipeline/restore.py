"""Restore videos with a :class:`~fastvsr.models.VSRModel`-like model: the one inference pipeline.

Per temporal chunk (``InferConfig.chunk_frames`` frames, neighbours overlapping by ``chunk_overlap``)::

    lr (C, T, H, W) --model.input_upscale_mode x model.input_upscale(scale)--> (C, T, H*s_in, W*s_in)
      --pad to model.pixel_multiple / k*frame_multiple+1--> latent tiles (tile x tile, overlap tile_overlap)
      --per tile: model.encode -> model.restore(steps) -> model.decode--> feathered blend in output pixels
      (tile geometry x decoder.spatial_factor) --unpad(scale = f_dec / f_enc)--> (C, T, H*scale, W*scale)
      --optional colour fix against bilinear(lr)--> linear cross-fade with the neighbouring chunks

With ``chain_first_frame`` (TurboVSR models), chunk n+1 is restored given ``z_first``: the encoded SR frame of
chunk n at chunk n+1's first frame (TurboVSR, arXiv 2506.23618, first-frame chaining of long videos).

The model contract used (docs/design.md): ``encode``, ``restore(z, steps)``, ``decode``, ``input_upscale``
(and ``input_upscale_mode`` when the model has one; bilinear otherwise),
``pixel_multiple``, ``frame_multiple``, ``vae.spatial_factor``, ``decoder.spatial_factor``. The model must
already be on ``cfg.device`` in ``cfg.dtype`` (:func:`fastvsr.pipeline.device.prepare_model`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from fastvsr.errors import ConfigError
from fastvsr.models.turbo import TurboVSRModel
from fastvsr.ops.color_fix import ColorFix, color_fix
from fastvsr.ops.pad import PadInfo, pad_to_multiple, unpad
from fastvsr.ops.resize import resize_video, upscale_lr
from fastvsr.ops.tiling import blend_weights, plan_spans, plan_tiles, tile_weights
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.device import resolve_device, resolve_dtype
from fastvsr.pipeline.streaming import TemporalBlender, rechunk


@dataclass(frozen=True)
class Geometry:
    """Size relations of a model, read from its properties (never literals)."""

    input_upscale: float  # LR -> encoder input
    input_upscale_mode: str  # how (fastvsr.ops.resize.upscale_lr)
    encoder_factor: int  # encoder input pixels per latent pixel
    decoder_factor: int  # output pixels per latent pixel
    latent_multiple: int  # latent tiles start at and have sizes in multiples of this
    pixel_multiple: int
    frame_multiple: int

    @property
    def latent_to_output(self) -> int:
        """Spatial factor between the (padded) encoder input and the decoder output."""
        return self.decoder_factor // self.encoder_factor


def model_geometry(model: nn.Module, cfg: InferConfig) -> Geometry:
    """Read the model's size relations and check ``cfg`` against them (ConfigError on a mismatch)."""
    f_enc, f_dec = int(model.vae.spatial_factor), int(model.decoder.spatial_factor)
    geometry = Geometry(
        input_upscale=float(model.input_upscale(cfg.scale)),
        input_upscale_mode=getattr(model, "input_upscale_mode", "bilinear"), encoder_factor=f_enc, decoder_factor=f_dec,
        latent_multiple=max(1, int(model.pixel_multiple) // f_enc), pixel_multiple=int(model.pixel_multiple),
        frame_multiple=int(model.frame_multiple),
    )
    if f_dec % f_enc:
        raise ConfigError(f"decoder factor {f_dec} is not a multiple of encoder factor {f_enc}")
    lm = geometry.latent_multiple
    if cfg.tile % lm or cfg.tile_overlap % lm:
        raise ConfigError(f"tile {cfg.tile} and tile_overlap {cfg.tile_overlap} must be multiples of this model's "
                          f"latent multiple {lm}")
    return geometry


def restore_clip(model: nn.Module, lr: torch.Tensor, cfg: InferConfig, geometry: Geometry,
                 first_frame: torch.Tensor | None = None) -> torch.Tensor:
    """Restore one temporal chunk, tiled in latent space.

    Args:
        model: a VSRModel-like module on ``cfg.device`` in ``cfg.dtype``.
        lr: ``(B, 3, T, H, W)`` float in ``[0, 1]`` (any device); ``H * input_upscale`` must be whole.
        cfg: inference settings (tiles, steps, dtype, device).
        geometry: :func:`model_geometry` of ``model``.
        first_frame: optional ``(B, 3, 1, H * scale, W * scale)`` restored frame 0 in ``[0, 1]`` (TurboVSR
            models): each tile is restored given its encoded latent as ``z_first``.

    Returns:
        ``(B, 3, T, H * cfg.scale, W * cfg.scale)`` float32 in ``[0, 1]`` on ``cfg.device``, colour-fixed
        against the bilinearly upsampled ``lr`` when ``cfg.color_fix`` asks for it.
    """
    device, dtype = resolve_device(cfg.device), resolve_dtype(cfg.dtype)
    lr = lr.to(device=device, dtype=torch.float32)
    x = upscale_lr(lr, geometry.input_upscale, geometry.input_upscale_mode)
    x, info = pad_to_multiple(x, geometry.pixel_multiple, geometry.frame_multiple)
    x = x.to(dtype)
    first = None if first_frame is None else _encoder_input(first_frame.to(device), info, geometry.pixel_multiple)
    b, _, t, h, w = x.shape
    f_enc, f_dec = geometry.encoder_factor, geometry.decoder_factor
    tiles = plan_tiles(h // f_enc, w // f_enc, cfg.tile, cfg.tile_overlap, geometry.latent_multiple)
    out = torch.zeros(b, 3, t, h // f_enc * f_dec, w // f_enc * f_dec, device=device)
    with torch.inference_mode():
        for tile, weight in zip(tiles, tile_weights(tiles, f_dec)):
            piece_rows, piece_cols = tile.rows.scaled(f_enc).slice, tile.cols.scaled(f_enc).slice
            piece = x[..., piece_rows, piece_cols]
            z_first = {} if first is None else {"z_first": model.encode(first[..., piece_rows, piece_cols].to(dtype))}
            restored = model.decode(model.restore(model.encode(piece), steps=cfg.steps, **z_first))
            out[..., tile.rows.scaled(f_dec).slice, tile.cols.scaled(f_dec).slice] += (
                restored.float() * weight.to(device)
            )
    sr = unpad(out, info, geometry.latent_to_output).clamp(0, 1)
    if ColorFix(cfg.color_fix) is not ColorFix.NONE:
        sr = color_fix(sr, resize_video(lr, tuple(sr.shape[-2:])), cfg.color_fix)
    return sr


def _encoder_input(frame: torch.Tensor, info: PadInfo, multiple: int) -> torch.Tensor:
    """An output-size frame ``(B, 3, 1, H', W')`` resized to the encoder input ``info`` describes and padded
    to ``multiple`` like it."""
    return pad_to_multiple(resize_video(frame.float(), (info.height, info.width)), multiple)[0]


@dataclass(frozen=True)
class RestoredFrames:
    """Consecutive finished frames ``[start, start + T)`` and the LR frames they came from."""

    start: int
    lr: torch.Tensor  # (3, T, H, W) float in [0, 1]
    sr: torch.Tensor  # (3, T, H * scale, W * scale) float in [0, 1]


def restore_stream(
    model: nn.Module,
    blocks: Iterable[tuple[int, torch.Tensor]],
    num_frames: int,
    cfg: InferConfig,
    progress: bool = True,
) -> Iterator[RestoredFrames]:
    """Restore a video given as a stream of frame blocks; finished frames come out as soon as possible.

    Memory holds about two chunks of frames whatever the length of the video.

    Args:
        model: a VSRModel-like module on ``cfg.device`` in ``cfg.dtype``.
        blocks: ``(start, frames)`` in order, ``frames`` ``(3, T_i, H, W)`` float in ``[0, 1]`` (e.g.
            ``fastvsr.data.video.iter_video_chunks``); any block sizes, no gaps.
        num_frames: total number of frames the blocks deliver.
        cfg: inference settings.
        progress: show a tqdm bar (frames and frames/s).

    Yields:
        :class:`RestoredFrames` covering ``[0, num_frames)`` in order; ``sr`` on the CPU.
    """
    geometry = model_geometry(model, cfg)
    if cfg.chain_first_frame and not isinstance(model, TurboVSRModel):
        raise ConfigError("chain_first_frame needs a TurboVSR model (restore with z_first)")
    first = None
    spans = plan_spans(num_frames, cfg.chunk_frames, cfg.chunk_overlap)
    weights = blend_weights(spans)
    blender = TemporalBlender()
    torch.manual_seed(cfg.seed)
    with tqdm(total=num_frames, unit="frame", desc="restoring", disable=not progress, leave=False) as bar:
        for i, (span, lr) in enumerate(rechunk(blocks, spans)):
            sr = restore_clip(model, lr[None], cfg, geometry, first_frame=first)
            if cfg.chain_first_frame and i + 1 < len(spans):
                offset = spans[i + 1].start - span.start
                first = sr[:, :, offset:offset + 1]
            ready_until = spans[i + 1].start if i + 1 < len(spans) else span.stop
            start, finished = blender.add(span, sr[0].cpu(), weights[i], ready_until)
            if finished.shape[1]:
                bar.update(finished.shape[1])
                yield RestoredFrames(start, lr[:, start - span.start: ready_until - span.start], finished)


def restore_video(model: nn.Module, video: torch.Tensor, cfg: InferConfig, progress: bool = False) -> torch.Tensor:
    """Restore whole in-memory videos (chunked and tiled exactly as :func:`restore_stream`).

    Args:
        model: a VSRModel-like module on ``cfg.device`` in ``cfg.dtype``.
        video: ``(B, 3, T, H, W)`` float in ``[0, 1]``.
        cfg: inference settings.

    Returns:
        ``(B, 3, T, H * cfg.scale, W * cfg.scale)`` float32 in ``[0, 1]`` on the CPU.
    """
    if video.ndim != 5 or video.shape[1] != 3:
        raise ValueError(f"expected a (B, 3, T, H, W) video, got shape {tuple(video.shape)}")
    clips = []
    for clip in video:
        pieces = restore_stream(model, [(0, clip)], clip.shape[1], cfg, progress=progress)
        clips.append(torch.cat([piece.sr for piece in pieces], dim=1))
    return torch.stack(clips)
