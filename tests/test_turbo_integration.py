"""TurboVSR in the shared tools: the benchmark's TurboVSR rows (tokens, 1 and 4 steps, the LTX-Video DiT
adapter) and stage 0 of TurboVSR (the 32x32x8 AE) trained by scripts/train_vae.py's VAE trainer."""

import pytest
import torch

from fastvsr.bench.config import BenchConfig
from fastvsr.bench.run import count_variants
from fastvsr.config import load_config
from fastvsr.errors import ConfigError
from fastvsr.models.denoisers import LTXDiTConfig, LTXDiTDenoiser
from fastvsr.models.vae import PatchifiedVAE, VAEConfig, build_vae, load_vae
from fastvsr.ops.pad import pad_to_multiple
from fastvsr.train.vae import VAETrainConfig, train_vae
from tests.train_helpers import _one_thread_fresh_accelerator, tiny_config, train_scalars  # noqa: F401

TINY_BENCH = "configs/bench/tiny.yaml"
TINY_DIT = ("kind: ltx_dit, ltx: {num_layers: 1, num_attention_heads: 2, attention_head_dim: 8, "
            "caption_channels: 16}")


def _turbo_rows(*overrides: str) -> dict:
    cfg = load_config(BenchConfig, [TINY_BENCH], list(overrides))
    cfg.models = {name: model for name, model in cfg.models.items() if name.startswith("turbovsr")}
    return count_variants(cfg)


def test_bench_turbovsr_rows_count_tokens_and_steps():
    rows = _turbo_rows()
    one, four = rows["turbovsr"], rows["turbovsr_4step"]
    # 2 x 9 frames of 32x32 -> x4 = 128x128 pixels -> 32x32x8 latent 8 x 2 x 4 x 4, one UNet position per cell
    assert one.encoder_input == (9, 128, 128) and one.latent == (8, 2, 4, 4) and one.tokens == 2 * 4 * 4
    assert one.label == "x4 upscale, f32 decode, 1 step per pass (first frame, then clip)"
    assert four.label.endswith("4 steps per pass (first frame, then clip)")
    assert one.output == (9, 128, 128)
    assert four.macs["denoise"].total == pytest.approx(4 * one.macs["denoise"].total, rel=1e-6)
    assert four.macs["encode"] == one.macs["encode"] and four.macs["decode"] == one.macs["decode"]


def test_bench_turbovsr_with_ltx_dit_counts_attention():
    rows = _turbo_rows(*(f"models.{name}.denoiser={{{TINY_DIT}}}" for name in ("turbovsr", "turbovsr_4step")))
    one = rows["turbovsr"]
    denoise = one.macs["denoise"]
    assert one.tokens == 32 and denoise.attention > 0 and denoise.total > denoise.attention
    assert rows["turbovsr_4step"].macs["denoise"].total == pytest.approx(4 * denoise.total, rel=1e-6)


def test_ltx_dit_adapter_maps_latents_to_latents():
    torch.manual_seed(0)
    dit = LTXDiTDenoiser.from_config(LTXDiTConfig(num_layers=1, num_attention_heads=2, attention_head_dim=8,
                                                  caption_channels=16), latent_channels=4, cond_channels=5)
    z, cond = torch.randn(2, 4, 2, 3, 5), torch.randn(2, 5, 2, 3, 5)
    out = dit(z, torch.tensor([500.0, 10.0]), cond)
    assert out.shape == z.shape and torch.isfinite(out).all()
    changed = cond.clone()
    changed[:, :, 1, 2, 4] += 1.0  # one latent cell of the condition reaches the prediction
    assert not torch.allclose(dit(z, torch.tensor([500.0, 10.0]), changed), out)
    with pytest.raises(ValueError, match="cond"):
        dit(z, torch.tensor([1.0, 1.0]))


def test_vae_config_builds_the_patchified_ae():
    vae = build_vae(VAEConfig(kind="patchified", block_out_channels=(8, 8, 16, 16), latent_channels=8,
                              temporal_factor=8, norm_num_groups=4, patch_size=4))
    assert isinstance(vae, PatchifiedVAE) and vae.spatial_factor == 32 and vae.temporal_factor == 8
    assert VAEConfig(kind="patchified", patch_size=4).spatial_factor == 32
    with pytest.raises(ConfigError, match="patch_size"):
        load_config(VAEConfig, [], ["patch_size=4"])  # only for kind=patchified


