"""Inference folds an f16 decoder's channel copy into conv_out where it is exact
(fastvsr.pipeline.device.prepare_model, ``InferConfig.fold_copy``): the shipped model's output is unchanged
up to float rounding, and its conv_out reads the 4x fewer shuffled channels."""

import pytest
import torch

from fastvsr.data.video import read_video
from fastvsr.models.bundle import MODEL_FILE
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.loading import DEFAULT_MODEL_DIR, load_inference_model
from fastvsr.pipeline.upscale import upscale_video

pytestmark = pytest.mark.skipif(not (DEFAULT_MODEL_DIR / MODEL_FILE).is_file(), reason="no shipped model")


def test_shipped_model_is_folded_at_inference_with_the_same_output(sample_clip):
    lr = read_video(sample_clip, num_frames=3)[0][None, :, :, :48, :64]
    outputs = {}
    for fold in (True, False):
        cfg = InferConfig(device="cpu", dtype="fp32", fold_copy=fold)
        model = load_inference_model(None, cfg)
        conv = model.decoder.decoder.output_conv()
        assert model.decoder.folded is fold
        assert conv.weight.shape[1] == (4 if fold else 16)  # 16 copied channels -> the 4 shuffled ones
        outputs[fold] = upscale_video(model, lr, cfg)
    assert outputs[True].shape == (1, 3, 3, 192, 256)
    torch.testing.assert_close(outputs[True], outputs[False], atol=2e-5, rtol=0)
