"""Video containers through PyAV: probe and sequential decoding to RGB arrays.

PyAV is used for every container (not decord): it decodes pixel-identically, streams without holding the
video, keeps 10/12/16-bit precision (``rgb48le``), converts grayscale and alpha sources and reads exact
timestamps. YUV frames are converted with their tagged matrix and range; untagged ones with BT.709 from 720
lines up and BT.601 below (:mod:`fastvsr.data.colour`). FFmpeg failures become one-line
:class:`~fastvsr.errors.InputError` messages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from fractions import Fraction
from itertools import islice
from pathlib import Path

import av
import numpy as np
from av.sidedata.sidedata import Type as SideDataType
from av.video.reformatter import Colorspace

from fastvsr.data.colour import colour_of, untagged_matrix
from fastvsr.data.info import DEFAULT_IMAGE_FPS, VideoInfo
from fastvsr.data.orientation import Orientation
from fastvsr.errors import InputError


@contextlib.contextmanager
def _ffmpeg_errors(path: Path, doing: str) -> Iterator[None]:
    """Turn PyAV/FFmpeg exceptions raised in the block into an ``InputError`` naming the file."""
    try:
        yield
    except av.FFmpegError as err:
        reason = err.strerror or type(err).__name__
        raise InputError(f"cannot {doing} {path}: {reason} (not a readable video, or corrupt/truncated)") from None
    except (ValueError, EOFError) as err:
        raise InputError(f"cannot {doing} {path}: {str(err).splitlines()[0]}") from None


def open_container(path: Path) -> av.container.InputContainer:
    """Open ``path`` for reading; ``InputError`` if FFmpeg cannot or it has no video stream."""
    with _ffmpeg_errors(path, "open"):
        container = av.open(str(path), mode="r")
    if not container.streams.video:
        container.close()
        raise InputError(f"{path} has no video stream")
    return container


def _bit_depth(fmt: av.VideoFormat | None) -> int:
    if fmt is None or not fmt.components:
        return 8
    return max(component.bits for component in fmt.components)


def _decoded(stream: av.VideoStream, packet: av.Packet) -> av.VideoFrame | None:
    """The first frame decoding ``packet`` gives, ``None`` if none (yet) or the packet is damaged (reading the
    frames reports damage)."""
    try:
        return next(iter(stream.decode(packet)), None)
    except (av.FFmpegError, ValueError):
        return None


def _scan_packets(container: av.container.InputContainer, stream: av.VideoStream
                  ) -> tuple[int, Fraction | None, av.VideoFrame | None]:
    """Demux the stream once: ``(frames, seconds from the first frame's start to the last frame's end, the
    first decoded frame)``.

    Counting packets is exact where a header's frame count is missing (mkv) or wrong; the span is ``None``
    when timestamps or durations are missing. Only the first frame is decoded (for its colour tags and
    display matrix); ``None`` when no packet decodes.
    """
    count, first, end, frame = 0, None, None, None
    for packet in container.demux(stream):
        if not packet.size or packet.is_discard:
            continue
        count += 1
        if frame is None:
            frame = _decoded(stream, packet)
        if packet.pts is not None:
            first = packet.pts if first is None else min(first, packet.pts)
            if packet.duration:
                end = packet.pts + packet.duration if end is None else max(end, packet.pts + packet.duration)
    if first is None or end is None or end <= first or stream.time_base is None:
        return count, None, frame
    return count, (end - first) * stream.time_base, frame


def _orientation(frame: av.VideoFrame | None) -> Orientation:
    """Display orientation from a decoded frame's display matrix side data (none: upright)."""
    data = frame.side_data.get(SideDataType.DISPLAYMATRIX) if frame is not None else None
    return Orientation.from_display_matrix(np.frombuffer(bytes(data), np.int32).tolist() if data else None)


def _frame_rate(stream: av.VideoStream, num_frames: int, span: Fraction | None) -> Fraction:
    """Average frame rate as an exact fraction.

    FFmpeg's average rate is kept (it is exact for constant-rate videos, e.g. 30000/1001, even in millisecond
    time bases); when the packets' timestamps disagree with it by more than 1 % (variable frame rate, or a
    container declaring a nominal rate), the measured mean ``frames / span`` is used.
    """
    measured = Fraction(num_frames) / span if span else None
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            declared = Fraction(rate)
            if measured is None or abs(measured - declared) <= declared / 100:
                return declared
            return measured
    return measured or DEFAULT_IMAGE_FPS


