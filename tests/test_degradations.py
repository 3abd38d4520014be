"""Real-world video degradation: each stage, per-clip parameters, exact LR size, determinism, scripts/degrade.py."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from fastvsr.config import load_config
from fastvsr.data.degradations import DegradationConfig, DegradationMode, degrade, sample_degradation
from fastvsr.data.degradations.blur import blur
from fastvsr.data.degradations.codec import compress_video
from fastvsr.data.degradations.config import CodecConfig, JpegConfig, NoiseConfig, StageConfig
from fastvsr.data.degradations.jpeg import jpeg
from fastvsr.data.degradations.kernels import anisotropic_kernel, isotropic_gaussian, sinc_kernel
from fastvsr.data.degradations.noise import gaussian_noise, poisson_noise
from fastvsr.data.degradations.params import BlurParams, random_walk
from fastvsr.data.degradations.resize import resize_frames
from fastvsr.data.video import read_video
from fastvsr.errors import ConfigError, InputError
from tests.conftest import load_script


def textured(t: int = 4, h: int = 32, w: int = 48, seed: int = 0) -> torch.Tensor:
    """(T, 3, H, W) smooth-plus-detail frames in [0, 1] that move one pixel a frame."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(3, h, w + t, generator=g)
    base = torch.nn.functional.avg_pool2d(base[None], 3, 1, 1)[0] * 0.6 + base * 0.4
    return torch.stack([base[:, :, i:i + w] for i in range(t)])


def sample_frames(clip, t=8, h=64, w=96):
    video, _ = read_video(clip, num_frames=t)
    return video[:, :, :h, :w].transpose(0, 1).contiguous()  # (T, 3, H, W)


# ------------------------------------------------------------------------------------------------ kernels

@pytest.mark.parametrize("kind", ["iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso",
                                  "plateau_aniso", "sinc"])
def test_every_kernel_type_is_normalised_and_per_frame(kind):
    n = 3
    params = BlurParams(kind, 11, np.array([0.8, 1.5, 2.5]), np.array([2.0, 0.5, 1.0]), np.array([0.3, 1.0, -1.0]),
                        np.array([1.0, 2.0, 3.0]), np.array([1.2, 2.0, 3.0]))
    k = params.kernels()
    assert k.shape == (n, 11, 11) and k.dtype == torch.float32
    torch.testing.assert_close(k.sum(dim=(-2, -1)), torch.ones(n))
    assert not torch.allclose(k[0], k[2])  # per-frame parameters give per-frame kernels
    assert int(k[0].argmax()) == 60  # peak at the centre pixel


def test_gaussian_shapes_agree_with_kornia_and_rotation():
    iso = isotropic_gaussian(9, np.array([1.3]))
    hand = anisotropic_kernel("gaussian", 9, np.array([1.3]), np.array([1.3]), np.array([0.7]), np.array([1.0]))
    torch.testing.assert_close(iso, hand, atol=1e-6, rtol=0)  # isotropic: rotation does nothing
    wide = anisotropic_kernel("gaussian", 9, np.array([3.0]), np.array([0.5]), np.array([0.0]), np.array([1.0]))[0]
    turned = anisotropic_kernel("gaussian", 9, np.array([3.0]), np.array([0.5]), np.array([np.pi / 2]),
                                np.array([1.0]))[0]
    assert wide[4].sum() > wide[:, 4].sum()  # long along x
    torch.testing.assert_close(turned, wide.T, atol=1e-6, rtol=0)


def test_sinc_rings_and_plateau_is_flatter_than_gaussian():
    sinc = sinc_kernel(21, np.array([np.pi / 3]))[0]
    assert sinc.min() < 0  # the ringing lobes that make sinc artefacts
    gauss = anisotropic_kernel("generalized", 15, *(np.array([2.0]),) * 2, np.array([0.0]), np.array([1.0]))[0]
    plateau = anisotropic_kernel("plateau", 15, *(np.array([2.0]),) * 2, np.array([0.0]), np.array([1.0]))[0]
    assert plateau[7, 14] / plateau[7, 7] > gauss[7, 14] / gauss[7, 7]  # heavier tails


# ------------------------------------------------------------------------------------------- frame ops

