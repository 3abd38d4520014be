"""TurboVSR's 32x32x8 autoencoders: our patchified causal VAE and the LTX-Video adapter (tiny, saved to tmp)."""

from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderKLLTXVideo

from fastvsr.config import load_config
from fastvsr.errors import ConfigError, InputError, WeightsMissingError
from fastvsr.models import build_model
from fastvsr.models.vae import LTXVideoVAE, PatchifiedVAE, VAEConfig, build_vae, load_vae
from fastvsr.ops.pixel import pixel_shuffle_frames, pixel_unshuffle_frames
from fastvsr.train.turbo import TurboTrainConfig

CONFIGS = Path(__file__).parent.parent / "configs" / "turbovsr"
TINY = VAEConfig(kind="patchified", block_out_channels=(4, 4, 8, 8), layers_per_block=1, latent_channels=6,
                 temporal_factor=8, patch_size=4, norm_num_groups=2, scaling_factor=2.0, shift_factor=0.1)
TINY_LTX = dict(latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1), scaling_factor=0.5)


@pytest.fixture(scope="module")
def ae() -> PatchifiedVAE:
    torch.manual_seed(0)
    return build_vae(TINY).eval()


def test_the_patchify_is_space_to_depth_and_the_encoder_reads_it(ae):
    x = torch.arange(2 * 3 * 1 * 8 * 8, dtype=torch.float32).reshape(2, 3, 1, 8, 8)
    p = pixel_unshuffle_frames(x, 4)
    assert p.shape == (2, 48, 1, 2, 2)
    assert torch.equal(p[0, :16, 0, 0, 0], x[0, 0, 0, :4, :4].flatten())  # channel 0's top-left 4x4 patch
    assert torch.equal(pixel_shuffle_frames(p, 4), x)
    assert ae.encoder.conv_in.in_channels == 48


