"""Paper-scale assembly and inference on the tiny paper-structured models (random diffusers CogVideoX VAE +
transformer in the published layout, bf16 as published): build_model.py with a trained stage-1 decoder, dtype
preservation, the f8 baseline folder, decoder mismatches, RoPE beyond the transformer's table and the DOVE
inference preset."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from fastvsr.cli import run_main
from fastvsr.config import load_config
from fastvsr.models import VSRModel
from fastvsr.models.denoisers import load_denoiser
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.vae import load_vae
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.upscale import upscale_video
from fastvsr.recipes.tiny_paper import TINY_COGVIDEOX_VAE, make_tiny_cogvideox

REPO = Path(__file__).parent.parent
PAPER = str(REPO / "configs/models/fastvsr_paper.yaml")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_tiny_cogvideox(tmp_path_factory.mktemp("tiny") / "cogvideox")["vae"].parent


@pytest.fixture(scope="module")
def stage1_export(tiny: Path, tmp_path_factory) -> Path:
    """A 'trained' stage-1 decoder: the f16 decoder of the tiny VAE with every weight moved off its f8 copy."""
    decoder = F16Decoder.from_f8(load_vae("cogvideox", tiny / "vae", torch_dtype=torch.float32))
    with torch.no_grad():
        for p in decoder.parameters():
            p.add_(0.01)
    folder = tmp_path_factory.mktemp("stage1") / "export"
    decoder.save_pretrained(folder)
    return folder


@pytest.fixture
def build(script):
    return script("build_model").main


def _paper_args(tiny: Path, *extra: str) -> list[str]:
    return ["--config", PAPER, f"vae.pretrained={tiny / 'vae'}", f"denoiser.pretrained={tiny / 'transformer'}", *extra]


def _stored_dtypes(folder: Path) -> set[torch.dtype]:
    dtypes = set()
    for file in folder.glob("*.safetensors"):
        with safe_open(str(file), "pt") as f:
            dtypes |= {f.get_slice(k).get_dtype() for k in f.keys()}
    return dtypes


def test_build_model_assembles_the_trained_decoder_and_keeps_bf16(build, tiny, stage1_export, tmp_path):
    out = tmp_path / "fastvsr"
    assert build([*_paper_args(tiny, f"decoder.pretrained={stage1_export}"), "--output", str(out)]) == 0
    assert _stored_dtypes(out / "vae") == {"BF16"} and _stored_dtypes(out / "denoiser") == {"BF16"}
    model = VSRModel.from_pretrained(out)
    assert model.vae.dtype == torch.bfloat16 and model.f16_decoder.spatial_factor == 16
    trained = F16Decoder.load(stage1_export).state_dict()
    assert trained.keys() == model.f16_decoder.state_dict().keys()
    assert all(torch.equal(t, model.f16_decoder.state_dict()[k]) for k, t in trained.items())


def test_build_model_writes_the_f8_baseline_with_the_same_parts(build, tiny, tmp_path):
    f16, f8 = tmp_path / "f16", tmp_path / "f8"
    assert build([*_paper_args(tiny), "--output", str(f16)]) == 0
    assert build(["--config", str(REPO / "configs/models/fastvsr_paper_f8.yaml"), *_paper_args(tiny)[2:],
                  "--output", str(f8)]) == 0
    a, b = VSRModel.from_pretrained(f16), VSRModel.from_pretrained(f8)
    assert (a.input_upscale(4), b.input_upscale(4)) == (2, 4) and b.f16_decoder is None
    for part in ("vae", "denoiser"):
        sa, sb = getattr(a, part).state_dict(), getattr(b, part).state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_decoder_of_another_vae_is_a_one_line_error_naming_the_tensor(build, tiny, tmp_path, capsys):
    from diffusers import AutoencoderKLCogVideoX

    other = AutoencoderKLCogVideoX(**{**TINY_COGVIDEOX_VAE, "block_out_channels": (16, 16, 16, 32)})
    other.save_pretrained(tmp_path / "other_vae")
    wrong = tmp_path / "wrong_decoder"
    F16Decoder.from_f8(load_vae("cogvideox", tmp_path / "other_vae")).save_pretrained(wrong)
    with pytest.raises(SystemExit) as info:
        run_main(build, [*_paper_args(tiny, f"decoder.pretrained={wrong}"), "--output", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1
    assert ": tensor decoder.conv_in.conv.weight is (32, 4, 3, 3, 3), the VAE's decoder has (16, 4, 3, 3, 3)" in err
    assert not (tmp_path / "m").exists()


def test_rope_beyond_the_transformers_table_continues_the_positions(tiny):
    """The tiny DiT's table covers 8x8 patches (sample 16x16); a 12x20 patch grid (an encoder input over 2400 px
    at paper scale) gets the same positions on the part the table covers and runs end to end."""
    dit = load_denoiser("cogvideox_dit", tiny / "transformer", torch_dtype=torch.float32)
    small = dit._rotary_embedding(2, 16, 16, torch.device("cpu"))
    big = dit._rotary_embedding(2, 24, 40, torch.device("cpu"))
    dim = small[0].shape[-1]
    for s, b in zip(small, big, strict=True):
        assert b.shape == (1 * 12 * 20, dim)
        assert torch.equal(b.reshape(1, 12, 20, dim)[:, :8, :8], s.reshape(1, 8, 8, dim))
    with torch.no_grad():
        v = dit(torch.randn(1, 4, 3, 24, 40), torch.tensor([399.0]))
    assert v.shape == (1, 4, 3, 24, 40) and torch.isfinite(v).all()


def test_paper_protocol_samples_the_posterior_and_runs_the_whole_clip(build, tiny, tmp_path):
    out = tmp_path / "fastvsr"
    assert build([*_paper_args(tiny), "--output", str(out)]) == 0
    model = VSRModel.from_pretrained(out, torch_dtype=torch.float32)
    preset = load_config(InferConfig, [REPO / "configs/infer/paper_protocol.yaml"], ["device=cpu", "dtype=fp32"])
    assert preset.sample_posterior and preset.chunk_frames == 0 and preset.tile == 0 and preset.lossless
    lr = torch.rand(1, 3, 7, 16, 24, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        sampled = [upscale_video(model, lr, replace(preset, seed=seed)) for seed in (0, 0, 1)]
        mode = upscale_video(model, lr, replace(preset, sample_posterior=False))
    assert sampled[0].shape == (1, 3, 7, 64, 96)
    assert torch.equal(sampled[0], sampled[1])  # seeded
    assert not torch.equal(sampled[0], sampled[2]) and not torch.equal(sampled[0], mode)