def test_blur_resize_keep_shape_range_and_flat_frames():
    frames = textured()
    out = blur(frames, isotropic_gaussian(7, np.full(4, 1.5)))
    assert out.shape == frames.shape and 0 <= out.min() and out.max() <= 1
    assert out.std() < frames.std()
    flat = torch.full((2, 3, 16, 16), 0.4)
    torch.testing.assert_close(blur(flat, sinc_kernel(21, np.array([1.5]))), flat)  # sums to 1, tiny frames ok
    for method in ("bilinear", "area", "bicubic"):
        small = resize_frames(frames, (13, 21), method)
        assert small.shape == (4, 3, 13, 21) and 0 <= small.min() and small.max() <= 1


def test_noise_strength_gray_and_seed():
    grey = torch.full((2, 3, 64, 64), 0.5)
    noisy = gaussian_noise(grey, np.array([10.0, 20.0]), False, torch.Generator().manual_seed(1))
    stds = (noisy - grey).std(dim=(1, 2, 3)) * 255
    assert abs(stds[0] - 10) < 0.6 and abs(stds[1] - 20) < 1.2  # per-frame sigma, in 8-bit units
    again = gaussian_noise(grey, np.array([10.0, 20.0]), False, torch.Generator().manual_seed(1))
    assert torch.equal(noisy, again)
    gray = gaussian_noise(grey, np.array([10.0, 10.0]), True, torch.Generator().manual_seed(1))
    assert torch.equal(gray[:, 0], gray[:, 1]) and not torch.equal(noisy[:, 0], noisy[:, 1])
    weak = poisson_noise(grey, np.array([0.2]), False, torch.Generator().manual_seed(2))
    strong = poisson_noise(grey, np.array([2.0]), False, torch.Generator().manual_seed(2))
    assert 5 * (weak - grey).std() < (strong - grey).std()


def test_jpeg_lower_quality_loses_more():
    frames = textured()
    errors = [(jpeg(frames, np.full(4, q)) - frames).abs().mean() for q in (95, 30)]
    assert errors[0] < errors[1]
    out = jpeg(frames, np.array([30, 50, 70, 95]))
    assert out.shape == frames.shape and torch.equal(out, (out * 255).round() / 255)


def test_codec_changes_frames_more_at_lower_bitrate_and_keeps_odd_sizes(sample_clip):
    frames = sample_frames(sample_clip, t=6, h=89, w=161)  # odd height and width
    for codec in ("libx264", "mpeg4"):  # bitrate is bits per frame here (fps 1)
        high = compress_video(frames, codec, 200_000)
        low = compress_video(frames, codec, 1_500)
        assert high.shape == low.shape == frames.shape
        err_high, err_low = (high - frames).abs().mean(), (low - frames).abs().mean()
        assert 0.002 < err_high < err_low, (codec, err_high, err_low)
        assert torch.equal(low, compress_video(frames, codec, 1_500))  # repeatable


# ----------------------------------------------------------------------------------------- parameters

def test_random_walk_drift_stays_in_bounds():
    rng = np.random.default_rng(0)
    fixed = random_walk(rng, [1.0, 5.0], 0.0, 10)
    assert np.all(fixed == fixed[0]) and 1 <= fixed[0] <= 5
    drift = random_walk(rng, [1.0, 5.0], 0.5, 200)
    assert len(np.unique(drift)) > 100 and drift.min() >= 1 and drift.max() <= 5
    assert np.abs(np.diff(drift)).max() <= 0.5


def test_sampling_is_seeded_and_final_size_exact():
    cfg = DegradationConfig()
    a = sample_degradation(np.random.default_rng(5), cfg, 7, (36, 44))
    b = sample_degradation(np.random.default_rng(5), cfg, 7, (36, 44))
    assert repr(a) == repr(b)
    assert a.final.resize.size == (9, 11)
    kinds = {sample_degradation(np.random.default_rng(s), cfg, 3, (64, 64)).stages[0].blur.kind for s in range(60)}
    assert {"iso", "aniso", "sinc"} <= kinds


def test_yaml_matches_dataclass_defaults_and_rejects_bad_values(repo_root):
    dove = load_config(DegradationConfig, [repo_root / "configs/degradation/realbasicvsr_dove.yaml"])
    assert dove == DegradationConfig()
    assert load_config(DegradationConfig, [repo_root / "configs/degradation/bicubic.yaml"]).mode == \
        DegradationMode.BICUBIC
    with pytest.raises(ConfigError, match="kernel_types"):
        load_config(DegradationConfig, [], ["final.sinc.kernel_types=[box]"])
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(DegradationConfig, [], ["final.blurr=1"])
    first_order = load_config(DegradationConfig, [], ["second.enabled=false", "first.noise.prob=0"])
    assert len(first_order.stages) == 1 and first_order.stages[0].noise.prob == 0


