"""Write ``(3, T, H, W)`` frames in ``[0, 1]`` as an H.264 video (audio copied from a source), an image, or a
folder of PNG frames. Streaming (``write`` may be called many times) and atomic (nothing appears at the target
unless the whole write succeeds).
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
from fastvsr.data.frames import IMAGE_SUFFIXES, save_image
from fastvsr.errors import InputError, OutputError

VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".mov"})
PIX_FMTS = ("yuv420p", "yuv444p")
PRESET = "medium"


def to_uint8_frames(frames: torch.Tensor) -> np.ndarray:
    """``(3, T, H, W)`` float in ``[0, 1]`` (clamped) -> ``(T, H, W, 3)`` uint8, rounded."""
    if not isinstance(frames, torch.Tensor) or frames.ndim != 4 or frames.shape[0] != 3 or frames.shape[1] < 1:
        shape = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
        raise InputError(f"frames to write must be a (3, T, H, W) tensor with T >= 1, got {shape}")
    pixels = frames.detach().to("cpu", torch.float32).nan_to_num(0.0).clamp(0, 1).mul(255).round().to(torch.uint8)
    return pixels.permute(1, 2, 3, 0).contiguous().numpy()


@contextlib.contextmanager
def _ffmpeg_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except av.FFmpegError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or type(err).__name__}") from None


class VideoWriter:
    """Context manager that writes frames to ``path``; what is written depends on its suffix.

    * ``.mp4`` / ``.mkv`` / ``.mov``: H.264 (libx264) at exactly ``fps``. ``crf`` sets the quality (0-51,
      lower is better); ``pix_fmt`` is ``yuv420p`` (plays everywhere) or ``yuv444p``. Odd widths/heights are
      written at their exact size as ``yuv444p`` (4:2:0 needs even sizes). ``lossless=True`` stores the RGB
      values bit-exactly (libx264rgb, qp 0). ``audio_from``: a file whose first audio stream is copied
      packet by packet (no re-encoding), interleaved with the video.
    * no suffix: a folder of PNG frames ``000000.png, 000001.png, ...``.
    * ``.png`` (or another image suffix): a single frame.

    The output goes to a temporary file beside the target and is renamed onto it on a clean exit; on an
    exception it is removed. An existing output needs ``overwrite=True``; ``inputs`` (and ``audio_from``) are
    never overwritten.

    Raises:
        OutputError: bad suffix, output exists / is an input, FFmpeg cannot write it.
        InputError: bad frames, ``fps``, ``crf`` or ``pix_fmt``; missing ``audio_from``.
    """

    def __init__(self, path: str | Path, fps: Fraction | int | float, *, audio_from: str | Path | None = None,
                 crf: int = 18, lossless: bool = False, pix_fmt: str = "yuv420p", overwrite: bool = False,
                 inputs: tuple[str | Path, ...] = ()) -> None:
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
        if pix_fmt not in PIX_FMTS:
            raise InputError(f"pix_fmt must be one of {', '.join(PIX_FMTS)}, got {pix_fmt!r}")
        self.crf, self.lossless, self.pix_fmt, self.overwrite = crf, lossless, pix_fmt, overwrite
        self.audio_from = Path(audio_from) if audio_from is not None else None
        if self.audio_from is not None and not self.audio_from.is_file():
            raise InputError(f"audio source {self.audio_from} does not exist")
        extra = (self.audio_from,) if self.audio_from is not None else ()
        check_output_path(self.path, overwrite=overwrite, inputs=tuple(inputs) + extra)
        self.frames_written = 0
        self._size: tuple[int, int] | None = None
        self._stack = contextlib.ExitStack()
        self._tmp: Path | None = None
        self._container: av.container.OutputContainer | None = None
        self._video: av.VideoStream | None = None
        self._audio_source: av.container.InputContainer | None = None
        self._audio_stream: av.AudioStream | None = None
        self._audio_packets: Iterator[av.Packet] | None = None
        self._pending_audio: av.Packet | None = None

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

    def write(self, frames: torch.Tensor) -> None:
        """Append ``(3, T, H, W)`` frames in ``[0, 1]``; every call must use the same ``H, W``."""
        if self._tmp is None:
            raise RuntimeError("use VideoWriter as a context manager: `with VideoWriter(...) as out:`")
        pixels = to_uint8_frames(frames)
        size = pixels.shape[1:3]
        if self._size is None:
            self._size = size
            self._open(*size)
        elif size != self._size:
            raise InputError(f"frame size changed from {self._size[1]}x{self._size[0]} to {size[1]}x{size[0]}")
        for array in pixels:
            self._write_frame(array)
            self.frames_written += 1

    # -- per-kind output ------------------------------------------------------------------------------

    def _open(self, height: int, width: int) -> None:
        assert self._tmp is not None
        if self.kind == "frames":
            self._tmp.mkdir()
        elif self.kind == "video":
            with _ffmpeg_errors(self.path):
                self._open_video(height, width)

    def _open_video(self, height: int, width: int) -> None:
        assert self._tmp is not None
        self._container = av.open(str(self._tmp), mode="w")
        if self.lossless:
            stream = self._container.add_stream("libx264rgb", rate=self.fps, options={"qp": "0", "preset": PRESET})
            stream.pix_fmt = "rgb24"
        else:
            stream = self._container.add_stream("libx264", rate=self.fps,
                                                options={"crf": str(self.crf), "preset": PRESET})
            odd = height % 2 or width % 2
            stream.pix_fmt = "yuv444p" if odd else self.pix_fmt  # 4:2:0 cannot hold odd sizes exactly
        stream.width, stream.height = width, height
        stream.codec_context.time_base = 1 / self.fps
        self._video = stream
        if self.audio_from is not None:
            self._open_audio()

    def _open_audio(self) -> None:
        assert self._container is not None and self.audio_from is not None
        try:
            self._audio_source = av.open(str(self.audio_from), mode="r")
        except av.FFmpegError as err:
            raise InputError(f"cannot read audio from {self.audio_from}: {err.strerror}") from None
        if not self._audio_source.streams.audio:
            return
        template = self._audio_source.streams.audio[0]
        self._audio_stream = self._container.add_stream_from_template(template)
        self._audio_packets = self._audio_source.demux(template)

    def _write_frame(self, array: np.ndarray) -> None:
        assert self._tmp is not None
        if self.kind == "frames":
            save_image(array, self._tmp / f"{self.frames_written:06d}.png")
            return
        if self.kind == "image":
            if self.frames_written:
                raise OutputError(f"{self.path} is an image and holds one frame; write several frames to a video "
                                  "or to a folder (a path without suffix)")
            save_image(array, self._tmp)
            return
        assert self._container is not None and self._video is not None
        frame = av.VideoFrame.from_ndarray(array, format="rgb24")
        frame.pts = self.frames_written
        frame.time_base = self._video.codec_context.time_base
        with _ffmpeg_errors(self.path):
            self._container.mux(self._video.encode(frame))
            self._mux_audio(until=Fraction(self.frames_written + 1) / self.fps)

    def _mux_audio(self, until: Fraction | None) -> None:
        """Copy source audio packets up to time ``until`` seconds (``None``: all the rest)."""
        if self._audio_packets is None or self._audio_stream is None or self._container is None:
            return
        while True:
            packet = self._pending_audio or next(self._audio_packets, None)
            self._pending_audio = None
            if packet is None:
                self._audio_packets = None
                return
            if packet.dts is None or not packet.size:  # demuxer flush packet
                continue
            if until is not None and packet.pts is not None and packet.pts * packet.time_base > until:
                self._pending_audio = packet
                return
            packet.stream = self._audio_stream
            self._container.mux(packet)

    def _finish(self) -> None:
        if self._container is not None and self._video is not None:
            with _ffmpeg_errors(self.path):
                self._container.mux(self._video.encode(None))
                self._mux_audio(until=None)
        self._close_quietly()

    def _close_quietly(self) -> None:
        for container in (self._container, self._audio_source):
            if container is not None:
                with contextlib.suppress(av.FFmpegError, OSError):
                    container.close()
        self._container = self._audio_source = None


def write_video(path: str | Path, frames: torch.Tensor, fps: Fraction | int | float, **kwargs: object) -> Path:
    """Write ``(3, T, H, W)`` frames in ``[0, 1]`` in one call; ``kwargs`` as for :class:`VideoWriter`.

    Returns:
        The written path.
    """
    with VideoWriter(path, fps, **kwargs) as writer:  # type: ignore[arg-type]
        writer.write(frames)
    return Path(path)
