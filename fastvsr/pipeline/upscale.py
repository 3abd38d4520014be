"""Upscale videos with any model kind (the :class:`~fastvsr.models.VSRModel` contract): the one inference pipeline.

Per temporal chunk (``InferConfig.chunk_frames`` frames, neighbours overlapping by ``chunk_overlap``)::

    lr (C, T, H, W) --model.prepare_input(lr, scale): upscale x model.input_upscale(scale), pad to
      model.pixel_multiple / k*frame_multiple+1--> latent tiles (tile: auto = whole frame when the chunk
      fits the memory budget, else the cheapest even grid that fits; an int = the fewest even tiles of at most
      tile x tile; overlap >= tile_overlap)
      --per tile: model.encode -> model.restore(steps, context) -> model.decode--> feathered blend in output
      pixels (tile geometry x model.decoder_factor) --model.unpad_output--> (C, T, H*scale, W*scale)
      --optional colour fix against lr--> linear cross-fade with the neighbouring chunks

With ``chain_first_frame`` (models that ``condition_on_first_frame``, e.g. TurboVSR), chunk n+1 is restored
given ``RestoreContext.z_first``: the encoded SR frame of chunk n at chunk n+1's first frame (TurboVSR, arXiv
2506.23618, first-frame chaining of long videos).

The model must already be on ``cfg.device`` in ``cfg.dtype`` (:func:`fastvsr.pipeline.device.prepare_model`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn
from tqdm import tqdm

from fastvsr.errors import ConfigError
from fastvsr.models.bundle import RestoreContext
from fastvsr.ops.color_fix import ColorFix, color_fix
from fastvsr.ops.pad import PadInfo, pad_to_multiple, unpad
from fastvsr.ops.resize import resize_video
from fastvsr.ops.tiling import Tile, blend_weights, fit_tile_sizes, plan_spans, plan_tiles, tile_weights
from fastvsr.pipeline.config import AUTO_MIN_TILE, AUTO_TILE, InferConfig
from fastvsr.pipeline.device import resolve_device, resolve_dtype, to_device
from fastvsr.pipeline.memory import (
    keep_freed_memory,
    max_tile_pixels,
    memory_budget_bytes,
    widest_activation_per_pixel,
)
from fastvsr.pipeline.profile import stage, timed_iter
from fastvsr.pipeline.prompts import load_prompt
from fastvsr.pipeline.streaming import TemporalBlender, rechunk


def check_tiles(model: nn.Module, cfg: InferConfig) -> None:
    """ConfigError when the model's factors do not nest or ``cfg``'s tiles are not on its latent grid."""
    f_enc, f_dec, lm = model.encoder_factor, model.decoder_factor, model.latent_multiple
    if f_dec % f_enc:
        raise ConfigError(f"decoder factor {f_dec} is not a multiple of encoder factor {f_enc}")
    if (cfg.tile != AUTO_TILE and cfg.tile % lm) or cfg.tile_overlap % lm:
        raise ConfigError(f"tile {cfg.tile} and tile_overlap {cfg.tile_overlap} must be multiples of this model's "
                          f"latent multiple {lm}")


def auto_tile_sizes(model: nn.Module, x: torch.Tensor, cfg: InferConfig) -> tuple[int, int]:
    """Latent ``(rows, cols)`` tile sizes for ``tile: auto``: the whole latent frame when the chunk fits the
    memory budget (:mod:`fastvsr.pipeline.memory`), else the even grid computing the fewest pixels whose
    largest tile fits ``cfg.tile_batch`` times (tiles restored that many at once), with tiles no shorter than
    ``max(AUTO_MIN_TILE, 4 * tile_overlap)``.

    Args:
        model: a model (the VSRModel contract).
        x: the chunk's encoder input ``(B, 3, T, H, W)`` in ``[0, 1]``, ``cfg.dtype``, on the model's device.
        cfg: inference settings (``tile_overlap``, ``memory_budget_gb``).
    """
    f_enc, f_dec, lm = model.encoder_factor, model.decoder_factor, model.latent_multiple
    widest, output_bytes = chunk_footprint(model, x, cfg)
    max_pixels = max_tile_pixels(memory_budget_bytes(cfg, x.device), widest, output_bytes)
    rows, cols = x.shape[-2] // f_enc, x.shape[-1] // f_enc
    if rows * cols * f_dec**2 <= max_pixels:
        return rows, cols  # one tile: nothing to batch
    min_size = -(-max(AUTO_MIN_TILE, 4 * cfg.tile_overlap, cfg.tile_overlap + lm) // lm) * lm
    return fit_tile_sizes(rows, cols, max_pixels // cfg.tile_batch // f_dec**2, cfg.tile_overlap, lm, min_size)


def chunk_footprint(model: nn.Module, x: torch.Tensor, cfg: InferConfig) -> tuple[float, int]:
    """``(widest, output)`` of a chunk's encoder input ``x`` ``(B, 3, T, H, W)``: bytes per output pixel of
    the widest activation of its restoration (:func:`fastvsr.pipeline.memory.widest_activation_per_pixel`)
    and bytes of its float32 output; :func:`fastvsr.pipeline.memory.chunk_bytes` turns them into an
    estimate of the chunk's memory."""
    f_enc, f_dec, lm = model.encoder_factor, model.decoder_factor, model.latent_multiple
    b, _, t, h, w = x.shape
    probe = -(-2 // lm) * lm * f_enc  # encoder pixels of the smallest latent multiple >= 2
    widest = widest_activation_per_pixel(model, x, probe, partial(_restore_piece, model, cfg=cfg, eager=True))
    return widest, b * 3 * t * (h // f_enc * f_dec) * (w // f_enc * f_dec) * 4


def plan_clip_tiles(model: nn.Module, x: torch.Tensor, cfg: InferConfig) -> list[Tile]:
    """The latent tiles of a chunk's encoder input ``x`` ``(B, 3, T, H, W)``: ``cfg.tile`` (0: one tile; an
    int: even tiles of at most that size; ``auto``: :func:`auto_tile_sizes`) overlapping by at least
    ``cfg.tile_overlap``, on the model's latent multiple."""
    f_enc = model.encoder_factor
    size = auto_tile_sizes(model, x, cfg) if cfg.tile == AUTO_TILE else cfg.tile
    return plan_tiles(x.shape[-2] // f_enc, x.shape[-1] // f_enc, size, cfg.tile_overlap, model.latent_multiple)


def tile_batches(tiles: list[tuple[Tile, torch.Tensor]], size: int) -> list[list[tuple[Tile, torch.Tensor]]]:
    """``(tile, weight)`` pairs in consecutive runs of at most ``size`` tiles of one shape, in order."""
    def shape(pair: tuple[Tile, torch.Tensor]) -> tuple[int, int]:
        return pair[0].rows.length, pair[0].cols.length

    batches: list[list[tuple[Tile, torch.Tensor]]] = []
    for pair in tiles:
        if batches and len(batches[-1]) < size and shape(batches[-1][0]) == shape(pair):
            batches[-1].append(pair)
        else:
            batches.append([pair])
    return batches


def _repeat_batch(prompt: torch.Tensor, copies: int) -> torch.Tensor:
    """A ``(1 | B, L, C)`` text condition for ``copies`` tiles stacked along the batch (``(copies * B, ...)``
    when it has one entry per clip; a single entry broadcasts)."""
    return prompt if prompt.shape[0] == 1 or copies == 1 else prompt.repeat(copies, 1, 1)


def _restore_piece(model: nn.Module, piece: torch.Tensor, cfg: InferConfig, context: RestoreContext | None = None,
                   eager: bool = False) -> torch.Tensor:
    """``model.decode(model.restore(model.encode(piece)))`` of an encoder input piece ``(B, 3, T, h, w)`` in
    ``[0, 1]`` -> ``(B, 3, T, h', w')`` in ``[0, 1]``; ``eager`` bypasses ``torch.compile`` d methods."""
    names = ("encode", "restore", "decode")
    if eager:  # the class's own methods, not the torch.compile d instance attributes of cfg.compile
        encode, restore, decode = (partial(getattr(type(model), name), model) for name in names)
    else:
        encode, restore, decode = (getattr(model, name) for name in names)
    with stage("encode"):
        z = encode(piece, sample=cfg.sample_posterior)  # posterior noise: torch seeded with cfg.seed
    with stage("restore (denoiser)"):
        z = restore(z, cfg.steps, context or RestoreContext())
    with stage("decode"):
        return decode(z)


def upscale_clip(model: nn.Module, lr: torch.Tensor, cfg: InferConfig,
                 first_frame: torch.Tensor | None = None, tiles: list[Tile] | None = None) -> torch.Tensor:
    """Restore one temporal chunk, tiled in latent space.

    Args:
        model: a model (the VSRModel contract) on ``cfg.device`` in ``cfg.dtype``.
        lr: ``(B, 3, T, H, W)`` float in ``[0, 1]`` (any device); ``H * model.input_upscale(scale)`` whole.
        cfg: inference settings (tiles, steps, dtype, device; ``prompt_embeds``: a text-condition file,
            :mod:`fastvsr.pipeline.prompts`).
        first_frame: optional ``(B, 3, 1, H * scale, W * scale)`` restored frame 0 in ``[0, 1]`` (models that
            ``condition_on_first_frame``): each tile is restored given its encoded latent as ``z_first``.
        tiles: latent tiles of the padded encoder input (default: :func:`plan_clip_tiles` of ``cfg``).

    Returns:
        ``(B, 3, T, H * cfg.scale, W * cfg.scale)`` float32 in ``[0, 1]`` on ``cfg.device``, colour-fixed
        against ``lr`` when ``cfg.color_fix`` asks for it (:func:`fastvsr.ops.color_fix.color_fix`).
    """
    keep_freed_memory()
    device = resolve_device(cfg.device)
    dtype = resolve_dtype(cfg.dtype, device)
    with stage("prepare input"):
        lr = to_device(lr, device, torch.float32)
        lr_unpadded = lr
        lr, lr_pad = pad_to_multiple(lr, cfg.lr_multiple)
        x, info = model.prepare_input(lr, cfg.scale)
        x = x.to(dtype)
        first = None if first_frame is None else _encoder_input(to_device(first_frame, device), info,
                                                                 model.pixel_multiple)
    b, _, t, h, w = x.shape
    f_enc, f_dec = model.encoder_factor, model.decoder_factor
    if tiles is None:
        with stage("plan tiles"):
            tiles = plan_clip_tiles(model, x, cfg)
    prompt = load_prompt(cfg.prompt_embeds).to(device) if cfg.prompt_embeds else None
    single = len(tiles) == 1  # the whole frame at weight 1: its output is the result (no accumulator or copy)
    out = None if single else torch.zeros(b, 3, t, h // f_enc * f_dec, w // f_enc * f_dec, device=device)
    with torch.inference_mode():
        for group in tile_batches(list(zip(tiles, tile_weights(tiles, f_dec))), cfg.tile_batch):
            pieces = [(tile.rows.scaled(f_enc).slice, tile.cols.scaled(f_enc).slice) for tile, _ in group]
            context = RestoreContext(
                z_first=None if first is None else model.encode(
                    _stack_pieces(first, pieces).to(dtype)),
                prompt_embeds=None if prompt is None else _repeat_batch(prompt, len(group)))
            restored = _restore_piece(model, _stack_pieces(x, pieces), cfg, context)
            with stage("blend tiles"):
                for (tile, weight), piece in zip(group, restored.split(b), strict=True):
                    if single:
                        out = piece.float()
                    else:
                        out[..., tile.rows.scaled(f_dec).slice, tile.cols.scaled(f_dec).slice] += (
                            piece.float() * weight.to(device)
                        )
        with stage("blend tiles"):
            sr = unpad(model.unpad_output(out, info), lr_pad, cfg.scale).clamp_(0, 1)  # ours: clamped in place
        if ColorFix(cfg.color_fix) is not ColorFix.NONE:
            with stage("colour fix"):
                sr = color_fix(sr, lr_unpadded, cfg.color_fix)
    return sr


def _stack_pieces(x: torch.Tensor, pieces: list[tuple[slice, slice]]) -> torch.Tensor:
    """The ``(rows, cols)`` pieces of ``x`` ``(B, C, T, H, W)`` stacked along the batch; one piece is a view
    of ``x`` (no copy of the chunk's encoder input when it is restored whole)."""
    if len(pieces) == 1:
        rows, cols = pieces[0]
        return x[..., rows, cols]
    return torch.cat([x[..., r, c] for r, c in pieces])


def _encoder_input(frame: torch.Tensor, info: PadInfo, multiple: int) -> torch.Tensor:
    """An output-size frame ``(B, 3, 1, H', W')`` resized to the encoder input ``info`` describes and padded
    to ``multiple`` like it."""
    return pad_to_multiple(resize_video(frame.float(), (info.height, info.width)), multiple)[0]


@dataclass(frozen=True)
class UpscaledFrames:
    """Consecutive finished frames ``[start, start + T)`` and the LR frames they came from."""

    start: int
    lr: torch.Tensor  # (3, T, H, W) float in [0, 1]
    sr: torch.Tensor  # (3, T, *cfg.output_size(H, W)) float in [0, 1]: (H * scale, W * scale) unless resized


def chunk_share(num_chunks: int, part: tuple[int, int]) -> range:
    """The contiguous chunks ``part = (index, count)`` restores when a video is split into ``count`` parts of
    nearly equal chunk counts (the first ``num_chunks % count`` parts get one more)."""
    index, count = part
    if not 0 <= index < count:
        raise ValueError(f"part {index} of {count} does not exist")
    size, extra = divmod(num_chunks, count)
    start = index * size + min(index, extra)
    return range(start, start + size + (index < extra))


def upscale_stream(
    model: nn.Module,
    blocks: Iterable[tuple[int, torch.Tensor]],
    num_frames: int,
    cfg: InferConfig,
    progress: bool = True,
    part: tuple[int, int] = (0, 1),
) -> Iterator[UpscaledFrames]:
    """Restore a video given as a stream of frame blocks; finished frames come out as soon as possible.

    Memory holds about two chunks of frames whatever the length of the video. Chunk ``i`` is restored with
    torch seeded by ``cfg.seed + i``, so a chunk's output does not depend on which chunks ran before it; with
    ``part = (index, count)`` only the frames of that part of the video are restored (its chunks,
    :func:`chunk_share`, after restoring the previous chunk once more for the cross-fade), and the parts of
    all ``count`` indices concatenate to exactly the frames of ``part = (0, 1)``.

    Args:
        model: a model (the VSRModel contract) on ``cfg.device`` in ``cfg.dtype``.
        blocks: ``(start, frames)`` in order, ``frames`` ``(3, T_i, H, W)`` float in ``[0, 1]`` (e.g.
            ``fastvsr.data.video.iter_video_chunks``); any block sizes, no gaps; blocks before this part's
            frames are skipped.
        num_frames: total number of frames of the video.
        cfg: inference settings.
        progress: show a tqdm bar (frames and frames/s).
        part: ``(index, count)``: restore the index-th of ``count`` consecutive parts (multi-process).

    Yields:
        :class:`UpscaledFrames` covering this part's frames in order; ``sr`` on the CPU.

    Raises:
        ConfigError: ``chain_first_frame`` on a model without first-frame conditioning, or with ``count > 1``
            (each chunk then needs the previous chunk's output).
    """
    check_tiles(model, cfg)
    if cfg.chain_first_frame and not model.condition_on_first_frame:
        raise ConfigError("chain_first_frame needs a model that conditions on the first frame (e.g. kind turbovsr)")
    if cfg.chain_first_frame and part[1] > 1:
        raise ConfigError("chain_first_frame restores the chunks of a video in order; one video cannot be split "
                          "across processes (give each process whole files)")
    first = None
    spans = plan_spans(num_frames, cfg.chunk_frames or num_frames, cfg.chunk_overlap)
    weights = blend_weights(spans)
    own = chunk_share(len(spans), part)
    if not own:
        return
    lead = max(own.start - 1, 0)  # restored again only to cross-fade into this part's first frames
    blender = TemporalBlender()
    owned_frames = (spans[own.stop].start if own.stop < len(spans) else num_frames) - spans[own.start].start
    chunks = timed_iter(rechunk(blocks, spans[lead:own.stop]), "read input")
    with tqdm(total=owned_frames, unit="frame", desc="restoring", disable=not progress, leave=False) as bar:
        for i, (span, lr) in enumerate(chunks, start=lead):
            torch.manual_seed(cfg.seed + i)
            sr = upscale_clip(model, lr[None], cfg, first_frame=first)
            if cfg.chain_first_frame and i + 1 < len(spans):
                offset = spans[i + 1].start - span.start
                first = sr[:, :, offset:offset + 1].clone()  # the blender scales sr in place
            ready_until = spans[i + 1].start if i + 1 < len(spans) else span.stop
            with stage("cross-fade chunks"), torch.inference_mode():  # sr is an inference tensor: scaled in place
                start, finished = blender.add(span, sr[0].cpu(), weights[i], ready_until)
            if finished.shape[1] and i >= own.start:
                bar.update(finished.shape[1])
                size = cfg.output_size(*lr.shape[-2:])
                with stage("resize output"):
                    finished = resize_video(finished[None], size, "bicubic", antialias=True)[0]
                yield UpscaledFrames(start, lr[:, start - span.start: ready_until - span.start], finished)


def upscale_video(model: nn.Module, video: torch.Tensor, cfg: InferConfig, progress: bool = False) -> torch.Tensor:
    """Restore whole in-memory videos (chunked and tiled exactly as :func:`upscale_stream`).

    Args:
        model: a model (the VSRModel contract) on ``cfg.device`` in ``cfg.dtype``.
        video: ``(B, 3, T, H, W)`` float in ``[0, 1]``.
        cfg: inference settings.

    Returns:
        ``(B, 3, T, H * cfg.scale, W * cfg.scale)`` float32 in ``[0, 1]`` on the CPU.
    """
    if video.ndim != 5 or video.shape[1] != 3:
        raise ValueError(f"expected a (B, 3, T, H, W) video, got shape {tuple(video.shape)}")
    clips = []
    for clip in video:
        pieces = upscale_stream(model, [(0, clip)], clip.shape[1], cfg, progress=progress)
        clips.append(torch.cat([piece.sr for piece in pieces], dim=1))
    return torch.stack(clips)