def probe_container(path: Path) -> VideoInfo:
    """Probe a video file (demuxes it once to count frames; no decoding)."""
    container = open_container(path)
    with container, _ffmpeg_errors(path, "read"):
        stream = container.streams.video[0]
        ctx = stream.codec_context
        num_frames, span, first_frame = _scan_packets(container, stream)
        if num_frames == 0:
            raise InputError(f"{path} has no video frames")
        if not ctx.width or not ctx.height:
            raise InputError(f"{path}: cannot determine the frame size")
        audio = container.streams.audio
        return VideoInfo(
            path=path, num_frames=num_frames, height=ctx.height, width=ctx.width,
            fps=_frame_rate(stream, num_frames, span), has_audio=bool(audio), is_image_sequence=False,
            codec=ctx.name, pix_fmt=ctx.format.name if ctx.format else "", bit_depth=_bit_depth(ctx.format),
            audio_codec=audio[0].codec_context.name if audio else "",
            colour=colour_of(first_frame if first_frame is not None else ctx), orientation=_orientation(first_frame),
        )


def _decode_matrix(frame: av.VideoFrame, untagged: Colorspace | None) -> Colorspace | None:
    """Matrix to convert ``frame`` to RGB with: ``None`` (the frame's own tag, or swscale's BT.601 default)
    unless it is an untagged YUV frame and ``untagged`` is given."""
    if frame.format.is_rgb or colour_of(frame).matrix is not None:
        return None
    return untagged


def _planar_rgb(frame: av.VideoFrame, deep: bool, untagged: Colorspace | None = None) -> np.ndarray:
    """``(3, H, W)`` RGB planes of a decoded frame: uint8, or uint16 (full 16-bit scale) when ``deep``.

    8-bit frames are converted straight to planar RGB (``gbrp``: the same values as ``rgb24``, without a
    transposing copy); deeper ones go through ``rgb48le``. YUV frames are converted with their tagged matrix
    and range, untagged ones with ``untagged`` (``None``: BT.601).
    """
    matrix = _decode_matrix(frame, untagged)
    if deep:
        return np.ascontiguousarray(frame.to_ndarray(format="rgb48le", src_colorspace=matrix).transpose(2, 0, 1))
    green, blue, red = (
        np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
        for plane in frame.reformat(format="gbrp", src_colorspace=matrix).planes
    )
    return np.stack([red, green, blue])


@contextlib.contextmanager
def _decoding(info: VideoInfo) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    container = open_container(info.path)
    with container, _ffmpeg_errors(info.path, "decode"):
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        yield container, stream


def _presentation_pts(container: av.container.InputContainer, stream: av.VideoStream, count: int) -> list[int] | None:
    """Timestamps of the frames in presentation order, or ``None`` where they cannot index frames exactly."""
    pts = sorted(p.pts for p in container.demux(stream) if p.size and not p.is_discard and p.pts is not None)
    return pts if len(pts) == count and len(set(pts)) == count else None


def _decoded_frames(info: VideoInfo, start: int) -> Iterator[av.VideoFrame]:
    """Decoded frames ``start, start + 1, ...``.

    For ``start > 0`` it seeks to the last keyframe at or before frame ``start`` and skips by timestamp; the
    first frame's timestamp is checked, and anything unexpected (missing or duplicate timestamps, a seek
    landing late) falls back to decoding from the beginning, so the frames are always those of a
    sequential decode.
    """
    if start > 0:
        with _decoding(info) as (container, stream):
            pts = _presentation_pts(container, stream, info.num_frames)
            if pts is not None and start < len(pts):
                target = pts[start]
                container.seek(target, backward=True, any_frame=False, stream=stream)
                frames = container.decode(stream)
                for frame in frames:
                    if frame.pts is not None and frame.pts < target:
                        continue
                    if frame.pts == target:
                        yield frame
                        yield from frames
                        return
                    break
    with _decoding(info) as (container, stream):
        yield from islice(container.decode(stream), start, None)


def iter_container_frames(info: VideoInfo, start: int = 0) -> Iterator[np.ndarray]:
    """Decode frames ``start, start + 1, ...`` in presentation order (seeking near ``start`` first).

    Yields:
        ``(3, H, W)`` RGB arrays: ``uint8`` for 8-bit sources, ``uint16`` (full 16-bit scale) for deeper ones.
        Grayscale sources give three equal channels; alpha is dropped. Frames are as stored (``info.orientation``
        says how they are displayed).

    Raises:
        InputError: decoding fails, or the file ends before ``info.num_frames`` frames (truncated).
    """
    deep, untagged = info.bit_depth > 8, untagged_matrix(info.height)
    index = start
    for frame in _decoded_frames(info, start):
        yield _planar_rgb(frame, deep, untagged)
        index += 1
    if index < info.num_frames:
        raise InputError(f"{info.path} is truncated or corrupt: it ends before frame {index + 1} of "
                         f"{info.num_frames}")
