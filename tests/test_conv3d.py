"""``OneDNNConv3d``: CPU float32 inference on oneDNN, the same values and parameters as ``nn.Conv3d``."""

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from fastvsr.models.denoisers.unet import SpatioTemporalUNet
from fastvsr.ops.conv3d import OneDNNConv3d


def _conv_ops(fn) -> set[str]:
    """The names of the convolution ops ``fn()`` runs."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return {e.key for e in prof.key_averages() if "conv" in e.key and e.key.startswith("aten::")}


@pytest.mark.parametrize("kernel, padding, stride, mode", [((1, 3, 3), (0, 1, 1), (1, 1, 1), "zeros"),
                                                           ((1, 3, 3), (0, 1, 1), (1, 2, 2), "zeros"),
                                                           ((3, 1, 1), (1, 0, 0), (1, 1, 1), "replicate"),
                                                           (1, 0, 1, "zeros")])
def test_onednn_conv3d_matches_conv3d_and_skips_the_slow_path(kernel, padding, stride, mode):
    torch.manual_seed(0)
    conv = OneDNNConv3d(6, 5, kernel, stride=stride, padding=padding, padding_mode=mode)
    x = torch.randn(1, 6, 3, 10, 12)
    with torch.no_grad():
        fast = conv(x)
        reference = torch.nn.Conv3d.forward(conv, x)
        assert "aten::slow_conv3d_forward" in _conv_ops(lambda: torch.nn.Conv3d.forward(conv, x))
        ops = _conv_ops(lambda: conv(x))
    assert "aten::mkldnn_convolution" in ops and "aten::slow_conv3d_forward" not in ops
    torch.testing.assert_close(fast, reference, atol=1e-5, rtol=0)
    assert set(conv.state_dict()) == {"weight", "bias"}
    # autograd (training) takes the stock path and still gets gradients
    conv(x).sum().backward()
    assert conv.weight.grad is not None


@pytest.mark.filterwarnings("ignore:TF32 acceleration")
def test_unet_denoiser_inference_matches_the_stock_conv_path():
    torch.manual_seed(0)
    unet = SpatioTemporalUNet(in_channels=8, block_out_channels=(16, 16), norm_num_groups=4).eval()
    for p in unet.parameters():
        p.data.normal_(0, 0.1)
    z, t = torch.randn(1, 8, 3, 8, 8), torch.tensor([399.0])
    with torch.no_grad():
        fast = unet(z, t)
        with torch.backends.mkldnn.flags(enabled=False):  # every conv on PyTorch's own choice of backend
            reference = unet(z, t)
    torch.testing.assert_close(fast, reference, atol=1e-5, rtol=0)
