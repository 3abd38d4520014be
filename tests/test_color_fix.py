"""Colour fixes (fastvsr.ops.color_fix): identity on their own reference, and they move colour, not detail."""

import pytest
import torch

from fastvsr.data.video import read_video
from fastvsr.ops.color_fix import adain_color_fix, color_fix, wavelet_color_fix, wavelet_low_frequency
from fastvsr.ops.resize import resize_video


@pytest.mark.parametrize("method", ["wavelet", "wavelet_full", "adain", "none"])
@pytest.mark.parametrize("shape", [(1, 3, 2, 40, 56), (2, 3, 1, 3, 5), (1, 3, 1, 1, 1)])
def test_color_fix_of_x_against_x_is_x(method, shape):
    x = torch.rand(shape)
    assert torch.allclose(color_fix(x, x, method), x, atol=1e-4)


def test_adain_matches_reference_statistics_per_frame_and_channel():
    out = torch.rand(1, 3, 2, 32, 32) * 0.5
    ref = torch.rand(1, 3, 2, 32, 32) * 0.3 + 0.4
    fixed = adain_color_fix(out, ref)
    assert torch.allclose(fixed.mean(dim=(-2, -1)), ref.mean(dim=(-2, -1)), atol=1e-3)
    assert torch.allclose(fixed.std(dim=(-2, -1)), ref.std(dim=(-2, -1)), atol=1e-2)


def test_wavelet_takes_colour_from_reference_and_detail_from_output():
    torch.manual_seed(1)
    detail = (torch.rand(1, 3, 1, 64, 64) - 0.5) * 0.2  # high-frequency texture
    output = (0.3 + detail).clamp(0, 1)  # right detail, wrong (dark) colour
    reference = torch.full_like(output, 0.6)  # flat LR-upsampled frame of the right colour
    fixed = wavelet_color_fix(output, reference)
    assert abs(fixed.mean().item() - 0.6) < 0.02  # colour moved to the reference
    high = fixed - wavelet_low_frequency(fixed[0].transpose(0, 1)).transpose(0, 1)[None]
    high_out = output - wavelet_low_frequency(output[0].transpose(0, 1)).transpose(0, 1)[None]
    assert torch.corrcoef(torch.stack([high.flatten(), high_out.flatten()]))[0, 1] > 0.95  # detail kept


def test_wavelet_at_the_inputs_resolution_is_the_full_resolution_fix_within_one_level(sample_clip):
    """On real frames with a colour cast, the LR computation the pipeline runs equals the full-resolution
    definition against the bilinearly upsampled input to within 1/255."""
    frames, _ = read_video(sample_clip, num_frames=2)
    output = (frames[None] * torch.tensor([1.1, 0.95, 0.9]).view(1, 3, 1, 1, 1) + 0.03).clamp(0, 1)
    lr = resize_video(frames[None], (45, 80), "bicubic", antialias=True).clamp(0, 1)
    exact = wavelet_color_fix(output, resize_video(lr, tuple(output.shape[-2:])))
    fast = color_fix(output, lr, "wavelet")
    assert (fast - exact).abs().max().item() * 255 < 1.0
    assert (exact - output).abs().mean().item() * 255 > 5  # the fix itself moves colour by far more


def test_color_fix_rejects_an_input_larger_than_the_output_and_unknown_methods():
    for method in ("adain", "wavelet"):
        with pytest.raises(ValueError, match="no larger|same shape|one shape"):
            color_fix(torch.rand(1, 3, 1, 8, 8), torch.rand(1, 3, 1, 16, 16), method)
    with pytest.raises(ValueError):
        color_fix(torch.rand(1, 3, 1, 8, 8), torch.rand(1, 3, 1, 8, 8), "sepia")
