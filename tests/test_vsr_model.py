"""VSRModel: the contract's size relations, restore == restore_latent, folder round trip, a real clip end to end."""

import json

import pytest
import torch
import torch.nn.functional as F

from fastvsr.atomic import MANIFEST
from fastvsr.config import load_config
from fastvsr.data.video import read_video
from fastvsr.diffusion import restore_latent
from fastvsr.errors import ConfigError, InputError, WeightsMissingError
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.vsr import VSRModel, VSRModelConfig, build_vsr_model


@pytest.fixture(scope="module")
def tiny(request) -> VSRModel:
    cfg = load_config(VSRModelConfig, [request.config.rootpath / "configs/models/fastvsr_tiny.yaml"])
    torch.manual_seed(0)
    return build_vsr_model(cfg).eval()


def test_size_relations(tiny, repo_root):
    assert tiny.kind == "fastvsr_f16" and isinstance(tiny.decoder, F16Decoder)
    assert tiny.decoder.spatial_factor == 16 and tiny.vae.spatial_factor == 8
    assert tiny.input_upscale(4) == 2 and tiny.input_upscale(2) == 1
    assert tiny.pixel_multiple == 8 * tiny.denoiser.latent_multiple == 16 and tiny.frame_multiple == 4
    baseline = build_vsr_model(load_config(VSRModelConfig, [repo_root / "configs/models/fastvsr_tiny_f8.yaml"]))
    assert baseline.kind == "baseline_f8" and baseline.decoder is baseline.vae and baseline.input_upscale(4) == 4
    with pytest.raises(InputError, match="multiple of 16"):
        tiny.encode(torch.rand(1, 3, 5, 24, 32))
    with pytest.raises(ConfigError, match="decoder"):
        load_config(VSRModelConfig, overrides=["decoder=f32"])


def test_restore_is_restore_latent(tiny):
    z = torch.randn(2, 4, 3, 4, 6)
    with torch.no_grad():
        out = tiny.restore(z)
        ref = restore_latent(tiny.denoiser, z, schedule=tiny.schedule, steps=1, t_star=399)
        assert torch.equal(out, ref) and out.shape == z.shape
        assert not torch.allclose(tiny.restore(z, steps=2), out)  # steps is honoured


def _clip(sample_clip, frames=5, size=(64, 96)) -> torch.Tensor:
    """First ``frames`` frames of the real sample clip, area-downscaled then cropped: (1, 3, T, H, W) in [0, 1]."""
    video, _ = read_video(sample_clip, num_frames=frames)  # (3, T, 180, 320)
    video = F.interpolate(video, scale_factor=0.5, mode="area")  # (3, T, 90, 160)
    return video[None, :, :, : size[0], : size[1]].contiguous()


def test_end_to_end_real_clip_doubles_encoder_resolution(tiny, sample_clip):
    video = _clip(sample_clip)
    with torch.no_grad():
        z = tiny.encode(video)
        assert z.shape == (1, 4, 2, 8, 12)
        z_hat = tiny.restore(z)
        sr = tiny.decode(z_hat)
    assert sr.shape == (1, 3, 5, 128, 192)  # 2x the encoder input, as FastVSR's f16 decoder does
    assert sr.min() >= 0 and sr.max() <= 1 and torch.isfinite(sr).all()
    assert not torch.equal(z_hat, z)
    with torch.no_grad():
        assert torch.equal(tiny(video), sr)


def test_save_load_round_trip_is_bit_exact(tiny, tmp_path, sample_clip):
    folder = tmp_path / "model"
    tiny.save_pretrained(folder)
    meta = json.loads((folder / "fastvsr_model.json").read_text())
    assert meta["kind"] == "fastvsr_f16" and meta["denoiser_kind"] == "unet" and meta["sampler"]["t_star"] == 399
    assert {p.name for p in folder.iterdir()} == {"vae", "decoder", "denoiser", "fastvsr_model.json",
                                                 MANIFEST}
    loaded = VSRModel.from_pretrained(folder).eval()
    ref, new = tiny.state_dict(), loaded.state_dict()
    assert ref.keys() == new.keys() and all(torch.equal(ref[k], new[k]) for k in ref)
    assert loaded.sampler == tiny.sampler and loaded.kind == tiny.kind
    video = _clip(sample_clip)
    with torch.no_grad():
        assert torch.allclose(loaded(video), tiny(video), atol=1e-5, rtol=0)


