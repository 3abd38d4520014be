"""The causal spatio-temporal VAE and the CogVideoX adapter: shapes, causality, errors, save/load, parity."""

import json
import re

import pytest
import torch
from diffusers import AutoencoderKLCogVideoX

from fastvsr.config import load_config
from fastvsr.errors import ConfigError, InputError, WeightsMissingError
from fastvsr.models.vae import CogVideoXSplitDecoder, CogVideoXVAE, SpatioTemporalVAE, VAEConfig, build_vae, load_vae

TINY_COG = dict(block_out_channels=(8, 8, 16, 16), layers_per_block=1, latent_channels=4, norm_num_groups=4,
                scaling_factor=0.7)


def tiny_vae(spatial: int = 8, temporal: int = 4) -> SpatioTemporalVAE:
    levels = {8: 4, 16: 5, 32: 6}[spatial]
    return SpatioTemporalVAE(block_out_channels=(4,) * levels, latent_channels=3, temporal_factor=temporal,
                             norm_num_groups=2, scaling_factor=0.5, shift_factor=0.1).eval()


def public_config(model: torch.nn.Module) -> dict:
    """The model's config as saved in config.json, without bookkeeping keys (``_name_or_path``, ...)."""
    return {k: v for k, v in json.loads(model.to_json_string()).items() if not k.startswith("_")}


def frames_for(temporal: int) -> int:
    return temporal + 1 if temporal > 1 else 3


@pytest.mark.parametrize("spatial", [8, 16, 32])
@pytest.mark.parametrize("temporal", [1, 4, 8])
def test_shapes_for_every_factor(spatial, temporal):
    vae = tiny_vae(spatial, temporal)
    assert (vae.spatial_factor, vae.temporal_factor, vae.latent_channels) == (spatial, temporal, 3)
    t = frames_for(temporal)
    video = torch.rand(1, 3, t, spatial, 2 * spatial)
    with torch.no_grad():
        z = vae.encode(video)
        out = vae.decode(z)
    assert z.shape == (1, 3, (t - 1) // temporal + 1, 1, 2)
    assert out.shape == video.shape
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_encoder_and_decoder_are_causal_and_encode_the_first_frame_alone():
    vae = tiny_vae(8, 4)
    video = torch.rand(1, 3, 9, 16, 16)
    later_changed = video.clone()
    later_changed[:, :, 5:] = torch.rand(1, 3, 4, 16, 16)
    with torch.no_grad():
        z = vae.encode(video)
        torch.testing.assert_close(vae.encode(video[:, :, :1]), z[:, :, :1], atol=1e-5, rtol=0)
        z_changed = vae.encode(later_changed)
        torch.testing.assert_close(z_changed[:, :, :2], z[:, :, :2], atol=1e-5, rtol=0)
        assert (z_changed[:, :, 2] - z[:, :, 2]).abs().max() > 1e-3  # later latent frames do see the change
        torch.testing.assert_close(vae.decode(z[:, :, :2]), vae.decode(z)[:, :, :5], atol=1e-5, rtol=0)


def test_sampling_uses_the_generator_and_scaling_is_applied():
    vae = tiny_vae()
    video = torch.rand(1, 3, 5, 8, 8)
    with torch.no_grad():
        mode = vae.encode(video)
        a = vae.encode(video, sample=True, generator=torch.Generator().manual_seed(1))
        b = vae.encode(video, sample=True, generator=torch.Generator().manual_seed(1))
        raw_mean = vae.encoder(video * 2 - 1)[:, :3]
    torch.testing.assert_close(a, b, atol=0, rtol=0)
    assert (a - mode).abs().max() > 1e-4
    torch.testing.assert_close(mode, (raw_mean - 0.1) * 0.5)
    torch.testing.assert_close(vae.posterior(video).mean, raw_mean)


@pytest.mark.parametrize("shape, message", [
    ((1, 3, 6, 16, 16), "k*4+1"), ((1, 3, 5, 12, 16), "multiple of 8"), ((1, 4, 5, 16, 16), "(B, 3, T, H, W)"),
])
def test_bad_video_shapes_raise_one_line_input_errors(shape, message):
    with pytest.raises(InputError, match=re.escape(message)) as err:
        tiny_vae().encode(torch.rand(shape))
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="latent"):
        tiny_vae().decode(torch.rand(1, 5, 2, 2, 2))


