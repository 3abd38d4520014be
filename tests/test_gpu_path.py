"""The GPU path exercised on the CPU: torch.compile of the model, the DiTs' attention through flash SDPA,
and bf16 end to end."""

import pytest
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.overrides import TorchFunctionMode

from fastvsr.config import load_config
from fastvsr.models import ModelConfig, build_model
from fastvsr.models.bundle import RestoreContext
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.device import prepare_model
from fastvsr.pipeline.upscale import upscale_video
from fastvsr.recipes.tiny_paper import make_tiny_cogvideox, make_tiny_ltx


class FloatInputs(TorchFunctionMode):
    """Records the dtypes of the floating tensors every call of the watched functions receives."""

    def __init__(self, watched):
        super().__init__()
        self.watched, self.dtypes, self.calls = watched, set(), 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.watched:
            self.calls += 1
            self.dtypes |= {a.dtype for a in (*args, *(kwargs or {}).values())
                            if isinstance(a, torch.Tensor) and a.is_floating_point()}
        return func(*args, **(kwargs or {}))


def _tiny_fastvsr(repo_root):
    torch.manual_seed(0)
    return build_model(load_config(ModelConfig, [repo_root / "configs/models/fastvsr_tiny.yaml"]))


def test_compiled_model_matches_eager_with_frame_batches(repo_root):
    """``compile: true`` traces encode / restore / decode (the causal VAE's frame batches and carried frames
    included) and gives the eager output; ``aot_eager`` traces as inductor does without generating kernels."""
    model = _tiny_fastvsr(repo_root)
    video = torch.rand(1, 3, 9, 32, 48, generator=torch.Generator().manual_seed(0))
    eager_cfg = InferConfig(device="cpu", scale=2, frame_batch=4)
    eager = upscale_video(prepare_model(model, eager_cfg), video, eager_cfg)
    cfg = InferConfig(device="cpu", scale=2, frame_batch=4, compile=True, compile_backend="aot_eager")
    compiled = upscale_video(prepare_model(model, cfg), video, cfg)
    assert hasattr(model.decode, "_torchdynamo_orig_callable")  # really the compiled method
    torch.testing.assert_close(compiled, eager, atol=1e-4, rtol=0)


@pytest.mark.parametrize("paper", ["fastvsr", "turbovsr"])
def test_paper_dits_attend_through_flash_sdpa_in_bf16(paper, repo_root, tmp_path):
    """Both published DiTs (CogVideoX, LTX-Video; tiny random weights in the published layouts) run their
    attention as ``scaled_dot_product_attention`` calls that the flash kernel alone can serve (with only
    ``FLASH_ATTENTION`` allowed an ineligible call raises), every input in bf16."""
    if paper == "fastvsr":
        parts = make_tiny_cogvideox(tmp_path / "cog")
        config, overrides = "fastvsr_paper.yaml", []
    else:
        parts = make_tiny_ltx(tmp_path / "ltx")
        config, overrides = "turbovsr_paper_ltx.yaml", ["sampler.steps=1"]
    cfg = load_config(ModelConfig, [repo_root / "configs/models" / config],
                      [f"vae.pretrained={parts['vae']}", f"denoiser.pretrained={parts['transformer']}", *overrides])
    model = prepare_model(build_model(cfg), InferConfig(device="cpu", dtype="bf16"))
    z = torch.randn(1, model.vae.latent_channels, 3 if paper == "fastvsr" else 2, 4, 4, dtype=torch.bfloat16)
    watch = FloatInputs({F.scaled_dot_product_attention, F.linear})
    with torch.no_grad(), sdpa_kernel([SDPBackend.FLASH_ATTENTION]), watch:
        out = model.restore(z, context=RestoreContext(generator=torch.Generator().manual_seed(0)))
    assert out.dtype == torch.bfloat16 and out.shape == z.shape
    assert watch.calls > 0 and watch.dtypes == {torch.bfloat16}


def test_bf16_pipeline_computes_in_bf16(repo_root):
    """With ``dtype: bf16`` every conv and linear of the restoration gets bf16 inputs; only the output is
    float32."""
    cfg = InferConfig(device="cpu", scale=2, dtype="bf16")
    model = prepare_model(_tiny_fastvsr(repo_root), cfg)
    watch = FloatInputs({F.conv2d, F.conv3d, F.linear})
    with watch:
        out = upscale_video(model, torch.rand(1, 3, 5, 16, 24), cfg)
    assert out.dtype == torch.float32 and out.shape == (1, 3, 5, 32, 48)
    assert watch.calls > 0 and watch.dtypes == {torch.bfloat16}


def test_host_tensors_stay_unchanged_on_the_cpu():
    from fastvsr.pipeline.device import to_device

    x = torch.rand(1, 3, 2, 4, 4)
    assert to_device(x, torch.device("cpu")) is x
    assert to_device(x, torch.device("cpu"), torch.float64).dtype == torch.float64


@pytest.mark.gpu
def test_host_to_cuda_copies_go_through_pinned_memory_and_arrive_whole():
    from fastvsr.pipeline.device import to_device

    x = torch.rand(1, 3, 5, 64, 64)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        y = to_device(x, torch.device("cuda"), torch.bfloat16)
    assert any(e.key == "aten::pin_memory" or e.key == "aten::_pin_memory" for e in prof.key_averages())
    assert torch.equal(y.cpu(), x.to(torch.bfloat16))