def test_train_vae_trains_the_turbovsr_ae(tmp_path, sample_clip):
    cfg = tiny_config(VAETrainConfig, "../turbovsr/ae_tiny", sample_clip, tmp_path, "train.max_steps=8")
    summary = train_vae(cfg)
    assert len(train_scalars(tmp_path, "train/total")) == 8
    (_, psnr0), (_, psnr8) = train_scalars(tmp_path, "val/psnr")  # held-out reconstruction before / after
    assert psnr8 > psnr0 + 1.0 and summary["step"] == 8
    ae = load_vae("patchified", tmp_path / "export")
    assert isinstance(ae, PatchifiedVAE)
    clip = torch.rand(1, 3, 9, 64, 64)
    z = ae.encode(clip)
    assert z.shape == (1, 8, 2, 2, 2) and ae.decode(z).shape == clip.shape


def _tiny_turbo_model():
    from fastvsr.models import ModelConfig, build_model

    cfg = load_config(ModelConfig, ["configs/models/turbovsr_tiny.yaml"], [
        "vae={block_out_channels: [8, 8, 8, 8], latent_channels: 4, norm_num_groups: 4, scaling_factor: 4.0}",
        "denoiser.unet={block_out_channels: [8, 16], norm_num_groups: 4}", "sampler.steps=1"])
    torch.manual_seed(0)
    return build_model(cfg).eval()


def test_chain_first_frame_restores_each_chunk_given_the_previous_chunks_frame():
    from fastvsr.pipeline.config import InferConfig
    from fastvsr.pipeline.upscale import upscale_video

    model = _tiny_turbo_model()
    video = torch.rand(1, 3, 17, 16, 16)
    settings = ["scale=2", "chunk_frames=9", "chunk_overlap=1", "tile=0", "device=cpu"]
    chained_cfg = load_config(InferConfig, [], [*settings, "chain_first_frame=true"])
    seen = []
    restore = model.restore

    def recording_restore(z, steps=None, context=None):
        seen.append(context.z_first)
        return restore(z, steps, context)

    first_chunk = upscale_video(model, video[:, :, :9], load_config(InferConfig, [], settings))
    model.restore = recording_restore
    chained = upscale_video(model, video, chained_cfg)
    assert seen[0] is None and seen[1].shape == (1, 4, 1, 2, 2)  # chunks [0, 9) and [8, 17), 32 px padded to 64
    # chunk 2 is given the latent of chunk 1's last SR frame (frame 8), padded as the encoder input is
    frame8 = pad_to_multiple(first_chunk[:, :, 8:9], model.pixel_multiple)[0]
    assert torch.allclose(seen[1], model.encode(frame8), atol=1e-5)
    assert torch.allclose(chained[:, :, :8], first_chunk[:, :, :8], atol=1e-6)
    model.restore = restore
    independent = upscale_video(model, video, load_config(InferConfig, [], settings))
    assert chained.shape == independent.shape == (1, 3, 17, 32, 32)
    assert not torch.allclose(chained[:, :, 9:], independent[:, :, 9:])


def test_chain_first_frame_needs_overlap_and_a_model_that_conditions_on_the_first_frame():
    from fastvsr.models.kinds.fastvsr import FastVSRModel
    from fastvsr.pipeline.config import InferConfig
    from fastvsr.pipeline.upscale import upscale_video

    with pytest.raises(ConfigError, match="chunk_overlap >= 1"):
        load_config(InferConfig, [], ["chain_first_frame=true", "chunk_overlap=0"])
    turbo = _tiny_turbo_model()
    plain = FastVSRModel(turbo.vae, turbo.denoiser, None, turbo.sampler)
    cfg = load_config(InferConfig, [], ["chain_first_frame=true", "scale=2", "tile=0", "device=cpu"])
    with pytest.raises(ConfigError, match="conditions on the first frame"):
        upscale_video(plain, torch.rand(1, 3, 9, 16, 16), cfg)
