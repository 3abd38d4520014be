"""Generated test videos (PyAV, in tmp_path): colour-tagged, rotated, with several audio and subtitle streams;
and readers of what a written file holds (stream codecs, subtitle texts, stream end times)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from fastvsr.data.colour import Colour, apply_tags
from fastvsr.data.orientation import Orientation

CUES = [(0, 150, "hello"), (200, 380, "world")]  # (start ms, end ms, text) of every generated subtitle stream
AUDIO_RATE = 48000


def _audio_frames(stream: av.AudioStream, seconds: float) -> list[av.AudioFrame]:
    """A 440 Hz stereo tone of ``seconds`` in frames of 1024 samples, in the encoder's sample format."""
    fmt, frames, total = stream.codec_context.format, [], round(seconds * AUDIO_RATE)
    for start in range(0, total, 1024):
        t = np.arange(start, min(start + 1024, total)) / AUDIO_RATE
        tone = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        samples = np.stack([tone, tone]) if fmt.is_planar else np.stack([tone, tone], 1).reshape(1, -1)
        if fmt.name.startswith("s16"):
            samples = (samples * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format=fmt.name, layout="stereo")
        frame.sample_rate, frame.pts = AUDIO_RATE, start
        frames.append(frame)
    return frames


def _subtitle_packets(stream: av.stream.Stream, codec: str) -> list[av.Packet]:
    packets = []
    for start, end, text in CUES:
        packet = av.Packet(text.encode() if codec == "subrip" else bytes(range(64)))  # bitmap codecs: opaque bytes
        packet.stream, packet.pts, packet.dts, packet.duration = stream, start, start, end - start
        packet.time_base = Fraction(1, 1000)
        packets.append(packet)
    return packets


def make_clip(path: Path, pixels: np.ndarray, *, frames: int = 4, fps: int = 25, codec: str = "libx264",
              pix_fmt: str = "yuv420p", convert: Colorspace | None = None, tags: Colour | None = None,
              orientation: Orientation | None = None, audio: tuple[str, ...] = (), audio_seconds: float | None = None,
              subtitles: tuple[str, ...] = ()) -> Path:
    """Write ``frames`` copies of ``pixels`` (``(H, W, 3)`` uint8 RGB) to ``path``.

    ``convert``: the RGB -> YUV matrix (``None``: swscale's default, BT.601), limited range unless ``tags``
    says ``pc``; ``tags``: colour tags written (``None``: untagged); ``orientation``: display matrix written;
    ``audio``: one stream per encoder name (tone of ``audio_seconds``, default the video's length);
    ``subtitles``: one stream per codec (``subrip``: :data:`CUES`; bitmap codecs: opaque packets).
    """
    height, width = pixels.shape[:2]
    with av.open(str(path), mode="w") as out:
        video = out.add_stream(codec, rate=fps, options={"x265-params": "log-level=error"} if codec == "libx265"
                               else None)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        if tags is not None:
            apply_tags(video.codec_context, tags)
        if orientation is not None:
            video.set_display_matrix(orientation.display_matrix())
        sounds = [out.add_stream(name, rate=AUDIO_RATE, layout="stereo",
                                 options={"strict": "experimental"}) for name in audio]
        texts = [out.add_mux_stream(name, time_base=Fraction(1, 1000)) for name in subtitles]
        for stream in texts:
            stream.metadata["language"] = "eng"
        full = tags is not None and tags.range == "pc"
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame = frame.reformat(format=pix_fmt, dst_colorspace=convert,
                                   dst_color_range=ColorRange.JPEG if full else ColorRange.MPEG)
            if tags is not None:
                apply_tags(frame, tags)
            frame.pts = index
            out.mux(video.encode(frame))
        for stream in sounds:
            for frame in _audio_frames(stream, audio_seconds if audio_seconds is not None else frames / fps):
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        for stream, name in zip(texts, subtitles, strict=True):
            out.mux(_subtitle_packets(stream, name))
        out.mux(video.encode(None))
    return path


def stream_codecs(path: Path) -> list[tuple[str, str]]:
    """``(type, codec)`` of every stream of ``path``, in order."""
    with av.open(str(path)) as container:
        return [(s.type, s.codec_context.name if s.codec_context else "") for s in container.streams]


def _video_start(container: av.container.InputContainer) -> Fraction:
    video = container.streams.video[0]
    return Fraction(video.start_time or 0) * video.time_base


def subtitle_texts(path: Path) -> list[list[tuple[float, str]]]:
    """Per text subtitle stream: ``(start, text)`` of each subtitle, decoded; ``start`` in seconds from the
    first video frame (muxers may shift every stream alike to avoid negative timestamps)."""
    found = []
    with av.open(str(path)) as container:
        video_start = _video_start(container)
        for stream in container.streams.subtitles:
            if not stream.codec_context.codec.text_sub:
                continue
            cues = []
            for packet in container.demux(stream):
                subtitle = stream.codec_context.decode2(packet) if packet.size else None
                if subtitle is not None:
                    text = " ".join(",".join(rect.ass.decode().split(",")[8:]) for rect in subtitle)
                    cues.append((round(float(packet.pts * packet.time_base - video_start), 3), text))
            found.append(cues)
            container.seek(0)
    return found


def stream_ends(path: Path) -> dict[int, float]:
    """Stream index -> seconds from the first video frame at which its last packet ends (pts + duration)."""
    ends: dict[int, float] = {}
    with av.open(str(path)) as container:
        video_start = _video_start(container)
        for packet in container.demux():
            if packet.pts is not None and packet.size:
                end = float((packet.pts + (packet.duration or 0)) * packet.time_base - video_start)
                ends[packet.stream.index] = max(ends.get(packet.stream.index, end), end)
    return ends


def packets_of(path: Path, index: int) -> list[bytes]:
    """Payloads of stream ``index`` of ``path``."""
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams[index]) if p.size]