@pytest.mark.parametrize("frames", [1, 9, 17])
def test_round_trip_shapes_for_8k_plus_1_frames(ae, frames):
    assert (ae.spatial_factor, ae.temporal_factor, ae.frame_multiple, ae.latent_channels) == (32, 8, 8, 6)
    video = torch.rand(1, 3, frames, 64, 96)
    with torch.no_grad():
        z = ae.encode(video)
        out = ae.decode(z)
    assert z.shape == (1, 6, (frames - 1) // 8 + 1, 2, 3)
    assert out.shape == video.shape and 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize("frames", [2, 8, 10, 16])
def test_other_frame_counts_are_one_line_input_errors(ae, frames):
    with pytest.raises(InputError) as err:
        ae.encode(torch.rand(1, 3, frames, 32, 32))
    assert "\n" not in str(err.value) and f"frame count {frames} must be k*8+1" in str(err.value)


def test_sizes_not_multiple_of_32_are_rejected(ae):
    with pytest.raises(InputError, match="multiple of 32"):
        ae.encode(torch.rand(1, 3, 9, 48, 64))


def test_first_frame_latent_is_causal(ae):
    """Latent frame 0 depends on pixel frame 0 only: image SR of frame 1 is the first factorised task."""
    video = torch.rand(1, 3, 9, 32, 32)
    changed = video.clone()
    changed[:, :, 1:] = torch.rand_like(changed[:, :, 1:])
    with torch.no_grad():
        z, z_changed, z_image = ae.encode(video), ae.encode(changed), ae.encode(video[:, :, :1])
    assert torch.allclose(z[:, :, :1], z_changed[:, :, :1], atol=1e-6)
    assert torch.allclose(z[:, :, :1], z_image, atol=1e-6)
    assert not torch.allclose(z[:, :, 1:], z_changed[:, :, 1:], atol=1e-3)


def test_save_load_round_trip(ae, tmp_path):
    ae.save_pretrained(tmp_path / "ae")
    loaded = load_vae("patchified", tmp_path / "ae").eval()
    assert isinstance(loaded, PatchifiedVAE) and loaded.config.patch_size == 4
    video = torch.rand(1, 3, 9, 32, 64)
    with torch.no_grad():
        assert torch.equal(loaded.encode(video), ae.encode(video))
    with pytest.raises(WeightsMissingError, match="missing config.json"):
        load_vae("patchified", tmp_path)


def test_paper_configs_have_the_ltx_video_geometry():
    cfg = load_config(TurboTrainConfig, [CONFIGS / "flow_paper.yaml"], ["allow_random_vae=true"])  # geometry only
    assert cfg.model.vae.spatial_factor == 32 and cfg.model.vae.latent_channels == 128
    model = build_model(cfg.model, device="meta")
    assert (model.vae.spatial_factor, model.vae.temporal_factor, model.vae.latent_channels) == (32, 8, 128)
    assert model.vae.encoder.conv_in.in_channels == 48  # 3 x 4 x 4 patch channels
    assert model.denoiser.config.in_channels == 128 + 129  # z_t + LR latent + first-frame mask
    assert model.frame_multiple == 8 and model.pixel_multiple == 32
    ltx = load_config(TurboTrainConfig, [CONFIGS / "flow_paper_ltx.yaml"])
    assert ltx.model.vae.kind == "ltx" and ltx.model.vae.pretrained
    shortcut = load_config(TurboTrainConfig, [CONFIGS / "shortcut_paper.yaml"])
    assert shortcut.stage == "shortcut" and shortcut.shortcut.finest_steps == 128


def test_config_errors_are_one_line():
    with pytest.raises(ConfigError, match="vae.kind=ltx needs vae.pretrained"):
        load_config(TurboTrainConfig, [CONFIGS / "flow_tiny.yaml"], ["model.vae.kind=ltx"])
    with pytest.raises(ConfigError, match="key 'model.ae' moved: the autoencoder is model.vae"):
        load_config(TurboTrainConfig, [CONFIGS / "flow_tiny.yaml"], ["model.ae.kind=ltx"])
    with pytest.raises(ConfigError, match="key 'ae_weights' moved: a local AE folder is model.vae.pretrained"):
        load_config(TurboTrainConfig, [CONFIGS / "flow_tiny.yaml"], ["ae_weights=x"])
    with pytest.raises(ConfigError, match="data.num_frames must be k\\*8\\+1"):
        load_config(TurboTrainConfig, [CONFIGS / "flow_tiny.yaml"], ["data.num_frames=8", "allow_random_vae=true"])
    with pytest.raises(ConfigError, match="init_from"):
        load_config(TurboTrainConfig, [CONFIGS / "flow_tiny.yaml"], ["stage=shortcut", "allow_random_vae=true"])
    with pytest.raises(ConfigError, match="batch_size >= 2"):
        load_config(TurboTrainConfig, [CONFIGS / "shortcut_tiny.yaml"], ["train.batch_size=1"])


@pytest.fixture(scope="module")
def ltx_folder(tmp_path_factory) -> Path:
    """A tiny diffusers LTX-Video VAE with non-trivial latent statistics, saved like a real checkpoint."""
    torch.manual_seed(1)
    ref = AutoencoderKLLTXVideo(**TINY_LTX).eval()
    ref.latents_mean.copy_(torch.randn(8) * 0.1)
    ref.latents_std.copy_(torch.rand(8) + 0.5)
    folder = tmp_path_factory.mktemp("ltx") / "vae"
    ref.save_pretrained(folder)
    return folder


def test_ltx_adapter_matches_diffusers_and_normalises_latents(ltx_folder):
    ref = AutoencoderKLLTXVideo.from_pretrained(ltx_folder).eval()
    vae = load_vae("ltx", ltx_folder).eval()
    assert isinstance(vae, LTXVideoVAE)
    assert (vae.spatial_factor, vae.temporal_factor, vae.frame_multiple, vae.latent_channels) == (32, 8, 8, 8)
    video = torch.rand(1, 3, 9, 64, 32)
    mean, std = ref.latents_mean.view(1, -1, 1, 1, 1), ref.latents_std.view(1, -1, 1, 1, 1)
    with torch.no_grad():
        z = vae.encode(video)
        z_raw = ref.encode(video * 2 - 1).latent_dist.mode()
        torch.testing.assert_close(z, (z_raw - mean) * 0.5 / std)
        out = vae.decode(z)
        expected = ((ref.decode(z_raw).sample + 1) / 2).clamp(0, 1)
    assert z.shape == (1, 8, 2, 2, 1)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(InputError, match="k\\*8\\+1"):
        vae.encode(torch.rand(1, 3, 4, 32, 32))


def test_ltx_kind_builds_from_a_local_folder_only(ltx_folder, tmp_path):
    cfg = VAEConfig(kind="ltx", pretrained=str(ltx_folder))
    assert isinstance(build_vae(cfg), LTXVideoVAE)
    with pytest.raises(WeightsMissingError, match="does not exist"):
        build_vae(VAEConfig(kind="ltx", pretrained=str(tmp_path / "nowhere")))
