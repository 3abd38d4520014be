"""Metrics and protocol: PSNR/SSIM reference values, pyiqa parity, per-video averaging, missing weights."""

import math
import sys
from pathlib import Path

import pytest
import torch
from kornia.filters import gaussian_blur2d

from fastvsr.errors import ConfigError, InputError
from fastvsr.metrics import CropMode, EvalConfig, VideoPair, align_pair, build_metrics, evaluate_batch, evaluate_pairs
from fastvsr.metrics.fullref import PSNR_CEILING, FullReferenceMetric, psnr, ssim
from fastvsr.metrics.results import write_results

DATA = Path(__file__).parent / "data"


def textured(shape, seed=0):
    """Smooth random images ``(N, 3, H, W)`` in [0, 1] (blurred noise, like natural texture)."""
    g = torch.Generator().manual_seed(seed)
    x = gaussian_blur2d(torch.rand(shape, generator=g), (5, 5), (1.5, 1.5))
    return (x - x.min()) / (x.max() - x.min())


def textured_video(frames, height, width, seed=0):
    """``(3, T, H, W)`` clip of independent textured frames."""
    return textured((frames, 3, height, width), seed).transpose(0, 1)


def test_identical_frames_give_the_psnr_ceiling_and_unit_ssim():
    x = textured((2, 3, 32, 40))
    assert PSNR_CEILING == 80.0 and torch.equal(psnr(x, x), torch.full((2,), 80.0, dtype=torch.float64))
    assert torch.allclose(ssim(x, x), torch.ones(2, dtype=torch.float64))


def test_one_identical_frame_keeps_the_video_mean_finite_and_is_noted():
    gt = torch.full((3, 2, 16, 16), 0.5)
    pred = gt.clone()
    pred[:, 1] = 0.625  # frame 1: error 1/8 everywhere (exact in float32), MSE 1/64; frame 0 identical
    expected = (10 * math.log10(1 / 1e-8) + 10 * math.log10(1 / (1 / 64 + 1e-8))) / 2  # (80 + 18.0617970) / 2
    results = evaluate_pairs([VideoPair("v", pred, gt)], build_metrics(EvalConfig(metrics=["psnr"])), progress=False)
    assert dict(results.rows)["v"]["psnr"] == pytest.approx(expected, abs=1e-9)
    assert results.notes == ["v: psnr: 1 of 2 frames identical to the ground truth, each scored 80 dB"]


def test_psnr_of_gaussian_noise_matches_the_analytic_value():
    sigma = 0.05
    clean = torch.full((4, 3, 64, 64), 0.5)  # mid-grey: no clipping, so MSE = sigma^2
    noisy = clean + sigma * torch.randn(clean.shape, generator=torch.Generator().manual_seed(1))
    expected = -10 * math.log10(sigma**2)  # 26.02 dB
    assert abs(float(psnr(noisy, clean).mean()) - expected) < 0.05
    assert float(ssim(noisy.clamp(0, 1), clean).mean()) < 0.9  # noise lowers SSIM


def test_psnr_and_ssim_equal_pyiqa():
    pyiqa = pytest.importorskip("pyiqa")
    x = textured((3, 3, 48, 56), seed=2)
    noisy = (x + 0.08 * torch.randn(x.shape, generator=torch.Generator().manual_seed(3))).clamp(0, 1)
    inverted = 1 - x  # anti-correlated: exercises the clipped contrast-structure term
    for other in (noisy, inverted):
        ours, theirs = ssim(x, other), pyiqa.create_metric("ssim", device="cpu")(x, other)
        assert torch.allclose(ours, theirs.double(), atol=1e-6), (ours, theirs)
        ours, theirs = psnr(x, other), pyiqa.create_metric("psnr", device="cpu")(x, other)
        assert torch.allclose(ours, theirs.double(), atol=1e-4)
    assert float(pyiqa.create_metric("psnr", device="cpu")(x, x)[0]) == pytest.approx(PSNR_CEILING)  # same cap


def test_align_refuses_mismatches_unless_asked_to_crop_or_truncate():
    pred, gt = torch.rand(3, 5, 20, 30), torch.rand(3, 4, 24, 28)
    with pytest.raises(InputError, match=r"clip 'v': prediction is 30x20 but ground truth is 28x24"):
        align_pair(pred, gt, name="v")
    with pytest.raises(InputError, match="prediction has 5 frames but ground truth has 4; pass --truncate"):
        align_pair(pred, gt, CropMode.TOPLEFT, name="v")
    a, b, notes = align_pair(pred, gt, CropMode.TOPLEFT, truncate=True, name="v")
    assert a.shape == b.shape == (3, 4, 20, 28)
    assert torch.equal(a, pred[:, :4, :20, :28]) and torch.equal(b, gt[:, :4, :20, :28])  # top-left
    assert notes == ["v: prediction 30x20 and ground truth 28x24 cropped (topleft) to 28x20",
                     "v: prediction (5 frames) and ground truth (4) truncated to 4 frames"]
    _, centre, _ = align_pair(pred, gt, CropMode.CENTER, truncate=True)
    assert torch.equal(centre, gt[:, :4, 2:22, :28])
    same, _, none = align_pair(pred, pred.clone())
    assert same is pred and none == []