@pytest.mark.parametrize("kind", ["spatiotemporal", "cogvideox"])
def test_save_load_bit_exact(tmp_path, kind):
    vae = tiny_vae() if kind == "spatiotemporal" else CogVideoXVAE(**TINY_COG).eval()
    vae.save_pretrained(tmp_path)
    loaded = load_vae(kind, tmp_path).eval()
    assert type(loaded) is type(vae) and public_config(loaded) == public_config(vae)
    for (name, a), (_, b) in zip(vae.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    z = torch.randn(1, vae.latent_channels, 3, 2, 2)
    with torch.no_grad():
        assert torch.equal(vae.decode(z), loaded.decode(z))


def test_load_vae_from_a_missing_folder_names_the_file(tmp_path):
    with pytest.raises(WeightsMissingError, match="config.json"):
        load_vae("spatiotemporal", tmp_path)


def test_cogvideox_adapter_matches_diffusers():
    vae = CogVideoXVAE(**TINY_COG).eval()
    assert isinstance(vae.decoder, CogVideoXSplitDecoder)
    assert (vae.spatial_factor, vae.temporal_factor, vae.latent_channels) == (8, 4, 4)
    video = torch.rand(1, 3, 9, 8, 16)
    z = torch.randn(1, 4, 5, 1, 2)  # 5 latent frames: diffusers decodes them as (0, 1, 2), (3, 4) with a cache
    with torch.no_grad():
        ref_z = AutoencoderKLCogVideoX.encode(vae, video * 2 - 1).latent_dist.mode() * 0.7
        torch.testing.assert_close(vae.encode(video), ref_z, atol=1e-5, rtol=0)
        ref = AutoencoderKLCogVideoX.decode(vae, z / 0.7).sample
        ours = vae.decode(z)
    assert ours.shape == (1, 3, 17, 8, 16)
    torch.testing.assert_close(ours, ((ref + 1) / 2).clamp(0, 1), atol=1e-5, rtol=0)
    assert ((ref + 1) / 2 - ours).abs().max() < 1e-5 or ((ref < -1) | (ref > 1)).any()


def test_cogvideox_adapter_loads_a_plain_diffusers_folder(tmp_path):
    plain = AutoencoderKLCogVideoX(**TINY_COG)
    plain.save_pretrained(tmp_path)
    vae = load_vae("cogvideox", tmp_path)
    assert isinstance(vae.decoder, CogVideoXSplitDecoder)
    for (name, a), (_, b) in zip(plain.state_dict().items(), vae.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_paper_scale_cogvideox_builds_on_meta(repo_root):
    cfg = load_config(VAEConfig, [repo_root / "configs/models/vae_cogvideox15.yaml"])
    with torch.device("meta"):
        vae = build_vae(cfg)
    params = list(vae.parameters())
    assert all(p.is_meta for p in params)
    assert sum(p.numel() for p in params) == 215_583_907  # the CogVideoX(1.5) VAE: 215.6 M parameters
    assert (vae.spatial_factor, vae.temporal_factor, vae.latent_channels) == (8, 4, 16)
    assert vae.config.scaling_factor == 0.7 and vae.config.layers_per_block == 3
    assert vae.decoder.conv_out.conv.in_channels == 128  # 4C at R, C = 32 after the f16 pixel shuffle


@pytest.mark.parametrize("name", ["tiny", "small"])
def test_yaml_configs_build(repo_root, name):
    cfg = load_config(VAEConfig, [repo_root / f"configs/models/vae_{name}.yaml"])
    vae = build_vae(cfg)
    assert isinstance(vae, SpatioTemporalVAE) and vae.spatial_factor == 8 and vae.temporal_factor == 4


@pytest.mark.parametrize("override", ["temporal_factor=3", "block_out_channels=[8,8,8]", "norm_num_groups=3",
                                      "kind=vqgan"])
def test_bad_vae_configs_raise_config_errors(override):
    with pytest.raises(ConfigError):
        load_config(VAEConfig, [], [override])


def test_cogvideox_needs_odd_latent_frame_counts():
    vae = CogVideoXVAE(**TINY_COG).eval()
    assert vae.frame_multiple == 8 and tiny_vae().frame_multiple == 4
    with pytest.raises(InputError, match=re.escape("k*8+1")):
        vae.encode(torch.rand(1, 3, 5, 8, 8))  # 2 latent frames: diffusers would decode them to 8 frames
    with pytest.raises(InputError, match="odd number of latent frames"):
        vae.decode(torch.randn(1, 4, 2, 1, 1))
    with torch.no_grad():
        assert vae.decode(vae.encode(torch.rand(1, 3, 1, 8, 8))).shape == (1, 3, 1, 8, 8)  # a single image


@pytest.mark.parametrize("c_in, c_out, stride", [(16, 3, 1), (3, 16, 1), (8, 8, 2), (16, 3, 2), (16, 8, 1), (4, 3, 1)])
def test_causal_conv_cpu_inference_path_matches_conv3d(c_in, c_out, stride):
    """The CPU inference paths (direct oneDNN; tap-split for <= 8 outputs from >= 16 inputs) against Conv3d."""
    from fastvsr.models.vae.causal_conv import CausalConv3d

    torch.manual_seed(0)
    conv = CausalConv3d(c_in, c_out, 3, stride=stride)
    x = torch.randn(1, c_in, 4, 12, 10)
    with torch.no_grad():
        fast = conv(x)  # oneDNN
    reference = torch.nn.Conv3d.forward(conv, torch.cat([x[:, :, :1], x[:, :, :1], x], dim=2))
    assert fast.shape == reference.shape == (1, c_out, 4, 12 // stride, 10 // stride)
    assert torch.allclose(fast, reference, atol=1e-5)


def test_narrow_causal_conv_streams_its_tap_outputs():
    """A narrow conv (3 outputs) runs tap-split in CPU inference: streamed in 1- and 2-frame batches it carries
    the last two frames' tap outputs (not its input frames) and equals one pass over the clip."""
    from fastvsr.models.vae.causal_conv import TAP_SPLIT_MAX_OUT, TAP_SPLIT_MIN_IN, CausalConv3d, causal_stream

    torch.manual_seed(0)
    conv = CausalConv3d(16, 3, 3).eval()
    assert conv.out_channels <= TAP_SPLIT_MAX_OUT and conv.in_channels >= TAP_SPLIT_MIN_IN
    x = torch.randn(1, 16, 5, 8, 6)
    with torch.no_grad():
        whole = conv(x)
        with causal_stream(conv):
            parts = [conv(x[:, :, :1]), conv(x[:, :, 1:3])]
            assert conv.past is None and conv.past_taps.shape == (1, 9, 2, 8, 6)
            parts.append(conv(x[:, :, 3:]))
    torch.testing.assert_close(torch.cat(parts, dim=2), whole, atol=1e-5, rtol=0)
    assert conv.past_taps is None


@pytest.mark.parametrize("c_out", [16, 3], ids=["direct", "tap_split"])
def test_streamed_causal_conv_reuses_its_carried_frames_without_touching_its_input(c_out):
    """While streaming, a conv writes each batch's carried frames (input frames, or tap outputs when
    tap-split) into the buffer of the previous batch's instead of a new tensor; a batch of exactly
    ``time_pad`` frames is carried as it is, and the next batch then allocates rather than write into the
    caller's tensor. The output equals one pass over the clip."""
    from fastvsr.models.vae.causal_conv import CausalConv3d, causal_stream

    torch.manual_seed(0)
    conv = CausalConv3d(16, c_out, 3).eval()
    x = torch.randn(1, 16, 5, 8, 6)
    batches = [x[:, :, :2].clone(), x[:, :, 2:3], x[:, :, 3:4], x[:, :, 4:]]  # first: exactly time_pad frames
    first_batch = batches[0].clone()

    def carried() -> torch.Tensor:
        return conv.past if conv.past_taps is None else conv.past_taps

    with torch.no_grad():
        whole = conv(x)
        parts, pointers = [], []
        with causal_stream(conv):
            for batch in batches:
                parts.append(conv(batch))
                pointers.append(carried().data_ptr())
    torch.testing.assert_close(torch.cat(parts, dim=2), whole, atol=1e-5, rtol=0)
    torch.testing.assert_close(batches[0], first_batch, atol=0, rtol=0)  # the carried input was not written to
    if c_out == 16:
        assert pointers[0] == batches[0].data_ptr()  # carried as it is
    assert pointers[1] != batches[0].data_ptr()
    assert pointers[2] == pointers[3] == pointers[1]  # one buffer from then on


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_frame_batches_match_the_whole_clip_and_stream_only_in_inference(batch):
    """Encoding / decoding ``batch`` frames at a time (the causal padding carried between batches) equals
    one pass over the whole clip, for the VAE and the f16 decoder built from it; with autograd on (training)
    the clip runs whole."""
    from fastvsr.models.f16_decoder import F16Decoder
    from fastvsr.models.vae.autoencoder import set_frame_batch

    torch.manual_seed(0)
    vae = SpatioTemporalVAE(block_out_channels=(4, 8, 8, 8), latent_channels=48, temporal_factor=1,
                            norm_num_groups=2, shortcut=True, norm_type="none", act_fn="relu",
                            upsample_mode="pixel_shuffle").eval()
    for p in vae.parameters():  # the shortcut starts the heads at zero: give them weights
        p.data.normal_(0, 0.1)
    f16 = F16Decoder.from_f8(vae).eval()
    video = torch.rand(1, 3, 7, 16, 24)
    set_frame_batch(vae, 0)
    set_frame_batch(f16, 0)
    with torch.no_grad():
        z, out8, out16 = vae.encode(video), vae.decode(vae.encode(video)), f16.decode(vae.encode(video))
    set_frame_batch(vae, batch)
    set_frame_batch(f16, batch)
    with torch.no_grad():
        assert len(vae.encoder.frame_batches(7)) == -(-7 // batch)
        torch.testing.assert_close(vae.encode(video), z, atol=1e-5, rtol=0)
        torch.testing.assert_close(vae.decode(z), out8, atol=1e-5, rtol=0)
        torch.testing.assert_close(f16.decode(z), out16, atol=1e-5, rtol=0)
    assert all(conv.past is None and conv.past_taps is None  # nothing carried over
               for conv in vae.modules() if hasattr(conv, "past"))
    assert vae.encoder.frame_batches(7) == [slice(0, 7)]  # autograd on (training): whole clips
    with torch.no_grad():
        assert tiny_vae(8, 4).encoder.frame_batches(9) == [slice(0, 9)]  # temporal compression: whole clips
    with pytest.raises(ValueError, match="frame_batch must be >= 0"):
        set_frame_batch(vae, -1)
