"""Carry every audio and subtitle stream of a source video into a video output, interleaved with the video.

Each stream is copied packet by packet (no re-encoding) when the output container holds its codec (checked
by writing a header in memory, so FFmpeg itself decides). Otherwise it is converted where that is cheap and
loses nothing that matters (audio to AAC; text subtitles to ``mov_text`` for .mp4/.mov, to ``subrip`` for
.mkv) or dropped; each conversion and drop is a one-line warning on stderr naming the stream. Packets are
re-timed so the source's first video frame is time 0 (as the written video's is), and packets that start at
or after the written video's end are dropped (docs/video_io.md: "Streams").
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from fastvsr.errors import InputError

FORMATS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov"}  # suffix -> FFmpeg muxer
TEXT_SUBTITLES = {".mp4": "mov_text", ".mov": "mov_text", ".mkv": "subrip"}  # text subtitle codec each holds
AUDIO_FALLBACK = "aac"  # every container above holds it
KEPT_METADATA = ("language", "title")


@dataclass(frozen=True)
class StreamPlan:
    """What happens to one audio or subtitle stream of the source.

    Attributes:
        index: the stream's index in the source.
        kind: ``"audio"`` or ``"subtitle"``.
        codec: the source codec (``"opus"``, ``"subrip"`` ...).
        convert_to: ``None`` for a packet copy, else the codec it is re-encoded to (``"aac"``, ``"mov_text"``,
            ``"subrip"``).
    """

    index: int
    kind: str
    codec: str
    convert_to: str | None = None


def _muxes(stream: av.stream.Stream, format_name: str) -> bool:
    """Whether FFmpeg's ``format_name`` muxer accepts a packet copy of ``stream`` (a header written in memory)."""
    try:
        with av.open(io.BytesIO(), mode="w", format=format_name) as trial:
            trial.add_stream_from_template(stream)
            trial.start_encoding()
    except (av.FFmpegError, ValueError):
        return False
    return True


def _plan_one(stream: av.stream.Stream, suffix: str) -> tuple[StreamPlan | None, str | None]:
    """The plan for one stream (``None``: dropped) and the warning to print (``None``: a plain copy)."""
    codec = stream.codec_context.name if stream.codec_context else "unknown"
    plan = StreamPlan(stream.index, stream.type, codec)
    if _muxes(stream, FORMATS[suffix]):
        return plan, None
    decodable = stream.codec_context is not None and stream.codec_context.codec.is_decoder
    target = AUDIO_FALLBACK if stream.type == "audio" else TEXT_SUBTITLES[suffix]
    if not decodable or (stream.type == "subtitle" and not stream.codec_context.codec.text_sub):
        return None, f"dropped: {suffix} cannot hold {codec}" + (" (a bitmap subtitle)" if decodable else "")
    return StreamPlan(stream.index, stream.type, codec, target), f"converted to {target}: {suffix} cannot hold {codec}"


def plan_streams(source: Path, suffix: str, output: Path) -> list[StreamPlan]:
    """Plan every audio and subtitle stream of ``source`` for a ``suffix`` output; conversions and drops are
    reported on stderr, one line each, naming ``output`` and the stream.

    Raises:
        InputError: ``source`` cannot be opened.
    """
    try:
        container = av.open(str(source), mode="r")
    except av.FFmpegError as err:
        raise InputError(f"cannot read streams from {source}: {err.strerror or type(err).__name__}") from None
    plans = []
    with container:
        for stream in container.streams:
            if stream.type not in ("audio", "subtitle"):
                continue
            plan, note = _plan_one(stream, suffix)
            if note is not None:
                print(f"warning: {output}: {stream.type} stream {stream.index} of {source} {note}", file=sys.stderr)
            if plan is not None:
                plans.append(plan)
    return plans


def _keep_labels(template: av.stream.Stream, stream: av.stream.Stream) -> None:
    for key in KEPT_METADATA:
        if key in template.metadata:
            stream.metadata[key] = template.metadata[key]
    stream.disposition = template.disposition


class _Copy:
    """Packet copy of one stream."""

    def __init__(self, template: av.stream.Stream, output: av.container.OutputContainer) -> None:
        self.output, self.stream = output, output.add_stream_from_template(template)
        _keep_labels(template, self.stream)

    def push(self, packet: av.Packet) -> None:
        packet.stream = self.stream
        self.output.mux(packet)

    def flush(self) -> None:
        pass