def test_scores_average_per_frame_then_per_video():
    gt = torch.full((3, 4, 16, 16), 0.5)
    frame_noise = torch.tensor([0.1, 0.01, 0.1, 0.1]).view(1, 4, 1, 1)  # 20 dB, 40 dB, 20 dB, 20 dB frames
    a = gt + frame_noise * torch.tensor([1.0, -1.0]).repeat(8)[:16].view(1, 1, 1, 16)
    b = gt + 0.1  # 20 dB everywhere
    metrics = build_metrics(EvalConfig(metrics=["psnr"]))
    results = evaluate_pairs([VideoPair("a", a[:, :2], gt[:, :2]), VideoPair("b", b, gt)], metrics, progress=False)
    rows = dict(results.rows)
    assert rows["a"]["psnr"] == pytest.approx(30.0, abs=1e-3)  # mean of its frames (20, 40), not of pooled MSE
    assert results.means()["psnr"] == pytest.approx(25.0, abs=1e-3)  # mean over videos, not over frames (23.3)


def test_batched_inputs_score_each_clip():
    gt = torch.stack([textured_video(3, 24, 24, seed) for seed in (0, 1)])
    pred = (gt + 0.02).clamp(0, 1)
    scores = evaluate_batch(pred, gt, [FullReferenceMetric("psnr", psnr)])
    assert len(scores) == 2 and all(20 < s["psnr"] < 60 for s in scores)
    with pytest.raises(InputError):
        evaluate_batch(pred[0], gt[0], [FullReferenceMetric("psnr", psnr)])


def test_bad_inputs_are_user_errors():
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        evaluate_pairs([VideoPair("x", torch.rand(3, 2, 16, 16) * 255, torch.rand(3, 2, 16, 16))],
                       build_metrics(EvalConfig(metrics=["psnr"])), progress=False)
    with pytest.raises(InputError, match="11x11"):
        build_metrics(EvalConfig(metrics=["ssim"])).metrics[0].score(torch.rand(3, 2, 8, 8), torch.rand(3, 2, 8, 8))
    with pytest.raises(ConfigError, match="unknown metric 'psrn'"):
        build_metrics(EvalConfig(metrics=["psrn"]))


def test_metrics_without_weights_are_reported_missing_not_invented(tmp_path):
    cfg = EvalConfig(metrics=["psnr", "lpips", "musiq", "dists", "dover"], weights_dir=str(tmp_path / "empty"))
    metrics = build_metrics(cfg)
    assert metrics.names == ["psnr"]
    assert set(metrics.missing) == {"lpips", "musiq", "dists", "dover"}
    if "not installed" not in metrics.missing["lpips"]:
        assert "alexnet-owt-7be5be79.pth" in metrics.missing["lpips"]
        assert "musiq_koniq_ckpt-e95806b9.pth" in metrics.missing["musiq"]
    x = textured_video(2, 16, 16)
    results = evaluate_pairs([VideoPair("v", x, x)], metrics, progress=False)
    csv_path, json_path = write_results(results, tmp_path / "out")
    assert csv_path.read_text().splitlines()[0] == "video,psnr"
    summary = results.summary()
    assert set(summary["metrics"]) == {"psnr"} and set(summary["missing"]) == set(metrics.missing)
    assert '"lpips"' in json_path.read_text()


def test_full_reference_metrics_need_ground_truth():
    metrics = build_metrics(EvalConfig(metrics=["psnr", "ewarp[dis]"]), with_gt=False)
    assert metrics.names == ["ewarp[dis]"] and "no ground truth" in metrics.missing["psnr"]


def test_niqe_runs_from_a_configured_parameter_file(tmp_path):
    pytest.importorskip("pyiqa")
    params = DATA / "niqe_frames_modelparameters.mat"
    cfg = EvalConfig(metrics=["niqe"], weights_dir=str(tmp_path), niqe_params=str(params))
    metrics = build_metrics(cfg, with_gt=False)
    assert metrics.names == ["niqe"] and not metrics.missing
    clean = textured_video(1, 96, 96, seed=4)[:, 0]
    noisy = (clean + 0.2 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(5))).clamp(0, 1)
    video = torch.stack([clean, clean], dim=1)
    noisy_video = torch.stack([noisy, noisy], dim=1)
    results = evaluate_pairs([VideoPair("clean", video), VideoPair("noisy", noisy_video)], metrics, progress=False)
    scores = dict(results.rows)
    assert math.isfinite(scores["clean"]["niqe"]) and scores["noisy"]["niqe"] > scores["clean"]["niqe"]
    assert metrics.notes == [f"niqe: parameters from {params} (niqe_params)"]
    missing = build_metrics(EvalConfig(metrics=["niqe"], niqe_params=str(tmp_path / "absent.mat")), with_gt=False)
    assert "parameter file not found" in missing.missing["niqe"]


