"""Colour: BT.709 for HD outputs and BT.601 below, every output tagged, tagged inputs decoded with their own
matrix (and range) and their tags kept on the output; SD output pixels are exactly the old writer's."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch
from av.video.reformatter import Colorspace

from fastvsr.data.colour import Colour, default_colour, output_colour
from fastvsr.data.video import probe_video, read_video, write_video
from fastvsr.data.writer import encoder_frame, to_uint8_frames
from tests.video_helpers import make_clip

GREEN = (50, 200, 50)


def flat(colour: tuple[int, int, int], height: int, width: int, frames: int = 2) -> torch.Tensor:
    return (torch.tensor(colour, dtype=torch.float32) / 255)[:, None, None, None].expand(3, frames, height, width)


def stream_tags(path) -> tuple[int, int, int, int]:
    """``(colorspace, color_primaries, color_trc, color_range)`` codes as the demuxer reports the stream."""
    with av.open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        return ctx.colorspace, ctx.color_primaries, ctx.color_trc, ctx.color_range


def mean_rgb(frames: torch.Tensor) -> list[float]:
    return (frames.mean(dim=(1, 2, 3)) * 255).tolist()


def test_hd_output_is_bt709_tagged_and_round_trips(tmp_path):
    out = write_video(tmp_path / "hd.mp4", flat(GREEN, 720, 1280), 25)
    assert stream_tags(out) == (1, 1, 1, 1)  # bt709 matrix / primaries / transfer, limited ("tv") range
    back, info = read_video(out)
    assert info.colour == Colour("bt709", "bt709", "bt709", "tv")
    assert np.allclose(mean_rgb(back), GREEN, atol=2.5)  # measured (49, 198, 49): swscale's fast rounding
    with av.open(str(out)) as container:  # PyAV's own conversion follows the tags: the same colour
        pixel = next(container.decode(video=0)).to_ndarray(format="rgb24")[360, 640]
    assert np.abs(pixel.astype(int) - GREEN).max() <= 2


def test_sd_output_stays_bt601_and_is_tagged_so(tmp_path):
    out = write_video(tmp_path / "sd.mp4", flat(GREEN, 180, 320), 25)
    assert stream_tags(out) == (6, 6, 6, 1)  # smpte170m (BT.601 525) for all three, limited range
    back, info = read_video(out)
    assert info.colour == default_colour(180) and np.allclose(mean_rgb(back), GREEN, atol=1.5)


def planes(frame: av.VideoFrame) -> list[np.ndarray]:
    return [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width].copy() for p in frame.planes]


@pytest.mark.parametrize("pix_fmt, height, width", [("yuv420p", 180, 320), ("yuv444p", 33, 47)])
def test_sd_yuv_equals_the_untagged_writer(sample_clip, pix_fmt, height, width):
    """The old writer let the encoder convert rgb24 with swscale's defaults (BT.601, limited): the YUV handed
    to the encoder for SD frames is exactly that one (tags change no value). (x264's frame threads make its
    output differ from run to run anyway, so whole files cannot be compared.)"""
    frames, _ = read_video(sample_clip, num_frames=3)
    for array in to_uint8_frames(frames[:, :, :height, :width]):
        old = av.VideoFrame.from_ndarray(array, format="rgb24").reformat(format=pix_fmt)
        new = encoder_frame(array, pix_fmt, default_colour(height))
        assert all(np.array_equal(a, b) for a, b in zip(planes(old), planes(new), strict=True))
        assert (new.colorspace, new.color_range, new.color_primaries, new.color_trc) == (6, 1, 6, 6)


def test_untagged_hd_input_is_decoded_as_bt709(tmp_path):
    pixels = np.broadcast_to(np.array(GREEN, np.uint8), (720, 1280, 3)).copy()
    clip = make_clip(tmp_path / "hd.mkv", pixels, frames=1, codec="ffv1", convert=Colorspace.ITU709)
    frames, info = read_video(clip)
    assert info.colour == Colour()  # untagged
    assert np.allclose(mean_rgb(frames), GREEN, atol=2.5)
    with av.open(str(clip)) as container:  # decoding it as BT.601 (swscale's default) is visibly off
        wrong = next(container.decode(video=0)).to_ndarray(format="rgb24")[0, 0].astype(int)
    assert np.abs(wrong - GREEN).max() > 8


@pytest.mark.parametrize("tags, convert", [
    (Colour("bt709", "bt709", "bt709", "tv"), Colorspace.ITU709),  # an SD clip tagged BT.709 (web video)
    (Colour("smpte170m", "bt470bg", "smpte170m", "pc"), Colorspace.ITU601),  # full range, PAL primaries
])
def test_tagged_input_is_decoded_with_its_tags_and_keeps_them(tmp_path, tags, convert):
    pixels = np.broadcast_to(np.array(GREEN, np.uint8), (96, 128, 3)).copy()
    clip = make_clip(tmp_path / "in.mkv", pixels, frames=2, codec="ffv1", convert=convert, tags=tags)
    frames, info = read_video(clip)
    assert info.colour == tags and np.allclose(mean_rgb(frames), GREEN, atol=2.5)
    upscaled = frames.repeat_interleave(8, dim=2).repeat_interleave(8, dim=3)  # 768 x 1024: HD size
    out = write_video(tmp_path / "out.mp4", upscaled, info.fps, source=info)
    back, written = read_video(out)
    assert written.colour == tags  # kept, not the HD default
    assert np.allclose(mean_rgb(back), mean_rgb(frames), atol=2.5)  # converted with the same matrix both ways


def test_output_colour_rule():
    assert output_colour(None, 1080, rgb=False) == Colour("bt709", "bt709", "bt709", "tv")
    assert output_colour(None, 480, rgb=False) == Colour("smpte170m", "smpte170m", "smpte170m", "tv")
    assert output_colour(Colour(matrix="bt2020nc", transfer="smpte2084"), 2160, rgb=False) == Colour(
        "bt2020nc", "bt709", "smpte2084", "tv")  # untagged fields from the rule
    assert output_colour(Colour(matrix="ycgco"), 480, rgb=False).matrix == "smpte170m"  # not convertible
    assert output_colour(Colour("gbr", "bt709", "bt709", "pc"), 480, rgb=False).range == "tv"  # RGB source
    assert output_colour(None, 720, rgb=True) == Colour("gbr", "bt709", "bt709", "pc")


def test_lossless_output_is_tagged_rgb(tmp_path):
    info = probe_video(write_video(tmp_path / "rgb.mkv", flat(GREEN, 16, 16), 25, lossless=True))
    assert info.colour == Colour("gbr", "smpte170m", "smpte170m", "pc")
