"""Stage 2 on the real sample clip: latent then pixel phase, the exported VSRModel restores exactly like the
training forward, and the pixel phase runs with a perceptual term."""

import pytest
import torch

from fastvsr.errors import ConfigError
from fastvsr.models import VSRModel
from fastvsr.train.diffusion import DiffusionTrainConfig, restore_lq, train_diffusion
from tests.train_helpers import _one_thread_fresh_accelerator, mean, tiny_config, train_scalars  # noqa: F401


def test_latent_then_pixel_phase_and_export_matches_training_forward(sample_clip, tmp_path):
    cfg = tiny_config(DiffusionTrainConfig, "diffusion_tiny", sample_clip, tmp_path, "train.max_steps=12", "allow_random_vae=true",
                      "latent_steps=8", "optim.lr=5e-3")
    summary = train_diffusion(cfg)
    phase = [v for _, v in train_scalars(tmp_path, "train/phase")]
    assert phase == [0.0] * 8 + [1.0] * 4
    latent = [v for _, v in train_scalars(tmp_path, "train/latent_mse")]
    assert len(latent) == 8 and mean(latent[-3:]) < mean(latent[:3])
    assert [s for s, _ in train_scalars(tmp_path, "train/rec/frame_diff")] == [9, 10, 11, 12]
    assert summary["step"] == 12 and "psnr" in summary["validation"]

    model = VSRModel.from_pretrained(tmp_path / "export")
    assert model.kind == "fastvsr" and model.input_upscale(4) == 2
    lq = torch.rand(1, 3, 5, 8, 8)
    with torch.no_grad():
        trained_path = model.decode(restore_lq(model, model.denoiser, lq, scale=4))
        inference_path = model(lq, 4)
    assert trained_path.shape == (1, 3, 5, 32, 32)
    assert torch.equal(trained_path, inference_path)  # training supervises exactly the inference forward


def test_pixel_phase_with_random_lpips(sample_clip, tmp_path):
    cfg = tiny_config(DiffusionTrainConfig, "diffusion_tiny", sample_clip, tmp_path, "train.max_steps=2", "allow_random_vae=true",
                      "latent_steps=0", "loss.perceptual=lpips", "loss.perceptual_weights=random",
                      "train.validate_at_start=false", "train.gradient_checkpointing=true", "train.precision=bf16")
    train_diffusion(cfg)
    lpips = train_scalars(tmp_path, "train/rec/lpips")
    assert [s for s, _ in lpips] == [1, 2] and all(v > 0 for _, v in lpips)


@pytest.mark.parametrize("overrides, missing", [
    ([], "model.vae.pretrained is not set"),
    (["model.vae.pretrained=some/vae"], "model.decoder.pretrained is not set"),
])
def test_stage2_on_a_random_autoencoder_is_refused_unless_asked(overrides, missing, sample_clip, tmp_path):
    with pytest.raises(ConfigError, match=missing):
        tiny_config(DiffusionTrainConfig, "diffusion_tiny", sample_clip, tmp_path, *overrides)
    cfg = tiny_config(DiffusionTrainConfig, "diffusion_tiny", sample_clip, tmp_path, *overrides, "allow_random_vae=true")
    assert cfg.allow_random_vae


def test_stage2_f8_baseline_needs_only_the_vae(sample_clip, tmp_path):
    cfg = tiny_config(DiffusionTrainConfig, "diffusion_tiny", sample_clip, tmp_path, "model.vae.pretrained=some/vae",
                      "model.decoder.kind=vae")
    assert cfg.model.decoder.pretrained is None
