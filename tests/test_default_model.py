"""The shipped default model (fastvsr/weights/default) and its training recipe (configs/default_model)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from einops import rearrange

from fastvsr.config import load_config
from fastvsr.data.degradations import DegradationConfig
from fastvsr.data.video import read_video
from fastvsr.metrics.fullref import psnr
from fastvsr.models import ModelConfig, VSRModel, build_model
from fastvsr.models.bundle import MODEL_FILE
from fastvsr.ops.resize import resize_video
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.loading import DEFAULT_MODEL_DIR, load_inference_model
from fastvsr.pipeline.upscale import upscale_video
from fastvsr.train.diffusion import DiffusionTrainConfig
from fastvsr.train.vae import VAETrainConfig

RECIPE = Path(__file__).resolve().parent.parent / "configs" / "default_model"
MAX_WEIGHT_BYTES = 30 * 2**20


def test_stage_configs_load_with_their_schemas() -> None:
    for name, schema in (("stage0_vae_f8", VAETrainConfig), ("stage1_vae_f16", VAETrainConfig),
                         ("stage2_f16", DiffusionTrainConfig), ("stage2_f8_twin", DiffusionTrainConfig)):
        cfg = load_config(schema, [RECIPE / f"{name}.yaml"])
        assert cfg.train.max_steps > 0
    twin = load_config(DiffusionTrainConfig, [RECIPE / "stage2_f8_twin.yaml"])
    assert twin.model.decoder.kind.value == "vae" and twin.train.max_steps == load_config(
        DiffusionTrainConfig, [RECIPE / "stage2_f16.yaml"]).train.max_steps
    realworld = load_config(DegradationConfig, [RECIPE / "degradation_realworld_mild.yaml"])
    assert realworld.scale == 4 and not realworld.second.enabled


def test_model_and_twin_share_encoder_and_denoiser_and_fit_the_size_budget() -> None:
    f16 = build_model(load_config(ModelConfig, [RECIPE / "model.yaml"]))
    f8 = build_model(load_config(ModelConfig, [RECIPE / "model_f8.yaml"]))
    assert f16.decoder.spatial_factor == 16 and f8.decoder.spatial_factor == 8
    assert (f16.input_upscale(4), f8.input_upscale(4)) == (2, 4)
    assert f16.vae.config == f8.vae.config and f16.denoiser.config == f8.denoiser.config
    weights = sum(p.numel() * p.element_size() for m in (f16.vae, f16.decoder, f16.denoiser) for p in m.parameters())
    assert weights <= MAX_WEIGHT_BYTES


SHIPPED = pytest.mark.skipif(not (DEFAULT_MODEL_DIR / MODEL_FILE).is_file(), reason="no shipped model in fastvsr/weights")


def _frame_psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean per-frame RGB PSNR of two ``(1, 3, T, H, W)`` videos in ``[0, 1]``."""
    return psnr(*(rearrange(v[0], "c t h w -> t c h w") for v in (a, b))).mean().item()