@pytest.mark.parametrize("missing", ["fastvsr_model.json", "denoiser/diffusion_pytorch_model.safetensors",
                                     "decoder/config.json", "vae/diffusion_pytorch_model.safetensors"])
def test_missing_files_raise_one_line_errors(tiny, tmp_path, missing):
    folder = tmp_path / "model"
    tiny.save_pretrained(folder)
    (folder / missing).unlink()
    with pytest.raises(WeightsMissingError) as err:
        VSRModel.from_pretrained(folder)
    message = str(err.value)
    assert "\n" not in message and missing.split("/")[-1] in message and str(folder) in message


def test_dove_style_bundle_tiny(tmp_path, sample_clip):
    """The paper path at toy size: CogVideoX VAE + CogVideoX DiT (odd latent frames padded) + f16 decoder."""
    overrides = ["vae.kind=cogvideox", "vae.block_out_channels=[16,16,16,16]", "vae.norm_num_groups=4",
                 "vae.latent_channels=4", "vae.scaling_factor=0.7", "denoiser.kind=cogvideox_dit",
                 "denoiser.dit.num_attention_heads=2", "denoiser.dit.attention_head_dim=16",
                 "denoiser.dit.num_layers=1",
                 "denoiser.dit.time_embed_dim=8", "denoiser.dit.text_embed_dim=16",
                 "denoiser.dit.max_text_seq_length=8", "denoiser.dit.sample_height=16", "denoiser.dit.sample_width=16"]
    model = build_vsr_model(load_config(VSRModelConfig, overrides=overrides)).eval()
    assert model.pixel_multiple == 16 and model.input_upscale(4) == 2
    video = _clip(sample_clip, frames=9, size=(16, 32))
    with torch.no_grad():
        z = model.encode(video)
        assert z.shape == (1, 4, 3, 2, 4)  # 3 latent frames: odd, padded inside the DiT
        sr = model.decode(model.restore(z))
    assert sr.shape == (1, 3, 9, 32, 64)
    model.save_pretrained(tmp_path / "dove")
    loaded = VSRModel.from_pretrained(tmp_path / "dove").eval()
    assert {p.name for p in (tmp_path / "dove/denoiser").iterdir()} >= {"config.json", "prompt_embeds.safetensors"}
    with torch.no_grad():
        assert torch.allclose(loaded(video), model(video), atol=1e-5, rtol=0)


def test_input_upscale_mode_is_saved_loaded_and_validated(repo_root, tmp_path):
    cfg = load_config(VSRModelConfig, [repo_root / "configs/models/fastvsr_tiny.yaml"], ["input_upscale_mode=nearest"])
    model = build_vsr_model(cfg)
    model.save_pretrained(tmp_path / "m")
    assert VSRModel.from_pretrained(tmp_path / "m").input_upscale_mode == "nearest"
    meta_file = tmp_path / "m" / "fastvsr_model.json"
    meta = json.loads(meta_file.read_text())
    del meta["input_upscale_mode"]  # a folder written before the key existed
    meta_file.write_text(json.dumps(meta))
    assert VSRModel.from_pretrained(tmp_path / "m").input_upscale_mode == "bilinear"
    meta["input_upscale_mode"] = "lanczos"
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(WeightsMissingError, match="input_upscale_mode"):
        VSRModel.from_pretrained(tmp_path / "m")
    with pytest.raises(ConfigError, match="input_upscale_mode"):
        load_config(VSRModelConfig, [], ["input_upscale_mode=area"])


def test_nearest_upscale_lets_a_shortcut_latent_hold_the_lr_exactly(repo_root):
    from fastvsr.models.vae.shortcut import latent_to_pixels

    model = build_vsr_model(load_config(VSRModelConfig, [repo_root / "configs/default_model/model.yaml"]))
    lr = torch.rand(1, 3, 2, 16, 24)
    x = model.upscale_input(lr, 4)
    assert x.shape == (1, 3, 2, 32, 48)
    with torch.no_grad():
        z_raw = model.vae.posterior(x).mean  # untrained: the shortcut copy alone
    copy = latent_to_pixels(z_raw, (16, 24))
    assert torch.allclose((copy + 1) / 2, lr, atol=1e-6)
