"""The FastVSR f16 decoder: pixel ops, f8 -> f16 weight transfer, variants, copy folding, save/load, real clip."""

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fastvsr.config import load_config
from fastvsr.errors import ConfigError
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.vae import CogVideoXVAE, SpatioTemporalVAE, VAEConfig, build_vae
from fastvsr.ops.pixel import channel_copy, fold_copy_into_conv_weight, pixel_shuffle_frames, pixel_unshuffle_frames


def tiny_vae(kind: str, levels: int = 4) -> SpatioTemporalVAE | CogVideoXVAE:
    sizes = dict(block_out_channels=(8,) * (levels - 1) + (16,), latent_channels=4, norm_num_groups=4)
    if kind == "cogvideox":
        return CogVideoXVAE(layers_per_block=1, scaling_factor=0.7, **sizes).eval()
    return SpatioTemporalVAE(scaling_factor=0.5, shift_factor=0.2, **sizes).eval()


KINDS = ["spatiotemporal", "cogvideox"]
LATENT = (1, 4, 3, 1, 2)  # 3 latent frames -> 9 frames; CogVideoX decodes them as one batch of 3 with a cache


def test_pixel_ops_match_torch_per_frame():
    x = torch.randn(2, 8, 3, 4, 5)
    per_frame = torch.stack([F.pixel_shuffle(x[:, :, t], 2) for t in range(3)], dim=2)
    assert torch.equal(pixel_shuffle_frames(x), per_frame)
    assert torch.equal(pixel_unshuffle_frames(pixel_shuffle_frames(x)), x)
    copied = channel_copy(x, 4)
    assert copied.shape == (2, 32, 3, 4, 5) and all(torch.equal(copied[:, 8 * k:8 * (k + 1)], x) for k in range(4))
    conv = torch.nn.Conv3d(32, 3, 3, padding=1)
    folded = fold_copy_into_conv_weight(conv.weight, 4)
    torch.testing.assert_close(F.conv3d(x, folded, conv.bias, padding=1), conv(copied), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="divisible"):
        pixel_shuffle_frames(torch.zeros(1, 6, 1, 2, 2))


@pytest.mark.parametrize("kind", KINDS)
def test_from_f8_copies_every_weight(kind):
    vae = tiny_vae(kind)
    f8 = vae.decoder.state_dict()
    f16 = F16Decoder.from_f8(vae)
    state = f16.state_dict()
    assert set(state) == {f"decoder.{k}" for k in f8}
    assert all(torch.equal(state[f"decoder.{k}"], v) for k, v in f8.items())
    assert sum(p.numel() for p in f16.parameters()) == sum(p.numel() for p in vae.decoder.parameters())
    wide = F16Decoder.from_f8(vae, expansion="conv1x1")
    extra = {k: v for k, v in wide.state_dict().items() if not k.startswith("decoder.")}
    assert {k: tuple(v.shape) for k, v in extra.items()} == {"expand.weight": (8, 2, 1, 1, 1), "expand.bias": (8,)}
    assert all(torch.equal(wide.state_dict()[f"decoder.{k}"], v) for k, v in f8.items())


@pytest.mark.parametrize("kind", KINDS)
def test_decode_doubles_the_vae_resolution(kind):
    vae = tiny_vae(kind)
    f16 = F16Decoder.from_f8(vae).eval()
    assert (f16.spatial_factor, f16.temporal_factor, f16.latent_channels) == (16, 4, 4)
    z = torch.randn(LATENT)
    with torch.no_grad():
        out = f16.decode(z)
        f8_out = vae.decode(z)
    assert out.shape == (1, 3, 9, 16, 32) and f8_out.shape == (1, 3, 9, 8, 16)
    assert 0 <= out.min() and out.max() <= 1


def test_f16_from_an_f16_vae_is_f32():
    f32 = F16Decoder.from_f8(tiny_vae("spatiotemporal", levels=5)).eval()
    assert f32.spatial_factor == 32
    with torch.no_grad():
        assert f32.decode(torch.randn(1, 4, 2, 1, 2)).shape == (1, 3, 5, 32, 64)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("placement", ["after", "before"])