# ------------------------------------------------------------------------------------------- pipeline

@pytest.mark.parametrize("size", [(36, 44), (20, 28)])
def test_realworld_output_exact_size_range_and_determinism(size):
    video = textured(t=5, h=size[0], w=size[1]).transpose(0, 1)  # (3, T, H, W)
    cfg = DegradationConfig()
    for seed in range(3):
        out = degrade(video, cfg, np.random.default_rng(seed))
        assert out.shape == (3, 5, size[0] // 4, size[1] // 4)
        assert out.dtype == torch.float32 and 0 <= out.min() and out.max() <= 1
    assert torch.equal(degrade(video, cfg, np.random.default_rng(9)), degrade(video, cfg, np.random.default_rng(9)))
    batch = degrade(video[None].expand(2, -1, -1, -1, -1), cfg, np.random.default_rng(1))
    assert batch.shape == (2, 3, 5, size[0] // 4, size[1] // 4) and not torch.equal(batch[0], batch[1])


def test_parameters_are_shared_across_frames_static_video_stays_static():
    still = textured(t=1, h=32, w=32).expand(6, -1, -1, -1).transpose(0, 1)  # 6 identical frames
    quiet = StageConfig(noise=NoiseConfig(prob=0.0), jpeg=JpegConfig(quality_step=0.0), codec=CodecConfig(prob=0.0))
    base = DegradationConfig()
    cfg = replace(base, first=quiet, second=quiet, final=replace(base.final, codec=CodecConfig(prob=0.0)))
    for seed in range(4):
        out = degrade(still, cfg, np.random.default_rng(seed))
        assert all(torch.equal(out[:, 0], out[:, t]) for t in range(1, 6)), seed
    drifting = replace(cfg, first=replace(quiet, jpeg=JpegConfig(quality=[20, 90], quality_step=10.0)))
    out = degrade(still, drifting, np.random.default_rng(0))
    assert not all(torch.equal(out[:, 0], out[:, t]) for t in range(1, 6))


def test_bicubic_mode_and_bad_sizes():
    video = textured(t=2, h=32, w=48).transpose(0, 1)
    cfg = DegradationConfig(mode=DegradationMode.BICUBIC)
    out = degrade(video, cfg, np.random.default_rng(0))
    assert out.shape == (3, 2, 8, 12)
    torch.testing.assert_close(out.mean(), video.mean(), atol=0.01, rtol=0)
    with pytest.raises(InputError, match="not a multiple of the scale 4"):
        degrade(video[..., :30, :], cfg, np.random.default_rng(0))


# ----------------------------------------------------------------------------------- scripts/degrade.py

def test_degrade_script_end_to_end(sample_clip, repo_root, tmp_path, capsys):
    script = load_script("degrade")
    out = tmp_path / "lr.mp4"
    assert script.main(["--input", str(sample_clip), "--output", str(out), "--seed", "3", "--quiet",
                        "--chunk", "9", "--compare"]) == 0
    lr, info = read_video(out)
    hr, hr_info = read_video(sample_clip)
    assert lr.shape == (3, 17, 45, 80) and info.fps == hr_info.fps and info.has_audio
    compare, _ = read_video(tmp_path / "lr_compare.png")
    assert compare.shape == (3, 1, 3 * 180, 2 * 320)
    torch.testing.assert_close(compare[:, 0, :180, :320], hr[:, 0], atol=2 / 255, rtol=0)  # HR on the left
    assert "wrote" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:  # existing output -> one line, exit 2
        from fastvsr.cli import run_main
        run_main(script.main, ["--input", str(sample_clip), "--output", str(out), "--quiet"])
    assert exit_info.value.code == 2 and "already exists" in capsys.readouterr().err
    script.main(["--input", str(sample_clip), "--output", str(tmp_path / "bi.mp4"), "--mode", "bicubic", "--quiet"])
    assert read_video(tmp_path / "bi.mp4")[0].shape == (3, 17, 45, 80)
