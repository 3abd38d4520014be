"""Write ``(3, T, H, W)`` frames in ``[0, 1]`` as a video (H.264, H.265, FFV1 or ProRes; 8 or 10 bits; colour
tagged; the source's audio and subtitle streams carried over), an image, or a folder of PNG frames. Streaming
(``write`` may be called many times) and atomic (nothing appears at the target unless the whole write
succeeds).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
import torch

from fastvsr.atomic import atomic_path, check_output_path
from fastvsr.data.codecs import (
    CODECS,
    VIDEO_SUFFIXES,
    bit_depth,
    codec_problem,
    container_problem,
    default_pix_fmt,
    full_chroma,
    size_problem,
)
from fastvsr.data.colour import Colour, apply_tags, output_colour, sws_matrix, sws_range
from fastvsr.data.frames import IMAGE_SUFFIXES, save_image
from fastvsr.data.info import VideoInfo
from fastvsr.data.orientation import Orientation
from fastvsr.data.streams import StreamCarrier, plan_streams
from fastvsr.errors import InputError, OutputError


def _quantized(frames: torch.Tensor, top: int) -> torch.Tensor:
    """``(3, T, H, W)`` float in ``[0, 1]`` (clamped, NaN -> 0) -> ``(T, H, W, 3)`` float of integers ``0 .. top``."""
    if not isinstance(frames, torch.Tensor) or frames.ndim != 4 or frames.shape[0] != 3 or frames.shape[1] < 1:
        shape = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
        raise InputError(f"frames to write must be a (3, T, H, W) tensor with T >= 1, got {shape}")
    pixels = frames.detach().to("cpu", torch.float32).nan_to_num(0.0).clamp(0, 1).mul(top).round()
    return pixels.permute(1, 2, 3, 0)


def to_uint8_frames(frames: torch.Tensor) -> np.ndarray:
    """``(3, T, H, W)`` float in ``[0, 1]`` (clamped) -> ``(T, H, W, 3)`` uint8, rounded."""
    return _quantized(frames, 255).to(torch.uint8).contiguous().numpy()


def to_uint16_frames(frames: torch.Tensor) -> np.ndarray:
    """``(3, T, H, W)`` float in ``[0, 1]`` (clamped) -> ``(T, H, W, 3)`` uint16 on the full 16-bit scale, rounded."""
    return _quantized(frames, 65535).to(torch.int32).contiguous().numpy().astype(np.uint16)


def encoder_frame(pixels: np.ndarray, pix_fmt: str, colour: Colour) -> av.VideoFrame:
    """``(H, W, 3)`` uint8 or uint16 RGB -> a frame in the encoder's ``pix_fmt``, converted with ``colour``'s
    matrix and range (RGB formats: copied) and tagged with ``colour``."""
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24" if pixels.dtype == np.uint8 else "rgb48le")
    if colour.matrix == "gbr":
        converted = frame if pix_fmt == frame.format.name else frame.reformat(format=pix_fmt)
    else:
        converted = frame.reformat(format=pix_fmt, dst_colorspace=sws_matrix(colour), dst_color_range=sws_range(colour))
    apply_tags(converted, colour)
    return converted


@contextlib.contextmanager
def _ffmpeg_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except av.FFmpegError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or type(err).__name__}") from None


class VideoWriter:
    """Context manager that writes frames to ``path``; what is written depends on its suffix.

    * ``.mp4`` / ``.mkv`` / ``.mov``: a video at exactly ``fps`` in ``codec`` (``h264``, ``h265``, ``ffv1``,
      ``prores``; :data:`fastvsr.data.codecs.CODECS` says which container holds which) and ``pix_fmt``
      (default ``yuv420p``, which plays everywhere, or ProRes 422's ``yuv422p10le``; ``yuv444p``; 10-bit
      ``yuv420p10le``, ``yuv422p10le``, ``yuv444p10le``, fed from 16-bit RGB so the extra precision is kept).
      ``crf`` sets the quality of h264 / h265 (0-51, lower is better); ffv1 is lossless YUV, prores is ProRes
      422 HQ / 4444. Odd widths/heights are written at their exact size in the 4:4:4 format of the same depth.
      ``lossless=True`` stores 8-bit RGB values bit-exactly (h264: libx264rgb qp 0; h265: x265 lossless;
      ffv1: RGB). Colour: converted and tagged with ``source``'s tags where it has them, else BT.709 from 720
      lines up and BT.601 (SMPTE 170M) below.
      ``source``'s display orientation is written as the display matrix. ``streams_from`` (``audio_from``
      is the same): a file whose audio and subtitle streams are all carried over, interleaved with the video
      (:mod:`fastvsr.data.streams`: packet copy, else converted or dropped with a warning on stderr).
    * no suffix: a folder of PNG frames ``000000.png, 000001.png, ...``.
    * ``.png`` (or another image suffix): a single frame.

    Image and PNG outputs are 8-bit and turned upright by ``source``'s orientation (they cannot carry one);
    ``codec``, ``pix_fmt``, ``crf`` and ``lossless`` only apply to videos. The output goes to a temporary
    file beside the target and is renamed onto it on a clean exit; on an exception it is removed. An existing
    output needs ``overwrite=True``; ``inputs`` (and ``streams_from``) are never overwritten.

    Raises:
        OutputError: bad suffix, a container that cannot hold ``codec``, output exists / is an input, FFmpeg
            cannot write it.
        InputError: bad frames, ``fps``, ``crf``, ``codec`` or ``pix_fmt`` (or a pair of them that cannot
            work); missing ``streams_from``.
    """

    def __init__(self, path: str | Path, fps: Fraction | int | float, *, codec: str = "h264",
                 pix_fmt: str = "", crf: int = 18, lossless: bool = False, source: VideoInfo | None = None,
                 streams_from: str | Path | None = None, audio_from: str | Path | None = None,
                 overwrite: bool = False, inputs: tuple[str | Path, ...] = ()) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix and suffix not in VIDEO_SUFFIXES | IMAGE_SUFFIXES:
            raise OutputError(f"cannot write {self.path}: use a video suffix ({', '.join(sorted(VIDEO_SUFFIXES))}), "
                              "an image suffix, or no suffix for a folder of PNG frames")
        self.kind = "frames" if not suffix else "video" if suffix in VIDEO_SUFFIXES else "image"
        self.fps = Fraction(fps).limit_denominator(1_000_000) if not isinstance(fps, Fraction) else fps
        if self.fps <= 0:
            raise InputError(f"fps must be positive, got {fps}")
        if not 0 <= crf <= 51:
            raise InputError(f"crf must be in [0, 51], got {crf}")
        pix_fmt = pix_fmt or default_pix_fmt(codec)
        if problem := codec_problem(codec, pix_fmt, lossless):
            raise InputError(problem)
        if self.kind == "video" and (problem := container_problem(codec, suffix)):
            raise OutputError(f"cannot write {self.path}: {problem}")
        self.codec, self.crf, self.lossless, self.pix_fmt, self.overwrite = codec, crf, lossless, pix_fmt, overwrite
        self.source_colour = source.colour if source is not None else None
        self.orientation = source.orientation if source is not None else Orientation()
        self.streams_from = _stream_source(streams_from, audio_from)
        extra = (self.streams_from,) if self.streams_from is not None else ()
        check_output_path(self.path, overwrite=overwrite, inputs=tuple(inputs) + extra)
        carried = self.kind == "video" and self.streams_from is not None
        self.stream_plans = plan_streams(self.streams_from, suffix, self.path) if carried else []
        self.frames_written = 0
        self._size: tuple[int, int] | None = None
        self._stack = contextlib.ExitStack()
        self._tmp: Path | None = None
        self._container: av.container.OutputContainer | None = None
        self._video: av.VideoStream | None = None
        self._colour: Colour | None = None
        self._carrier: StreamCarrier | None = None

    def __enter__(self) -> VideoWriter:
        self._tmp = self._stack.enter_context(atomic_path(self.path, overwrite=self.overwrite))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        try:
            if exc_type is None:
                self._finish()
            else:
                self._close_quietly()
        except BaseException as err:
            self._close_quietly()
            self._stack.__exit__(type(err), err, err.__traceback__)
            raise
        return bool(self._stack.__exit__(exc_type, exc, tb))

    @property
    def deep(self) -> bool:
        """Whether frames are encoded from 16-bit samples (a lossy video with a 10-bit ``pix_fmt``)."""
        return self.kind == "video" and not self.lossless and bit_depth(self.pix_fmt) > 8

    def quantize(self, frames: torch.Tensor) -> np.ndarray:
        """``(3, T, H, W)`` float in ``[0, 1]`` -> the ``(T, H, W, 3)`` samples :meth:`write` encodes: uint16 on
        the full 16-bit scale when :attr:`deep`, else uint8 (rounded, clamped). Needs no open writer."""
        return (to_uint16_frames if self.deep else to_uint8_frames)(frames)

    def write(self, frames: torch.Tensor) -> None:
        """Append ``(3, T, H, W)`` frames in ``[0, 1]`` (rounded to 8 bits, or 16 for 10-bit ``pix_fmt`` videos);
        every call must use the same ``H, W``."""
        for t in range(frames.shape[1]):  # one frame at a time: the integer copies stay one frame large
            self.write_samples(self.quantize(frames[:, t:t + 1]))

    def write_samples(self, samples: np.ndarray) -> None:
        """Append ``(T, H, W, 3)`` samples as :meth:`quantize` gives them (uint8, or uint16 when :attr:`deep`);
        every call must use the same ``H, W``."""
        if self._tmp is None:
            raise RuntimeError("use VideoWriter as a context manager: `with VideoWriter(...) as out:`")
        expected = np.uint16 if self.deep else np.uint8
        if samples.ndim != 4 or samples.shape[-1] != 3 or samples.dtype != expected:
            raise InputError(f"samples must be (T, H, W, 3) {np.dtype(expected).name}, got {samples.dtype} "
                             f"{samples.shape}")
        size = tuple(samples.shape[1:3])
        if self._size is None:
            self._size = size
            self._open(*size)
        elif size != self._size:
            raise InputError(f"frame size changed from {self._size[1]}x{self._size[0]} to {size[1]}x{size[0]}")
        for frame in samples:
            self._write_frame(frame)
            self.frames_written += 1

    # -- per-kind output ------------------------------------------------------------------------------

    def _open(self, height: int, width: int) -> None:
        assert self._tmp is not None
        if self.kind == "frames":
            self._tmp.mkdir()
        elif self.kind == "video":
            if problem := size_problem(self.codec, height, width):
                raise OutputError(f"cannot write {self.path}: {problem}")
            with _ffmpeg_errors(self.path):
                self._open_video(height, width)

    def _encoding(self, height: int, width: int) -> tuple[str, str, dict[str, str]]:
        """``(encoder, pix_fmt, options)`` of the video stream for frames ``height`` x ``width``."""
        spec = CODECS[self.codec]
        if self.lossless:
            assert spec.lossless is not None  # checked by codec_problem
            return spec.lossless
        odd = height % 2 or width % 2
        pix_fmt = full_chroma(self.pix_fmt) if odd else self.pix_fmt  # subsampled chroma cannot hold odd sizes
        return spec.encoder, pix_fmt, spec.encoder_options(self.crf, pix_fmt)

    def _open_video(self, height: int, width: int) -> None:
        assert self._tmp is not None
        self._container = av.open(str(self._tmp), mode="w")
        encoder, pix_fmt, options = self._encoding(height, width)
        stream = self._container.add_stream(encoder, rate=self.fps, options=options)
        stream.pix_fmt, stream.width, stream.height = pix_fmt, width, height
        stream.codec_context.time_base = 1 / self.fps
        self._colour = output_colour(self.source_colour, height, rgb=self.lossless)
        apply_tags(stream.codec_context, self._colour)
        if not self.orientation.is_upright:
            stream.set_display_matrix(self.orientation.display_matrix())
        self._video = stream
        if self.stream_plans:
            assert self.streams_from is not None
            self._carrier = StreamCarrier(self.streams_from, self.stream_plans, self._container)

    def _write_frame(self, array: np.ndarray) -> None:
        assert self._tmp is not None
        if self.kind == "frames":
            save_image(self.orientation.upright(array), self._tmp / f"{self.frames_written:06d}.png")
            return
        if self.kind == "image":
            if self.frames_written:
                raise OutputError(f"{self.path} is an image and holds one frame; write several frames to a video "
                                  "or to a folder (a path without suffix)")
            save_image(self.orientation.upright(array), self._tmp)
            return
        assert self._container is not None and self._video is not None and self._colour is not None
        with _ffmpeg_errors(self.path):
            frame = encoder_frame(array, self._video.pix_fmt, self._colour)
            frame.pts = self.frames_written
            frame.time_base = self._video.codec_context.time_base
            self._container.mux(self._video.encode(frame))
            if self._carrier is not None:
                self._carrier.mux_until(Fraction(self.frames_written + 1) / self.fps)

    def _finish(self) -> None:
        if self._container is not None and self._video is not None:
            with _ffmpeg_errors(self.path):
                self._container.mux(self._video.encode(None))
                if self._carrier is not None:
                    self._carrier.finish(Fraction(self.frames_written) / self.fps)
        self._close_quietly()

    def _close_quietly(self) -> None:
        for closable in (self._container, self._carrier):
            if closable is not None:
                with contextlib.suppress(av.FFmpegError, OSError):
                    closable.close()
        self._container = self._carrier = None


def _stream_source(streams_from: str | Path | None, audio_from: str | Path | None) -> Path | None:
    """The file whose audio and subtitle streams a video output carries (``audio_from`` is an alias)."""
    if streams_from is not None and audio_from is not None:
        raise InputError("pass streams_from or audio_from (the same thing), not both")
    chosen = streams_from if streams_from is not None else audio_from
    if chosen is None:
        return None
    if not Path(chosen).is_file():
        raise InputError(f"stream source {chosen} does not exist (audio and subtitles are copied from it)")
    return Path(chosen)


def write_video(path: str | Path, frames: torch.Tensor, fps: Fraction | int | float, **kwargs: object) -> Path:
    """Write ``(3, T, H, W)`` frames in ``[0, 1]`` in one call; ``kwargs`` as for :class:`VideoWriter`.

    Returns:
        The written path.
    """
    with VideoWriter(path, fps, **kwargs) as writer:  # type: ignore[arg-type]
        writer.write(frames)
    return Path(path)
