"""The spatiotemporal decoder's per-level depth (``decoder_layers_per_block``) and per-frame mode
(``decoder_time_kernel: 1``), in the f8 VAE and in the f16 decoder built from it."""

import pytest
import torch

from fastvsr.config import load_config
from fastvsr.errors import ConfigError
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.vae import VAEConfig, build_vae, load_vae
from fastvsr.models.vae.blocks import ResBlock3D
from fastvsr.models.vae.causal_conv import CausalConv3d

PLAIN = ["norm_type=none", "act_fn=relu", "upsample_mode=pixel_shuffle"]


def layout_vae(*overrides: str):
    torch.manual_seed(0)
    cfg = load_config(VAEConfig, [], ["block_out_channels=[4,8,4,8]", "latent_channels=3", "norm_num_groups=2",
                                      "temporal_factor=1", *PLAIN, *overrides])
    vae = build_vae(cfg).eval()
    for p in vae.parameters():  # the plain style starts some convs at zero: make every path carry signal
        p.data.normal_(0, 0.1)
    return vae


def res_blocks(block: torch.nn.Module) -> int:
    return sum(isinstance(m, ResBlock3D) for m in block.children())


def test_decoder_layers_per_block_sets_the_residual_blocks_of_each_level_finest_first():
    vae = layout_vae("decoder_layers_per_block=[1,5,2,3]")
    # up_blocks run coarsest first: block_out_channels [4, 8, 4, 8] reversed, depths [3, 2, 5, 1]
    assert [res_blocks(b) for b in vae.decoder.up_blocks] == [3, 2, 5, 1]
    assert [b[0].conv2.out_channels for b in vae.decoder.up_blocks] == [8, 4, 8, 4]
    assert res_blocks(layout_vae().decoder.up_blocks[0]) == 2  # default: layers_per_block + 1 everywhere
    encoder_blocks = [res_blocks(b) for b in vae.encoder.down_blocks]
    assert encoder_blocks == [res_blocks(b) for b in layout_vae().encoder.down_blocks]  # the encoder is untouched


def test_a_per_frame_decoder_restores_every_frame_on_its_own():
    vae = layout_vae("decoder_time_kernel=1")
    decoder_convs = [m for m in vae.decoder.modules() if isinstance(m, CausalConv3d)]
    assert decoder_convs and all(conv.kernel_size[0] == 1 for conv in decoder_convs)
    assert any(m.kernel_size[0] == 3 for m in vae.encoder.modules() if isinstance(m, CausalConv3d))
    z = torch.randn(1, 3, 4, 2, 2)
    with torch.no_grad():
        clip = vae.decode(z, clamp=False)
        frames = torch.cat([vae.decode(z[:, :, i:i + 1], clamp=False) for i in range(4)], dim=2)
        three_tap = layout_vae().decode(z, clamp=False)
        three_tap_frames = torch.cat([layout_vae().decode(z[:, :, i:i + 1], clamp=False) for i in range(4)], dim=2)
    torch.testing.assert_close(clip, frames, atol=1e-5, rtol=1e-5)
    assert (three_tap - three_tap_frames).abs().max() > 1e-3  # the default decoder does mix frames


def test_an_f16_decoder_keeps_the_layout_through_save_and_load(tmp_path):
    vae = layout_vae("decoder_layers_per_block=[2,3,1,1]", "decoder_time_kernel=1")
    vae.save_pretrained(tmp_path / "vae")
    loaded = load_vae("spatiotemporal", tmp_path / "vae")
    dec = F16Decoder.from_f8(loaded)
    for p in dec.parameters():
        p.data.normal_(0, 0.1)
    dec.save_pretrained(tmp_path / "dec")
    again = F16Decoder.load(tmp_path / "dec")
    assert [res_blocks(b) for b in again.decoder.up_blocks] == [1, 1, 3, 2]
    z = torch.randn(1, 3, 3, 2, 2)
    with torch.no_grad():
        out = dec.eval().decode(z, clamp=False)
        torch.testing.assert_close(again.eval().decode(z, clamp=False), out)
        per_frame = torch.cat([dec.decode(z[:, :, i:i + 1], clamp=False) for i in range(3)], dim=2)
        torch.testing.assert_close(out, per_frame, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(dec.fold_copy().decode(z, clamp=False), out, atol=1e-5, rtol=1e-5)
    assert out.shape == (1, 3, 3, 32, 32)


@pytest.mark.parametrize("overrides, message", [
    (["decoder_layers_per_block=[1,1,1]"], "decoder_layers_per_block needs 4 positive entries"),
    (["decoder_layers_per_block=[1,0,1,1]"], "decoder_layers_per_block needs 4 positive entries"),
    (["decoder_time_kernel=2"], "decoder_time_kernel must be one of (1, 3)"),
    (["kind=patchified", "decoder_time_kernel=1"], "only for kind=spatiotemporal"),
])
def test_bad_decoder_layouts_are_refused_with_the_key_named(overrides, message):
    with pytest.raises((ConfigError, ValueError), match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(VAEConfig, [], ["block_out_channels=[4,8,4,8]", "latent_channels=3", "norm_num_groups=2",
                                    "temporal_factor=1", *overrides])
