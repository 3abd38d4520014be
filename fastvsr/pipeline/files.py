"""File-level inference: a video, an image or a folder of frames in; the same kind of thing out.

Everything a user can get wrong (missing input, existing output, missing model, frames too large) is checked
before any work. Then frames are read in blocks, restored chunk by chunk and written as soon as they are
finished, so memory does not grow with the video's length; with ``cfg.overlap_io`` the next block is decoded
and the last frames are encoded on background threads while the model runs. Each output appears atomically or
not at all.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from fastvsr.atomic import check_output_path, resolve_output, scratch_folder
from fastvsr.data.codecs import video_suffix
from fastvsr.data.video import VideoInfo, VideoWriter, iter_video_chunks, probe_video, write_video
from fastvsr.errors import ConfigError, InputError, OutputError
from fastvsr.pipeline.compare import compare_figure, side_by_side
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.loading import load_inference_model
from fastvsr.pipeline.overlap import BackgroundWriter, read_ahead
from fastvsr.pipeline.profile import stage
from fastvsr.pipeline.prompts import with_clip_prompt
from fastvsr.pipeline.upscale import UpscaledFrames, upscale_stream
from fastvsr.pipeline.workers import Workers

READ_BLOCK_FRAMES = 8  # frames decoded at a time (any value works: the pipeline regroups them into chunks)


def default_output(source: Path, info: VideoInfo, scale: int, codec: str = "h264") -> Path:
    """Beside the input: ``clip.mp4 -> clip_x4.mp4`` (``.mov`` for ``codec`` prores), ``photo.jpg ->
    photo_x4.png``, ``frames/ -> frames_x4/``."""
    if source.is_dir():
        return source.parent / f"{source.name}_x{scale}"
    suffix = ".png" if info.is_image_sequence else video_suffix(codec)
    return source.parent / f"{source.stem}_x{scale}{suffix}"


def compare_paths(output: Path, is_video: bool) -> list[Path]:
    """Comparison outputs for ``output``: ``<stem>_compare.png`` (+ ``<stem>_compare.mp4`` for videos)."""
    stem = output.parent / f"{output.stem if output.suffix else output.name}_compare"
    return [stem.with_suffix(".mp4"), stem.with_suffix(".png")] if is_video else [stem.with_suffix(".png")]


def check_frame_size(info: VideoInfo, cfg: InferConfig) -> None:
    """Raise InputError when output frames would have more than ``cfg.max_pixels`` pixels; say on stderr when
    ``--resolution`` asks for more than the model restores (those frames are upsampled, without new detail)."""
    out_h, out_w = cfg.output_size(info.height, info.width)
    if out_h * out_w > cfg.max_pixels:
        raise InputError(
            f"{info.width}x{info.height} to {out_w}x{out_h} frames ({out_h * out_w / 1e6:.1f} MP) is above "
            f"--max-pixels {cfg.max_pixels}; use a smaller --scale / --resolution or raise --max-pixels"
        )
    if out_h > info.height * cfg.scale:
        print(f"note: {out_w}x{out_h} is above what x{cfg.scale} restores ({info.width * cfg.scale}x"
              f"{info.height * cfg.scale}); the restored frames are upsampled (raise --scale for more detail)",
              file=sys.stderr)


@dataclass(frozen=True)
class OutputPlan:
    """Where one input's outputs go, checked before any work (:func:`plan_outputs`)."""

    source: Path
    info: VideoInfo
    target: Path
    extras: list[Path]  # compare outputs: [<stem>_compare.mp4,] <stem>_compare.png
    writer: VideoWriter  # not yet opened


def plan_outputs(input_path: str | Path, output: str | Path | None, cfg: InferConfig, compare: bool = False,
                 overwrite: bool = False) -> OutputPlan:
    """Probe the input and check every output path (see :func:`super_resolve_path`); nothing is written.

    Raises:
        InputError, OutputError: one-line user errors.
    """
    source = Path(input_path)
    info = probe_video(source)
    check_frame_size(info, cfg)
    default = default_output(source, info, cfg.scale, cfg.codec)
    target = resolve_output(output, default.name) if output is not None else default
    writer = VideoWriter(target, info.fps, codec=cfg.codec, pix_fmt=cfg.pix_fmt, crf=cfg.crf, lossless=cfg.lossless,
                         source=info, streams_from=None if info.is_image_sequence else source, overwrite=overwrite,
                         inputs=(source,))
    if writer.kind == "image" and info.num_frames > 1:
        raise OutputError(f"{target} is an image but {source} has {info.num_frames} frames; write a video "
                          "or a folder (an output path without suffix)")
    extras = compare_paths(target, writer.kind == "video") if compare else []
    for path in extras:
        check_output_path(path, overwrite=overwrite, inputs=(source, target))
    return OutputPlan(source, info, target, extras, writer)


