"""--resolution / --max-resolution: any output size, from the restored frames, through the one pipeline."""

import pytest
import torch

from fastvsr.config import load_config
from fastvsr.data.video import probe_video, read_video
from fastvsr.ops.resize import resize_video
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.upscale import upscale_video
from tests.test_infer_cli import infer, run_cli, tiny_model_dir  # noqa: F401  (fixtures)


@pytest.mark.parametrize("overrides, size", [
    ([], (576, 704)),                                           # x4, no rounding
    (["resolution=480"], (480, 586)),                           # short side 480, 586.67 -> even
    (["resolution=1080"], (1080, 1320)),                        # above x4: upsampled (a note says so)
    (["max_resolution=500"], (410, 500)),                       # x4 capped on the long side
    (["resolution=1080", "max_resolution=720"], (590, 720)),    # the cap wins
    (["scale=2", "resolution=288"], (288, 352)),                # exactly x2: nothing to resize
])
def test_output_size_rule(overrides, size):
    assert load_config(InferConfig, overrides=overrides).output_size(144, 176) == size


def test_resized_output_is_the_restored_output_resized(tiny_model_dir):  # noqa: F811
    from fastvsr.models import VSRModel

    model = VSRModel.from_pretrained(tiny_model_dir).eval()
    video = torch.rand(1, 3, 5, 24, 40)
    native = upscale_video(model, video, InferConfig(device="cpu", scale=2, tile=0))
    resized = upscale_video(model, video, InferConfig(device="cpu", scale=2, tile=0, resolution=30))
    assert resized.shape[-2:] == (30, 50)
    torch.testing.assert_close(resized, resize_video(native, (30, 50), "bicubic", antialias=True))


def test_cli_writes_the_asked_resolution(infer, tiny_model_dir, sample_clip, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "out.mp4"
    code, err = run_cli(infer, ["--input", str(sample_clip), "--model", str(tiny_model_dir), "--scale", "2",
                                "--resolution", "270", "--output", str(out), "--quiet"], capsys)
    assert code == 0 and not err
    info = probe_video(out)
    assert (info.height, info.width) == (270, 480) and info.num_frames == probe_video(sample_clip).num_frames
    assert read_video(out)[0].shape[-2:] == (270, 480)


def test_cli_says_when_the_target_is_above_what_the_model_restores(infer, tiny_model_dir, sample_clip, tmp_path,  # noqa: F811
                                                                    capsys):
    code, err = run_cli(infer, ["--input", str(sample_clip), "--model", str(tiny_model_dir), "--scale", "1",
                                "--resolution", "270", "--output", str(tmp_path / "o.png"), "--quiet"], capsys)
    assert code == 2 and any("above what x1 restores" in line for line in err)  # then refused: a video to .png
    code, err = run_cli(infer, ["--input", str(sample_clip), "--model", str(tiny_model_dir), "--max-pixels", "1000",
                                "--resolution", "270", "--output", str(tmp_path / "o.mp4")], capsys)
    assert code == 2 and err[-1] == ("error: 320x180 to 480x270 frames (0.1 MP) is above --max-pixels 1000; use a "
                                     "smaller --scale / --resolution or raise --max-pixels")
    assert not (tmp_path / "o.mp4").exists()