def _restore_x4(hr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Shipped model and bicubic x4 of the antialiased bicubic x4 downscale of ``hr`` ``(1, 3, T, H, W)``."""
    cfg = InferConfig(scale=4, device="cpu", chunk_frames=hr.shape[2], chunk_overlap=0, tile=0)
    model = load_inference_model(None, cfg)
    assert isinstance(model, VSRModel) and model.decoder.spatial_factor == 16
    lr = resize_video(hr, (hr.shape[-2] // 4, hr.shape[-1] // 4), mode="bicubic", antialias=True)
    with torch.no_grad():
        sr = upscale_video(model, lr, cfg)
    return sr, resize_video(lr, tuple(hr.shape[-2:]), mode="bicubic")


@SHIPPED
def test_shipped_model_restores_the_sample_clip_x4(sample_clip: Path) -> None:
    torch.manual_seed(0)
    frames, _ = read_video(sample_clip, num_frames=3)
    hr = frames[None, :, :, 40:104, 96:224]  # a 64x128 window of the real clip as ground truth
    sr, _ = _restore_x4(hr)
    assert sr.shape == (1, 3, 3, 64, 128)
    assert torch.isfinite(sr).all() and sr.min() >= 0 and sr.max() <= 1
    assert _frame_psnr(sr, hr) > _frame_psnr(torch.full_like(hr, 0.5), hr) + 8  # a picture, not a flat guess


@SHIPPED
def test_shipped_model_beats_bicubic_on_a_held_out_clip(repo_root: Path) -> None:
    """carphone is never trained on (configs/default_model/recipe.yaml): x4 of its bicubic x4 downscale must be
    clearly closer to the original than bicubic upscaling (docs/default_model.md reports the full numbers)."""
    torch.manual_seed(0)
    frames, _ = read_video(repo_root / "tests/data/carphone_176x144_9f.mp4", num_frames=5)
    hr = frames[None, :, :, :, 8:168]  # 144x160: x4 LR 36x40
    sr, bicubic = _restore_x4(hr)
    assert _frame_psnr(sr, hr) > _frame_psnr(bicubic, hr) + 0.9  # measured: +1.17 dB


@SHIPPED
def test_shipped_model_beats_bicubic_on_real_world_lr_through_the_cli(repo_root: Path, tmp_path: Path) -> None:
    """What a user does: degrade the held-out carphone clip with the mild real-world chain (blur, noise, JPEG,
    H.264; seeded), upscale the LR frames with ``scripts/infer.py`` and compare with bicubic upscaling of the
    same LR frames (lossless PNG folders throughout, so only the model is measured)."""
    import subprocess
    import sys

    hr_path = repo_root / "tests/data/carphone_176x144_9f.mp4"
    lr_dir, sr_dir = tmp_path / "lr", tmp_path / "sr"
    for script, args in (("degrade.py", ["--input", str(hr_path), "--output", str(lr_dir), "--seed", "0", "--config",
                                         str(RECIPE / "degradation_realworld_mild.yaml")]),
                         ("infer.py", ["--input", str(lr_dir), "--output", str(sr_dir), "--device", "cpu"])):
        subprocess.run([sys.executable, str(repo_root / "scripts" / script), *args, "--quiet"], check=True,
                       cwd=tmp_path, capture_output=True)
    hr, lr, sr = (read_video(p)[0][None] for p in (hr_path, lr_dir, sr_dir))
    assert lr.shape[-2:] == (36, 44) and sr.shape == hr.shape
    bicubic = resize_video(lr, tuple(hr.shape[-2:]), mode="bicubic").clamp(0, 1)
    assert _frame_psnr(sr, hr) > _frame_psnr(bicubic, hr) + 0.8  # measured: +1.10 dB


def test_shared_twin_keeps_encoder_and_denoiser_and_swaps_in_the_f8_decoder(repo_root: Path, tmp_path: Path) -> None:
    from fastvsr.recipes.default_model import write_shared_twin

    f16_dir, twin_dir = tmp_path / "f16", tmp_path / "twin"
    build_model(load_config(ModelConfig, [repo_root / "configs/models/fastvsr_tiny.yaml"])).save_pretrained(f16_dir)
    write_shared_twin(f16_dir, twin_dir)
    f16, twin = VSRModel.from_pretrained(f16_dir), VSRModel.from_pretrained(twin_dir)
    assert twin.f16_decoder is None and twin.decoder.spatial_factor == 8 and twin.input_upscale(4) == 4
    for part in ("vae", "denoiser"):
        for (name, a), (_, b) in zip(getattr(f16, part).state_dict().items(),
                                     getattr(twin, part).state_dict().items(), strict=True):
            assert torch.equal(a, b), f"{part}.{name}"


FINGERPRINT_SIZE = 8  # random projections of an output
FINGERPRINT_TOLERANCE = 2e-5  # float rounding between CPU instruction sets moves them by about 1e-6


def test_fingerprint_sees_one_uint8_level_on_a_small_patch() -> None:
    video = torch.rand(1, 3, 5, 576, 704, generator=torch.Generator().manual_seed(1))
    changed = video.clone()
    changed[..., 100:116, 200:216] += 1 / 255
    moved = max(abs(a - b) for a, b in zip(_fingerprint(video), _fingerprint(changed)))
    assert moved > 2 * FINGERPRINT_TOLERANCE


def _fingerprint(video: torch.Tensor) -> list[float]:
    """``FINGERPRINT_SIZE`` fixed random projections (unit variance per value) of float32 frames
    ``(1, 3, T, H, W)`` in ``[0, 1]``, divided by sqrt(N): a change of any region of the output moves them
    far more than float rounding does. (A digest of the uint8 frames is not portable: oneDNN picks its
    kernels by instruction set, and a rounding difference of 1e-7 flips a few uint8 values.)"""
    flat = video.double().flatten()
    weights = torch.randn(FINGERPRINT_SIZE, flat.numel(), generator=torch.Generator().manual_seed(0),
                          dtype=torch.float64)
    return (weights @ flat / flat.numel() ** 0.5).tolist()


PINNED_OUTPUTS = {  # clip, frames, (rows, cols) window, InferConfig overrides -> fingerprint of the x4 output
    "carphone_whole": ("carphone_176x144_9f.mp4", 5, (slice(None), slice(None)), {},
                       [0.489678, -0.62339, 0.629557, -0.142665, -0.230999, -0.396632, 0.317666, -0.129559]),
    "bbb_tiled_chunked": ("bbb_320x180_17f.mp4", 5, (slice(40, 120), slice(64, 224)),
                          {"tile": 16, "tile_overlap": 8, "chunk_frames": 3, "chunk_overlap": 1},
                          [0.597139, 0.522489, -0.390657, -0.032557, 0.740746, 0.794279, 0.311341, -0.847428]),
}


@SHIPPED
@pytest.mark.parametrize("case", sorted(PINNED_OUTPUTS))
def test_shipped_model_output_is_pinned(repo_root: Path, case: str) -> None:
    """The shipped model's pipeline output on the test clips, up to float rounding: a refactor of the model, its
    loading or the pipeline must not change it (whole-clip and tile/chunk paths). Retraining the model changes
    these fingerprints on purpose (print them with this test's body)."""
    name, frames, (rows, cols), overrides, expected = PINNED_OUTPUTS[case]
    cfg = InferConfig(device="cpu", **overrides)
    video, _ = read_video(repo_root / "tests" / "data" / name, num_frames=frames)
    with torch.no_grad():
        sr = upscale_video(load_inference_model(None, cfg), video[None, :, :, rows, cols], cfg)
    assert _fingerprint(sr) == pytest.approx(expected, abs=FINGERPRINT_TOLERANCE)