def test_conv1x1_expansion_starts_as_the_copy_and_placements_differ(kind, placement):
    vae = tiny_vae(kind)
    z = torch.randn(LATENT)
    with torch.no_grad():
        copy = F16Decoder.from_f8(vae, "copy", placement).decode(z, clamp=False)
        conv = F16Decoder.from_f8(vae, "conv1x1", placement).decode(z, clamp=False)
        other = F16Decoder.from_f8(vae, "copy", {"after": "before", "before": "after"}[placement])
        assert (other.decode(z, clamp=False) - copy).abs().max() > 1e-3
    torch.testing.assert_close(conv, copy, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_fold_copy_is_exact_and_shrinks_conv_out(kind):
    vae = tiny_vae(kind)
    f16 = F16Decoder.from_f8(vae, "copy", "before").eval()
    z = torch.randn(1, 4, 5, 1, 2)  # CogVideoX: 2 frame batches, so the (folded) conv_out cache is carried over
    with torch.no_grad():
        before = f16.decode(z, clamp=False)
        f16.fold_copy()
        after = f16.decode(z, clamp=False)
    assert f16.folded and f16.config.folded
    assert f16.decoder.output_conv().weight.shape[1] == 2  # C = 4C / 4 input channels
    torch.testing.assert_close(after, before, atol=1e-5, rtol=0)
    assert f16.fold_copy() is f16  # idempotent


def test_fold_copy_is_exact_after_a_norm_free_head():
    """The norm-free block style has no norm or activation in the head, so the copy feeds conv_out directly
    whichever side of the shuffle the (absent) norm sits on."""
    vae = SpatioTemporalVAE(block_out_channels=(8, 8, 16), latent_channels=4, norm_type="none", act_fn="relu",
                            upsample_mode="pixel_shuffle").eval()
    f16 = F16Decoder.from_f8(vae, "copy", "after").eval()
    assert f16.foldable
    z = torch.randn(1, 4, 3, 2, 2)
    with torch.no_grad():
        before = f16.decode(z, clamp=False)
        after = f16.fold_copy().decode(z, clamp=False)
    torch.testing.assert_close(after, before, atol=1e-5, rtol=0)
    assert f16.folded and f16.decoder.output_conv().weight.shape[1] == 2  # C = 4C / 4 input channels


@pytest.mark.parametrize("variant", [("copy", "after"), ("conv1x1", "before"), ("conv1x1", "after")])
def test_fold_copy_refuses_where_not_exact(variant):
    f16 = F16Decoder.from_f8(tiny_vae("spatiotemporal"), *variant)
    with pytest.raises(ConfigError, match="exact only") as err:
        f16.fold_copy()
    assert "\n" not in str(err.value)
    assert not f16.folded


def test_bad_switches_raise_config_errors():
    with pytest.raises(ConfigError, match="expansion"):
        F16Decoder(base_decoder=tiny_vae("spatiotemporal").decoder_spec(), expansion="conv3x3")
    with pytest.raises(ConfigError, match="'vqgan' has no split decoder"):
        F16Decoder(base_kind="vqgan", base_decoder={})


@pytest.mark.parametrize("kind, variant, fold", [
    ("spatiotemporal", ("copy", "after"), False), ("spatiotemporal", ("conv1x1", "before"), False),
    ("cogvideox", ("copy", "before"), True), ("cogvideox", ("copy", "after"), False),
])
def test_save_load_round_trip_is_bit_exact(tmp_path, kind, variant, fold):
    f16 = F16Decoder.from_f8(tiny_vae(kind), *variant).eval()
    if fold:
        f16.fold_copy()
    f16.save_pretrained(tmp_path)
    loaded = F16Decoder.from_pretrained(tmp_path, local_files_only=True).eval()
    assert loaded.folded == fold
    for (name, a), (_, b) in zip(f16.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    z = torch.randn(LATENT)
    with torch.no_grad():
        assert torch.equal(f16.decode(z), loaded.decode(z))


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_reach_every_weight_and_checkpointing_keeps_them(kind):
    f16 = F16Decoder.from_f8(tiny_vae(kind), "conv1x1", "after")
    z = torch.randn(LATENT)

    def grads() -> list[torch.Tensor]:
        f16.zero_grad()
        f16.decode(z, clamp=False).square().mean().backward()
        return [p.grad.clone() for p in f16.parameters()]

    plain = grads()
    assert all(g.abs().sum() > 0 for g in plain)
    f16.enable_gradient_checkpointing()
    assert f16.decoder.gradient_checkpointing
    for a, b in zip(plain, grads(), strict=True):
        torch.testing.assert_close(a, b)


def test_bf16_encode_and_f16_decode_keep_the_dtype():
    vae = tiny_vae("spatiotemporal").to(torch.bfloat16)
    f16 = F16Decoder.from_f8(vae, "copy", "before").fold_copy()
    with torch.no_grad():
        z = vae.encode(torch.rand(1, 3, 5, 8, 8, dtype=torch.bfloat16))
        assert z.dtype == torch.bfloat16 and f16.decode(z).dtype == torch.bfloat16


def test_paper_scale_f16_decoder_builds_on_meta_with_the_f8_parameter_count(repo_root):
    cfg = load_config(VAEConfig, [repo_root / "configs/models/vae_cogvideox15.yaml"])
    with torch.device("meta"):
        f16 = F16Decoder.from_f8(build_vae(cfg))
    params = list(f16.parameters())
    assert all(p.is_meta for p in params) and f16.spatial_factor == 16
    assert sum(p.numel() for p in params) == 123_368_451  # the CogVideoX VAE decoder, unchanged


def read_frames(path, count: int) -> torch.Tensor:
    """First ``count`` frames of a video as (1, 3, T, H, W) in [0, 1]."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(count), container.decode(video=0))]
    return torch.from_numpy(np.stack(frames)).permute(3, 0, 1, 2)[None].float() / 255


def test_real_clip_encode_then_f16_decode_gives_twice_the_input_size(sample_clip):
    clip = read_frames(sample_clip, 5)  # (1, 3, 5, 180, 320)
    lr = F.interpolate(clip[0].transpose(0, 1), size=(48, 80), mode="bilinear", antialias=True)
    lr = lr.transpose(0, 1)[None].clamp(0, 1)  # encoder input: 80x48, a multiple of the VAE's 8
    vae = tiny_vae("spatiotemporal")
    f16 = F16Decoder.from_f8(vae).eval()
    with torch.no_grad():
        z = vae.encode(lr)
        hr = f16.decode(z)
    assert z.shape == (1, 4, 2, 6, 10)
    assert hr.shape == (1, 3, 5, 96, 160)
    assert torch.isfinite(hr).all() and 0 <= hr.min() and hr.max() <= 1 and hr.std() > 0


@pytest.mark.parametrize("channels_last", [False, True])
def test_the_copy_and_its_norm_in_one_pass_equal_the_norm_of_the_copy(channels_last):
    """Inference computes norm(copy(x)) with the group statistics taken once on the shuffled channels."""
    from fastvsr.models.f16_decoder import normed_copy
    from fastvsr.models.vae.causal_conv import FrameGroupNorm
    from fastvsr.ops.pixel import channel_copy

    torch.manual_seed(0)
    norm = FrameGroupNorm(8, 32, eps=1e-6)
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = torch.randn(2, 8, 3, 10, 12) * 3 + 1
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last_3d)
    with torch.no_grad():
        fused = normed_copy(x, norm, 4)
        assert torch.allclose(fused, norm(channel_copy(x, 4)), atol=1e-5)
    assert fused.is_contiguous(memory_format=torch.channels_last_3d if channels_last else torch.contiguous_format)
