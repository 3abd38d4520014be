"""scripts/infer.py end to end (in-process main()) with a tiny random-weight model saved in tmp_path."""

import shutil
import subprocess

import pytest
import torch

from fastvsr.atomic import MANIFEST
from fastvsr.cli import run_main
from fastvsr.config import load_config
from fastvsr.data.video import probe_video, read_video, write_video
from fastvsr.ops.resize import resize_video
from fastvsr.pipeline.config import InferConfig


@pytest.fixture(scope="module")
def infer(script):
    return script("infer")


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, request):
    from fastvsr.models import ModelConfig, build_model

    torch.manual_seed(0)
    cfg = load_config(ModelConfig, [request.config.rootpath / "configs" / "models" / "fastvsr_tiny.yaml"])
    return build_model(cfg).save_pretrained(tmp_path_factory.mktemp("model") / "tiny")


def run_cli(infer, argv, capsys):
    """run_main as the script does: returns (exit code, stderr lines)."""
    with pytest.raises(SystemExit) as exit_info:
        run_main(infer.main, argv)
    return exit_info.value.code, capsys.readouterr().err.strip().splitlines()


def test_video_in_video_out_with_audio_and_compare(infer, tiny_model_dir, sample_clip, tmp_path, capsys):
    clip = shutil.copy(sample_clip, tmp_path / "clip.mp4")
    code = infer.main(["--input", str(clip), "--model", str(tiny_model_dir), "--scale", "2", "--compare",
                       "--quiet"])
    assert code == 0
    out = tmp_path / "clip_x2.mp4"
    assert capsys.readouterr().out.split() == ["wrote", str(out), "wrote", str(tmp_path / "clip_x2_compare.mp4"),
                                               "wrote", str(tmp_path / "clip_x2_compare.png")]
    info, src = probe_video(out), probe_video(clip)
    assert (info.num_frames, info.height, info.width, info.fps) == (17, 360, 640, src.fps)
    assert info.has_audio and info.audio_codec == "aac"
    frames, _ = read_video(out)  # decodes: a playable file
    assert frames.shape == (3, 17, 360, 640) and frames.std() > 0.01
    side = probe_video(tmp_path / "clip_x2_compare.mp4")
    assert (side.num_frames, side.height, side.width) == (17, 360, 1280)
    assert side.has_audio and side.audio_codec == "aac"  # the compare video keeps the audio too
    png, _ = read_video(tmp_path / "clip_x2_compare.png")
    assert png.shape[-2:] == (360 + 640 // 2, 1280)  # captioned side by side, then a row of zoomed crops
    lr_middle, _ = read_video(clip, start=8, num_frames=1)
    bicubic = resize_video(lr_middle[None], (360, 640), "bicubic")[0]
    assert (png[..., 40:360, :640] - bicubic[..., 40:, :]).abs().mean() < 0.03  # left: the input, bicubic-upscaled
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind
    if shutil.which("ffprobe"):
        subprocess.run(["ffprobe", "-v", "error", str(out)], check=True)


def test_image_and_folder_inputs(infer, tiny_model_dir, sample_clip, tmp_path):
    frames, _ = read_video(sample_clip, num_frames=3)
    small = resize_video(frames[None], (20, 36))[0]
    write_video(tmp_path / "photo.png", small[:, :1], 25)
    write_video(tmp_path / "frames", small, 25)
    for name in ("photo.png", "frames"):
        assert infer.main(["--input", str(tmp_path / name), "--model", str(tiny_model_dir), "--quiet",
                           "--color-fix", "wavelet"]) == 0
    image = probe_video(tmp_path / "photo_x4.png")
    assert (image.num_frames, image.height, image.width, image.codec) == (1, 80, 144, "png")
    folder = sorted(p.name for p in (tmp_path / "frames_x4").iterdir())
    assert folder == [MANIFEST, "000000.png", "000001.png", "000002.png"]
    assert probe_video(tmp_path / "frames_x4").height == 80


def test_a_failed_run_leaves_no_output(infer, tiny_model_dir, sample_clip, tmp_path, monkeypatch):
    import fastvsr.pipeline.files as files

    real_stream = files.upscale_stream

    def failing_stream(*args, **kwargs):
        for piece in real_stream(*args, **kwargs):
            yield piece
            raise RuntimeError("simulated crash after the first frames")

    monkeypatch.setattr(files, "upscale_stream", failing_stream)
    argv = ["--input", str(sample_clip), "--output", str(tmp_path / "out.mp4"), "--model", str(tiny_model_dir),
            "--quiet", "--scale", "1", "--chunk", "5", "--chunk-overlap", "1", "--compare"]
    with pytest.raises(RuntimeError, match="simulated"):
        infer.main(argv)
    assert list(tmp_path.iterdir()) == []


def test_user_errors_are_one_line_exit_2(infer, tiny_model_dir, sample_clip, tmp_path, capsys, monkeypatch):
    model = ["--model", str(tiny_model_dir)]
    # a checkout without the shipped weights: the default folder is missing
    monkeypatch.setattr("fastvsr.pipeline.loading.DEFAULT_MODEL_DIR", tmp_path / "fastvsr" / "weights" / "default")
    existing = tmp_path / "taken.mp4"
    existing.write_bytes(b"keep me")
    cases = {
        "does not exist": ["--input", str(tmp_path / "missing.mp4")] + model,
        "already exists; pass --overwrite": ["--input", str(sample_clip), "--output", str(existing)] + model,
        "no model folder at": ["--input", str(sample_clip), "--output", str(tmp_path / "a.mp4"), "--model",
                               str(tmp_path / "no_model")],
        "fastvsr/weights/default": ["--input", str(sample_clip), "--output", str(tmp_path / "b.mp4")],
        "above --max-pixels 1000": ["--input", str(sample_clip), "--output", str(tmp_path / "c.mp4"),
                                    "--max-pixels", "1000"] + model,
        "chunk_overlap must be in": ["--input", str(sample_clip), "--chunk", "4", "--chunk-overlap", "4"] + model,
        "is the input file": ["--input", str(sample_clip), "--output", str(sample_clip), "--overwrite"] + model,
    }
    for message, argv in cases.items():
        code, err = run_cli(infer, argv, capsys)
        assert code == 2 and len(err) == 1 and message in err[0], (message, err)
    assert existing.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.mp4"]


def test_shipped_infer_configs_load(repo_root):
    paths = sorted((repo_root / "configs" / "infer").glob("*.yaml"))
    assert paths
    for path in paths:
        assert isinstance(load_config(InferConfig, [path]), InferConfig)