class _ToAac:
    """Decodes one audio stream (packets already re-timed) and re-encodes it as AAC, same rate and channel
    layout; samples are counted from the first decoded one so timestamps stay gapless."""

    def __init__(self, template: av.AudioStream, output: av.container.OutputContainer) -> None:
        ctx = template.codec_context
        self.template, self.output, self.rate = template, output, ctx.sample_rate
        self.stream = output.add_stream(AUDIO_FALLBACK, rate=ctx.sample_rate, layout=ctx.layout.name)
        self.next_pts: int | None = None
        _keep_labels(template, self.stream)

    def push(self, packet: av.Packet | None) -> None:
        for frame in self.template.decode(packet):
            if self.next_pts is None:
                self.next_pts = round((frame.time or 0) * self.rate)
            frame.pts, frame.time_base = self.next_pts, Fraction(1, self.rate)
            self.next_pts += frame.samples
            self.output.mux(self.stream.encode(frame))

    def flush(self) -> None:
        self.push(None)
        self.output.mux(self.stream.encode(None))


class _ToText:
    """Decodes one text subtitle stream and re-encodes each subtitle as ``codec`` (same times and text)."""

    def __init__(self, template: av.stream.Stream, output: av.container.OutputContainer, codec: str) -> None:
        self.template, self.output = template, output
        self.stream = output.add_stream(codec)
        template.codec_context.open()
        self.stream.codec_context.subtitle_header = template.codec_context.subtitle_header
        _keep_labels(template, self.stream)

    def push(self, packet: av.Packet) -> None:
        subtitle = self.template.codec_context.decode2(packet)
        if subtitle is None:
            return
        encoded = self.stream.codec_context.encode_subtitle(subtitle)
        encoded.pts, encoded.dts, encoded.duration = packet.pts, packet.pts, packet.duration
        encoded.time_base, encoded.stream = packet.time_base, self.stream
        self.output.mux(encoded)

    def flush(self) -> None:
        pass


class StreamCarrier:
    """Copies (or converts) the planned streams of ``source`` into ``output`` (open, header not yet written),
    by time: :meth:`mux_until` after each video frame, :meth:`finish` after the last. Close it with
    :meth:`close`."""

    def __init__(self, source: Path, plans: list[StreamPlan], output: av.container.OutputContainer) -> None:
        self.input = av.open(str(source), mode="r")
        video = self.input.streams.video[0] if self.input.streams.video else None
        start = video.start_time if video is not None else None
        self.offset = Fraction(start) * video.time_base if start is not None and video.time_base else Fraction(0)
        self.sinks: dict[int, _Copy | _ToAac | _ToText] = {}
        for plan in plans:
            template = self.input.streams[plan.index]
            self.sinks[plan.index] = (_Copy(template, output) if plan.convert_to is None
                                      else _ToAac(template, output) if plan.kind == "audio"
                                      else _ToText(template, output, plan.convert_to))
        streams = [self.input.streams[plan.index] for plan in plans]
        self.packets: Iterator[av.Packet] = self.input.demux(streams) if streams else iter(())
        self.pending: av.Packet | None = None

    def _start(self, packet: av.Packet) -> Fraction | None:
        """Output time (seconds) at which ``packet`` starts; ``None`` without a timestamp."""
        return None if packet.pts is None else packet.pts * packet.time_base - self.offset

    def _next(self) -> av.Packet | None:
        """The next packet with data (demuxer flush packets skipped); ``None`` at the end."""
        packet, self.pending = self.pending, None
        while packet is None or packet.dts is None or not packet.size:
            packet = next(self.packets, None)
            if packet is None:
                return None
        return packet

    def _push(self, packet: av.Packet) -> None:
        shift = round(self.offset / packet.time_base) if self.offset and packet.time_base else 0
        if shift:
            packet.pts, packet.dts = packet.pts - shift, packet.dts - shift
        self.sinks[packet.stream.index].push(packet)

    def mux_until(self, until: Fraction) -> None:
        """Mux the packets that start at or before ``until`` seconds of the output."""
        while (packet := self._next()) is not None:
            start = self._start(packet)
            if start is not None and start > until:
                self.pending = packet
                return
            self._push(packet)

    def finish(self, end: Fraction) -> None:
        """Mux the remaining packets that start before ``end`` seconds (the video's end) and flush converters."""
        while (packet := self._next()) is not None:
            start = self._start(packet)
            if start is None or start < end:
                self._push(packet)
        for sink in self.sinks.values():
            sink.flush()

    def close(self) -> None:
        self.input.close()
