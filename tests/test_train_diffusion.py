"""Stage 2 on the real sample clip: latent then pixel phase, the exported VSRModel restores exactly like the
training forward, and the pixel phase runs with a perceptual term."""

import pytest
import torch

from fastvsr.errors import ConfigError
from fastvsr.models import VSRModel
from fastvsr.train.diffusion import DenoiserAndDecoder, DiffusionTrainConfig, restore_lq, train_diffusion
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
        trained_path = model.decode(restore_lq(model, model.denoiser, lq, scale=4)[0])
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


def test_joint_stage2_fine_tunes_the_decoder_with_the_denoiser(sample_clip, tmp_path):
    """``train_decoder``: the f16 decoder trains with the denoiser (the frozen run keeps it as built), and the
    export restores exactly like the joint training forward."""
    args = ("train.max_steps=3", "allow_random_vae=true", "latent_steps=0", "optim.lr=5e-3",
            "train.validate_at_start=false")
    frozen = tiny_config(DiffusionTrainConfig, "diffusion_tiny", sample_clip, tmp_path / "frozen", *args)
    joint = tiny_config(DiffusionTrainConfig, "diffusion_tiny", sample_clip, tmp_path / "joint", *args,
                        "train_decoder=true")
    train_diffusion(frozen)
    train_diffusion(joint)
    kept = VSRModel.from_pretrained(tmp_path / "frozen" / "export")
    tuned = VSRModel.from_pretrained(tmp_path / "joint" / "export")
    kept_dec, tuned_dec = kept.f16_decoder.state_dict(), tuned.f16_decoder.state_dict()
    assert kept_dec.keys() == tuned_dec.keys()
    assert any(not torch.equal(kept_dec[k], tuned_dec[k]) for k in kept_dec)
    torch.testing.assert_close(kept.vae.state_dict(), tuned.vae.state_dict(), atol=0, rtol=0)  # still frozen

    lq = torch.rand(1, 3, 5, 8, 8)
    with torch.no_grad():
        _, video = restore_lq(tuned, DenoiserAndDecoder(tuned), lq, scale=4, joint=True)
        assert torch.equal(video.clamp(0, 1), tuned(lq, 4))


@pytest.mark.parametrize("overrides, message", [(["latent_steps=10"], "latent_steps: 0"),
                                                (["latent_steps=0", "model.decoder.kind=vae"], "decoder.kind: f16")])
def test_joint_stage2_config_errors(overrides, message, sample_clip, tmp_path):
    with pytest.raises(ConfigError, match=message):
        tiny_config(DiffusionTrainConfig, "diffusion_tiny", sample_clip, tmp_path, "allow_random_vae=true",
                    "train_decoder=true", *overrides)