def write_outputs(plan: OutputPlan, model: nn.Module, cfg: InferConfig, overwrite: bool = False,
                  progress: bool = True) -> list[Path]:
    """Restore ``plan.source`` with ``model`` (on ``cfg.device``) into the planned outputs; returns them.

    The compare video (``plan.extras[0]`` for a video) carries the input's audio and subtitles like the output;
    the compare picture is :func:`fastvsr.pipeline.compare.compare_figure` of the middle frame. With
    ``cfg.overlap_io`` the profile's ``read input`` and ``write output`` stages are the time the model's thread
    waited for the reader and the writer threads, not the time they worked."""
    info, extras, source, target = plan.info, plan.extras, plan.source, plan.target
    cfg = with_clip_prompt(cfg, source)
    labels = (f"bicubic x{cfg.scale}", f"{getattr(model, 'kind', 'restored')} x{cfg.scale}")
    middle, compare_pair = info.num_frames // 2, None
    depth = 1 if cfg.overlap_io else 0
    blocks = read_ahead(iter_video_chunks(source, READ_BLOCK_FRAMES), depth)
    with ExitStack() as stack:
        out = stack.enter_context(plan.writer)
        side = None
        if len(extras) == 2:
            side = stack.enter_context(VideoWriter(
                extras[0], info.fps, crf=cfg.crf, source=info, overwrite=overwrite, inputs=(source, target),
                streams_from=None if info.is_image_sequence else source))

        def write(piece: UpscaledFrames) -> None:
            with stage("write output"):
                out.write(piece.sr)
            if side is not None:
                with stage("write compare"):
                    side.write(side_by_side(piece.lr, piece.sr, labels))

        writer = stack.enter_context(BackgroundWriter(write, depth)) if depth else None
        for piece in upscale_stream(model, blocks, info.num_frames, cfg, progress):
            if writer is None:
                write(piece)
            else:
                with stage("write output"):
                    writer.write(piece)
            if extras and piece.start <= middle < piece.start + piece.sr.shape[1]:
                at = slice(middle - piece.start, middle - piece.start + 1)
                compare_pair = piece.lr[:, at].clone(), piece.sr[:, at].clone()
        if writer is not None:
            with stage("write output"):
                writer.close()
    if compare_pair is not None:
        with stage("write compare"):
            write_video(extras[-1], compare_figure(*compare_pair, labels), info.fps, source=info,
                        overwrite=overwrite, inputs=(source, target))
    return [target, *extras]


def write_outputs_split(plan: OutputPlan, model: nn.Module, cfg: InferConfig, workers: Workers,
                        progress: bool = True) -> list[Path]:
    """Restore one video with every process of ``workers``, each a consecutive part of its chunks
    (:func:`fastvsr.pipeline.upscale.chunk_share`); the main process then writes the output from the parts
    (exactly the frames one process would write). Every process calls this; returns the output on the main one.

    Raises:
        ConfigError: compare outputs were asked for (they need the whole video on one process).
    """
    if plan.extras:
        raise ConfigError("--compare needs the whole video on one process; run it without accelerate launch")
    info, cfg = plan.info, with_clip_prompt(cfg, plan.source)
    with ExitStack() as stack:
        scratch = stack.enter_context(scratch_folder(plan.target)) if workers.main else None
        scratch = Path(workers.broadcast(str(scratch)))
        blocks = read_ahead(iter_video_chunks(plan.source, READ_BLOCK_FRAMES), 1 if cfg.overlap_io else 0)
        part = (workers.index, workers.count)
        for piece in upscale_stream(model, blocks, info.num_frames, cfg, progress and workers.main, part=part):
            with stage("write output"):  # the writer's own samples (16-bit for a 10-bit video): written as they are
                np.save(scratch / f"{piece.start:09d}.npy", plan.writer.quantize(piece.sr))
        workers.barrier()
        if workers.main:
            with plan.writer as out:
                for piece in sorted(scratch.glob("*.npy")):
                    with stage("write output"):
                        out.write_samples(np.load(piece))
        workers.barrier()
    return [plan.target] if workers.main else []


def super_resolve_path(
    input_path: str | Path,
    output: str | Path | None,
    cfg: InferConfig,
    model_dir: str | Path | None = None,
    compare: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> list[Path]:
    """Super-resolve a video, an image or a folder of frames.

    Args:
        input_path: video file, image file or folder of frames.
        output: target (default :func:`default_output`); its suffix picks the kind: a video suffix
            (``cfg.codec`` / ``cfg.pix_fmt``, same fps, colour tags and display orientation, audio and
            subtitle streams carried over), an image suffix (one frame), no suffix (a folder of PNG frames). An
            existing folder that fastvsr did not write is a destination: the output goes inside it under its
            default name (:func:`fastvsr.atomic.resolve_output`).
        cfg: inference settings.
        model_dir: saved model folder (``None``: the model shipped in the package).
        compare: also write the bicubic-upscaled input left of the output: ``<output>_compare.mp4`` (video
            outputs) and ``<output>_compare.png`` (the middle frame).
        overwrite: replace existing outputs.
        progress: show a progress bar with frames/s.

    Returns:
        The paths written.

    Raises:
        InputError, OutputError, WeightsMissingError, ConfigError: one-line user errors, raised before any
        output exists.
    """
    plan = plan_outputs(input_path, output, cfg, compare, overwrite)
    model = load_inference_model(model_dir, cfg)
    return write_outputs(plan, model, cfg, overwrite, progress)