def test_dover_hook_runs_the_configured_command_on_a_lossless_copy(tmp_path):
    """A stand-in 'DOVER checkout' whose script prints the frame count it read: the hook's plumbing, not DOVER."""
    root = tmp_path / "DOVER"
    (root / "pretrained_weights").mkdir(parents=True)
    (root / "pretrained_weights" / "DOVER.pth").write_bytes(b"stand-in")
    (root / "score.py").write_text(
        "import sys\nimport av\n"
        "frames = sum(1 for _ in av.open(sys.argv[1]).decode(video=0))\n"
        "print('Normalized fused overall score (scale in [0,1]):', frames / 10)\n")
    cfg = EvalConfig(metrics=["dover"], dover_root=str(root), dover_command=f"{sys.executable} score.py {{video}}")
    metrics = build_metrics(cfg, with_gt=False)
    assert metrics.names == ["dover"]
    assert metrics.metrics[0].score(textured_video(3, 16, 16)) == pytest.approx(0.3)
    broken = EvalConfig(metrics=["dover"], dover_root=str(root),
                        dover_command=f"{sys.executable} missing.py {{video}}")
    with pytest.raises(ConfigError, match="dover: .* failed"):
        build_metrics(broken, with_gt=False).metrics[0].score(textured_video(3, 16, 16))


def test_evaluate_script_end_to_end(tmp_path, capsys):
    import json

    from fastvsr.cli import run_main
    from fastvsr.data.writer import write_video
    from tests.conftest import load_script

    main = load_script("evaluate").main

    clip_a, clip_b = textured_video(3, 48, 64, seed=6), textured_video(3, 48, 64, seed=7)
    noisy_b = (clip_b + 0.05 * torch.randn(clip_b.shape, generator=torch.Generator().manual_seed(8))).clamp(0, 1)
    write_video(tmp_path / "gt" / "a", clip_a, 25)  # a folder of PNG frames
    write_video(tmp_path / "gt" / "b", clip_b, 25)
    write_video(tmp_path / "pred" / "a.mp4", clip_a, 25, lossless=True)  # matched by name: a.mp4 <-> a/
    write_video(tmp_path / "pred" / "b", noisy_b, 25)
    out = tmp_path / "out"
    args = ["--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"), "--out", str(out), "--quiet",
            "--metrics", "psnr,ssim,ewarp[dis],lpips", "--weights-dir", str(tmp_path / "no-weights"),
            "--method", "ours", "--dataset", "udm10"]
    assert main(args) == 0
    rows = (out / "per_video.csv").read_text().splitlines()
    assert rows[0] == "video,psnr,ssim,ewarp[dis]" and rows[1].startswith("a,80.0,1.0,")  # lossless copy
    psnr_b = float(rows[2].split(",")[1])
    assert abs(psnr_b - float(psnr(noisy_b.transpose(0, 1), clip_b.transpose(0, 1)).mean())) < 0.2  # 8-bit files
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"] == "udm10" and summary["num_videos"] == 2 and "lpips" in summary["missing"]
    assert "a: psnr: 3 of 3 frames identical to the ground truth, each scored 80 dB" in summary["notes"]
    assert "lpips  missing:" in capsys.readouterr().out

    assert main(["--pred", str(tmp_path / "pred"), "--out", str(tmp_path / "nr"), "--metrics", "ewarp[dis]",
                 "--quiet"]) == 0  # no-reference run without --gt
    assert json.loads((tmp_path / "nr" / "summary.json").read_text())["dataset"] == "custom"

    write_video(tmp_path / "pred" / "extra.mp4", clip_a, 25)
    for argv, message in ((args + ["--overwrite"], "1 prediction(s) have no ground truth of the same name"),
                          (args[:4] + ["--out", str(tmp_path / "new")], "no ground truth")):
        with pytest.raises(SystemExit) as exit_info:
            run_main(main, argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):  # existing results need --overwrite
        run_main(main, ["--pred", str(tmp_path / "pred" / "a.mp4"), "--gt", str(tmp_path / "gt" / "a"),
                        "--out", str(out), "--quiet"])
    assert "already exists" in capsys.readouterr().err
