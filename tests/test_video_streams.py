"""Every audio and subtitle stream of the source is carried into a video output: packet copy where the container
holds the codec, else converted (audio -> AAC, text subtitles -> mov_text / subrip) or dropped with a one-line
warning naming the stream; audio ends with the video (within one audio packet)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fastvsr.data.streams import StreamPlan
from fastvsr.data.video import VideoWriter, read_video, write_video
from fastvsr.errors import InputError
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.files import plan_outputs
from tests.video_helpers import CUES, make_clip, packets_of, stream_codecs, stream_ends, subtitle_texts

FPS = 25
TEXTS = [[(start / 1000, text) for start, _, text in CUES]]


@pytest.fixture
def multi(tmp_path: Path) -> Path:
    """10 frames (0.4 s) of 32x48 video, AAC and Opus audio of the same length, SubRip subtitles."""
    pixels = np.full((32, 48, 3), 90, np.uint8)
    return make_clip(tmp_path / "multi.mkv", pixels, frames=10, fps=FPS, audio=("aac", "libopus"),
                     subtitles=("subrip",))


def rewrite(source: Path, target: Path) -> Path:
    frames, info = read_video(source)
    return write_video(target, frames, info.fps, source=info, streams_from=source)


def test_mkv_keeps_every_stream_by_packet_copy(multi, tmp_path, capfd):
    out = rewrite(multi, tmp_path / "out.mkv")
    assert stream_codecs(out) == [("video", "h264"), ("audio", "aac"), ("audio", "opus"), ("subtitle", "srt")]
    for index in (1, 2, 3):
        assert packets_of(out, index) == packets_of(multi, index)  # not re-encoded
    assert subtitle_texts(out) == TEXTS
    assert capfd.readouterr().err == ""  # nothing converted, nothing dropped: nothing to say


def test_mp4_copies_the_audio_and_converts_subtitles_to_mov_text(multi, tmp_path, capfd):
    out = rewrite(multi, tmp_path / "out.mp4")
    assert stream_codecs(out) == [("video", "h264"), ("audio", "aac"), ("audio", "opus"), ("subtitle", "mov_text")]
    assert packets_of(out, 1) == packets_of(multi, 1) and packets_of(out, 2) == packets_of(multi, 2)
    assert subtitle_texts(out) == TEXTS
    err = capfd.readouterr().err.strip().splitlines()
    assert err == [f"warning: {out}: subtitle stream 3 of {multi} converted to mov_text: .mp4 cannot hold srt"]


def test_mov_reencodes_opus_to_aac(multi, tmp_path, capfd):
    out = rewrite(multi, tmp_path / "out.mov")
    assert stream_codecs(out) == [("video", "h264"), ("audio", "aac"), ("audio", "aac"), ("subtitle", "mov_text")]
    ends = stream_ends(out)
    assert abs(ends[2] - 0.4) < 0.025  # the re-encoded tone still lasts the video's 0.4 s
    assert "audio stream 2 of" in capfd.readouterr().err


def test_bitmap_subtitles_are_dropped_from_mp4_with_a_warning(tmp_path, capfd):
    clip = make_clip(tmp_path / "pgs.mkv", np.full((32, 48, 3), 90, np.uint8), frames=10,
                     subtitles=("subrip", "hdmv_pgs_subtitle"))
    out = rewrite(clip, tmp_path / "out.mp4")
    assert stream_codecs(out) == [("video", "h264"), ("subtitle", "mov_text")]
    err = capfd.readouterr().err.strip().splitlines()
    assert err[-1] == (f"warning: {out}: subtitle stream 2 of {clip} dropped: .mp4 cannot hold pgssub "
                       "(a bitmap subtitle)")
    assert stream_codecs(rewrite(clip, tmp_path / "out.mkv"))[1:] == [("subtitle", "srt"), ("subtitle", "pgssub")]


def test_mov_text_becomes_subrip_in_mkv(multi, tmp_path):
    mp4 = rewrite(multi, tmp_path / "mid.mp4")
    out = rewrite(mp4, tmp_path / "out.mkv")
    assert stream_codecs(out)[-1] == ("subtitle", "srt") and subtitle_texts(out) == TEXTS


@pytest.mark.parametrize("codec, suffix", [("aac", ".mp4"), ("libopus", ".mp4"), ("vorbis", ".mp4"),
                                           ("aac", ".mkv"), ("libopus", ".mkv")])
def test_audio_ends_with_the_video(tmp_path, codec, suffix):
    """The source's audio runs 0.3 s past its video: the copy stops with the video, at most one audio packet
    (AAC 21.3 ms, Opus 20 ms, Vorbis up to 21.3 ms here) later, so under one 40 ms frame."""
    clip = make_clip(tmp_path / "long.mkv", np.full((32, 48, 3), 90, np.uint8), frames=10, audio=(codec,),
                     audio_seconds=0.7)
    out = rewrite(clip, tmp_path / f"out{suffix}")
    ends = stream_ends(out)
    assert 0 <= ends[1] - ends[0] < 1 / FPS, ends


def test_pipeline_carries_the_streams_of_a_video_input(multi, tmp_path):
    plan = plan_outputs(multi, tmp_path / "out.mp4", InferConfig())
    assert plan.writer.streams_from == multi
    assert plan.writer.stream_plans == [StreamPlan(1, "audio", "aac"), StreamPlan(2, "audio", "opus"),
                                        StreamPlan(3, "subtitle", "srt", "mov_text")]


def test_audio_from_is_streams_from(multi, tmp_path):
    frames, info = read_video(multi)
    out = write_video(tmp_path / "a.mkv", frames, info.fps, audio_from=multi)
    assert [kind for kind, _ in stream_codecs(out)] == ["video", "audio", "audio", "subtitle"]
    with pytest.raises(InputError, match="not both"):
        VideoWriter(tmp_path / "b.mkv", 25, audio_from=multi, streams_from=multi)
