"""Channels-last inference of the causal VAE (``InferConfig.channels_last``,
:func:`fastvsr.models.vae.causal_conv.use_channels_last`): activations stay channels-last from the first conv
to the last, and the output equals the default layout's up to float rounding."""

import pytest
import torch

from fastvsr.data.video import read_video
from fastvsr.models.bundle import MODEL_FILE
from fastvsr.models.vae.blocks import BlockStyle, ResBlock3D, Upsample3D
from fastvsr.models.vae.causal_conv import CausalConv3d, causal_stream, use_channels_last
from fastvsr.ops.layout import layout_of
from fastvsr.ops.pixel import pixel_shuffle_frames
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.loading import DEFAULT_MODEL_DIR, load_inference_model
from fastvsr.pipeline.upscale import upscale_video

CL = torch.channels_last_3d


def test_layout_of_tells_channels_last_video_tensors_apart():
    x = torch.randn(1, 4, 3, 5, 6)
    assert layout_of(x) is torch.contiguous_format
    assert layout_of(x.contiguous(memory_format=CL)) is CL
    assert layout_of(torch.randn(2, 3, 4, 5)) is torch.contiguous_format


def test_pixel_shuffle_keeps_the_layout_and_the_values():
    x = torch.randn(2, 12, 3, 4, 5)
    expected = pixel_shuffle_frames(x)
    shuffled = pixel_shuffle_frames(x.contiguous(memory_format=CL))
    assert layout_of(shuffled) is CL
    torch.testing.assert_close(shuffled, expected, rtol=0, atol=0)


@pytest.mark.parametrize("streamed", [False, True])
def test_channels_last_blocks_give_the_same_output_in_channels_last(streamed):
    torch.manual_seed(0)
    style = BlockStyle(norm="none", act="relu", upsample="pixel_shuffle")
    net = torch.nn.Sequential(CausalConv3d(3, 8, 3), ResBlock3D(8, 16, style), Upsample3D(16, False, "pixel_shuffle"),
                              CausalConv3d(16, 3, 3)).eval()
    x = torch.randn(1, 3, 5, 12, 10)

    def run(model):
        with torch.inference_mode():
            if not streamed:
                return model(x)
            with causal_stream(model):  # 2 + 2 + 1 frames, carrying the causal padding
                return torch.cat([model(x[:, :, s:s + 2]) for s in (0, 2, 4)], dim=2)

    expected = run(net)
    assert use_channels_last(net) == 6  # in conv, the block's two convs and 1x1 skip, upsampler conv, out conv
    out = run(net)
    assert layout_of(out) is CL
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)


@pytest.mark.skipif(not (DEFAULT_MODEL_DIR / MODEL_FILE).is_file(), reason="no shipped model")
def test_shipped_model_in_channels_last_gives_the_same_video(sample_clip):
    lr = read_video(sample_clip, num_frames=3)[0][None, :, :, :48, :64]
    outputs = {}
    for channels_last in (True, False):
        cfg = InferConfig(device="cpu", dtype="fp32", channels_last=channels_last)
        model = load_inference_model(None, cfg)
        conv = model.decoder.decoder.output_conv()
        assert (layout_of(conv.weight) is CL) is channels_last
        outputs[channels_last] = upscale_video(model, lr, cfg)
    assert outputs[True].shape == (1, 3, 3, 192, 256)
    torch.testing.assert_close(outputs[True], outputs[False], atol=2e-5, rtol=0)
