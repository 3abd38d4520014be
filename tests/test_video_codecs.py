"""Video output codecs and pixel formats: h264 / h265 / ffv1 / prores in mp4 / mkv / mov, 8 and 10 bits (10-bit
outputs keep more than 8 bits of precision), lossless RGB, one-line errors for combinations that cannot work,
and the InferConfig fields / scripts/infer.py flags that choose them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fastvsr.data.video import VideoWriter, probe_video, read_video, write_video
from fastvsr.errors import InputError, OutputError
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.files import plan_outputs
from tests.video_helpers import make_clip


def smooth(frames: int = 3, height: int = 32, width: int = 64) -> torch.Tensor:
    """``(3, T, H, W)`` smooth colour ramps in ``[0, 1]`` (what compresses well and shows banding)."""
    x = torch.linspace(0, 1, width)
    y = torch.linspace(0.2, 0.8, height)[:, None]
    image = torch.stack([x.expand(height, width), x.flip(0).expand(height, width), y.expand(height, width)])
    return image[:, None].expand(3, frames, height, width).contiguous()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(-10 * torch.log10(((a - b) ** 2).mean()))


@pytest.mark.parametrize("codec, pix_fmt, suffix, stored, depth", [
    ("h264", "yuv420p10le", ".mp4", "h264", 10), ("h265", "yuv420p", ".mp4", "hevc", 8),
    ("h265", "yuv444p10le", ".mkv", "hevc", 10), ("h265", "yuv422p10le", ".mov", "hevc", 10),
    ("ffv1", "yuv420p", ".mp4", "ffv1", 8), ("ffv1", "yuv422p10le", ".mkv", "ffv1", 10),
    ("prores", "yuv422p10le", ".mov", "prores", 10), ("prores", "yuv444p10le", ".mkv", "prores", 12),
])
def test_codecs_and_pixel_formats_round_trip(tmp_path, codec, pix_fmt, suffix, stored, depth):
    frames = smooth()
    out = write_video(tmp_path / f"out{suffix}", frames, 25, codec=codec, pix_fmt=pix_fmt, crf=12)
    info = probe_video(out)
    assert (info.codec, info.bit_depth, info.num_frames) == (stored, depth, 3)  # prores 4444 decodes as 12 bits
    assert info.pix_fmt == pix_fmt or (codec == "prores" and info.pix_fmt == "yuv444p12le")
    assert psnr(read_video(out)[0], frames) > 33  # measured 37.6 dB and up (4:2:0 of strong chroma ramps)


@pytest.mark.parametrize("pix_fmt, max_levels, mean_levels", [("yuv444p10le", 0.6, 0.2), ("yuv444p", 3.0, 0.6)])
def test_ten_bit_output_keeps_more_than_eight_bits(tmp_path, pix_fmt, max_levels, mean_levels):
    """A smooth gradient written as yuv444p10le (ffv1: no coding loss, only the YUV conversion) comes back with
    errors well under one 8-bit level; the same in 8-bit yuv444p is off by up to ~2.4 levels."""
    frames = smooth(1, 64, 256)
    back, info = read_video(write_video(tmp_path / "g.mkv", frames, 25, codec="ffv1", pix_fmt=pix_fmt))
    error = (back - frames).abs() * 255  # in 8-bit levels; measured 0.50 / 0.12 (10-bit) and 2.43 / 0.44 (8-bit)
    assert error.max() < max_levels and error.mean() < mean_levels
    assert info.bit_depth == (10 if pix_fmt.endswith("10le") else 8)
    if pix_fmt.endswith("10le"):
        assert error.max() < 1 and len(torch.unique(back[0, 0, 0])) > 200  # 256 distinct values along a row


@pytest.mark.parametrize("codec, suffix", [("h265", ".mkv"), ("ffv1", ".mkv"), ("ffv1", ".mp4"), ("h265", ".mov")])
def test_lossless_rgb_is_bit_exact(tmp_path, codec, suffix):
    frames = torch.randint(0, 256, (3, 3, 24, 64), generator=torch.Generator().manual_seed(0)).float() / 255
    out = write_video(tmp_path / f"x{suffix}", frames, 25, codec=codec, lossless=True)
    assert torch.equal(read_video(out)[0], frames)
    assert probe_video(out).colour.matrix == "gbr"


def test_odd_sizes_use_full_chroma_of_the_same_depth(tmp_path):
    frames = smooth(1, 33, 65)
    info = probe_video(write_video(tmp_path / "odd.mkv", frames, 25, codec="h265", pix_fmt="yuv420p10le"))
    assert (info.height, info.width, info.pix_fmt) == (33, 65, "yuv444p10le")


def test_h265_refuses_frames_narrower_than_64_pixels(tmp_path):
    with pytest.raises(OutputError, match="h265 needs frames at least 64 pixels wide, got 48x32"):
        write_video(tmp_path / "narrow.mkv", smooth(1, 32, 48), 25, codec="h265")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, suffix, error, match", [
    (dict(codec="vp9"), ".mkv", InputError, "codec must be one of h264, h265, ffv1, prores"),
    (dict(codec="prores", pix_fmt="yuv420p"), ".mov", InputError,
     "prores stores pix_fmt yuv422p10le, yuv444p10le, not yuv420p"),
    (dict(codec="prores"), ".mp4", OutputError, r"\.mp4 cannot hold prores; use \.mkv or \.mov"),
    (dict(codec="ffv1"), ".mov", OutputError, r"\.mov cannot hold ffv1; use \.mkv or \.mp4"),
    (dict(codec="prores", pix_fmt="yuv444p10le", lossless=True), ".mov", InputError, "prores is never lossless"),
    (dict(pix_fmt="yuv420p10le", lossless=True), ".mkv", InputError, "lossless output is 8-bit RGB"),
])
def test_impossible_combinations_are_one_line_errors_before_writing(tmp_path, kwargs, suffix, error, match):
    with pytest.raises(error, match=match) as caught:
        VideoWriter(tmp_path / f"x{suffix}", 25, **kwargs)
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_image_outputs_ignore_video_settings(tmp_path):
    frames = smooth(1)
    back, info = read_video(write_video(tmp_path / "a.png", frames, 25, codec="h265", pix_fmt="yuv444p10le"))
    assert info.bit_depth == 8 and (back - frames).abs().max() <= 0.5 / 255 + 1e-6


def test_infer_config_and_flags_choose_codec_and_pix_fmt(script, sample_clip, tmp_path):
    cfg = InferConfig(codec="h265", pix_fmt="yuv420p10le")
    assert (cfg.codec, cfg.pix_fmt) == ("h265", "yuv420p10le")
    assert (InferConfig().pix_fmt, InferConfig(codec="prores").pix_fmt) == ("yuv420p", "yuv422p10le")
    with pytest.raises(ValueError, match="prores stores"):
        InferConfig(codec="prores", pix_fmt="yuv420p")
    infer = script("infer")
    args = infer.build_parser().parse_args(["--input", "x.mp4", "--codec", "h265", "--pix-fmt", "yuv420p10le"])
    assert {field: getattr(args, flag) for flag, field in infer.FLAG_FIELDS.items()
            if field in ("codec", "pix_fmt")} == {"codec": "h265", "pix_fmt": "yuv420p10le"}
    plan = plan_outputs(sample_clip, tmp_path / "out.mkv", cfg)
    assert (plan.writer.codec, plan.writer.pix_fmt, plan.writer.streams_from) == ("h265", "yuv420p10le", sample_clip)
    with pytest.raises(OutputError, match="cannot hold prores"):
        plan_outputs(sample_clip, tmp_path / "out.mp4", InferConfig(codec="prores", pix_fmt="yuv422p10le"))


def test_outputs_without_a_name_get_a_container_that_holds_the_codec(sample_clip, tmp_path):
    """``--codec prores`` alone writes ProRes 422 HQ: a default output (or a batch output named after an .mp4
    input) becomes .mov; a container that holds the codec is kept."""
    from fastvsr.pipeline.batch import batch_output_name
    from fastvsr.pipeline.files import default_output

    info = probe_video(sample_clip)
    assert default_output(tmp_path / "clip.mp4", info, 4).name == "clip_x4.mp4"
    assert default_output(tmp_path / "clip.mp4", info, 4, "prores").name == "clip_x4.mov"
    names = ("a.mp4", "b.mkv", "c.avi")
    for name in names:
        (tmp_path / name).touch()
    assert [batch_output_name(tmp_path / n, "prores") for n in names] == ["a.mov", "b.mkv", "c.mov"]
    assert batch_output_name(tmp_path / "c.avi") == "c.mp4"
    plan = plan_outputs(sample_clip, tmp_path / "out.mov", InferConfig(codec="prores"))
    assert (plan.writer.codec, plan.writer.pix_fmt) == ("prores", "yuv422p10le")


def test_cli_writes_h265_ten_bit(script, repo_root, tmp_path):
    """``scripts/infer.py --codec h265 --pix-fmt yuv420p10le`` end to end (the untrained tiny model's output
    only has to be a 10-bit HEVC video of the right size, with the source's audio)."""
    from fastvsr.config import load_config
    from fastvsr.models import ModelConfig, build_model

    torch.manual_seed(0)
    model_cfg = load_config(ModelConfig, [repo_root / "configs" / "models" / "fastvsr_tiny.yaml"])
    model = build_model(model_cfg).save_pretrained(tmp_path / "tiny")
    clip = make_clip(tmp_path / "clip.mp4", np.full((32, 48, 3), 120, np.uint8), frames=3, audio=("aac",))
    out = tmp_path / "clip_x2.mkv"
    code = script("infer").main(["--input", str(clip), "--output", str(out), "--model", str(model), "--scale", "2",
                                 "--codec", "h265", "--pix-fmt", "yuv420p10le", "--device", "cpu", "--quiet"])
    assert code == 0
    info = probe_video(out)
    assert (info.codec, info.pix_fmt, info.height, info.width, info.num_frames) == ("hevc", "yuv420p10le", 64, 96, 3)
    assert info.has_audio and info.colour.matrix == "smpte170m"
