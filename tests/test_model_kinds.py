"""Model kinds: the registry, a kind defined outside the package (tests/example_kind.py), and that every model
file of configs/ builds through the one description."""

from pathlib import Path

import pytest
import torch

from fastvsr.config import load_config
from fastvsr.errors import ConfigError
from fastvsr.models import ModelConfig, VSRModel, build_model, load_model, model_class
from fastvsr.models.kinds.fastvsr import FastVSRModel
from fastvsr.models.kinds.turbovsr import TurboVSRModel
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.upscale import upscale_video
from tests.example_kind import DecoderOnlyModel

DATA = Path(__file__).parent / "data"
CONFIGS = Path(__file__).parent.parent / "configs"


def test_builtin_kinds_and_import_paths_resolve():
    assert model_class("fastvsr") is FastVSRModel and model_class("turbovsr") is TurboVSRModel
    assert model_class("tests.example_kind:DecoderOnlyModel") is DecoderOnlyModel
    assert DecoderOnlyModel.kind == "tests.example_kind:DecoderOnlyModel"  # named by its import path
    for bad, message in (("nope", "unknown model kind 'nope'"), ("no.such.module:X", "cannot import no.such.module"),
                         ("tests.example_kind:Missing", "has no VSRModel subclass Missing"),
                         ("fastvsr.models.config:ModelConfig", "has no VSRModel subclass ModelConfig")):
        with pytest.raises(ConfigError, match=message):
            model_class(bad)
    with pytest.raises(ConfigError, match="unknown model kind"):
        load_config(ModelConfig, [], ["kind=nope"])


def test_each_kind_checks_the_combination_it_supports():
    tiny = str(CONFIGS / "models" / "turbovsr_tiny.yaml")
    with pytest.raises(ConfigError, match="kind=turbovsr decodes with its autoencoder"):
        load_config(ModelConfig, [tiny], ["decoder.kind=f16"])
    with pytest.raises(ConfigError, match="kind=turbovsr samples with sampler.schedule.kind=flow"):
        load_config(ModelConfig, [tiny], ["sampler.schedule.kind=cogvideox_v"])
    with pytest.raises(ConfigError, match="vae.kind=patchified has none to split"):
        load_config(ModelConfig, [CONFIGS / "models" / "fastvsr_tiny.yaml"], ["vae.kind=patchified", "vae.patch_size=4"])


MODEL_FILES = sorted([*(CONFIGS / "models").glob("fastvsr_*.yaml"), *(CONFIGS / "models").glob("turbovsr_*.yaml"),
                      *(CONFIGS / "default_model").glob("model*.yaml")])
MODEL_FILES = [p for p in MODEL_FILES if not p.stem.endswith("_ltx")]  # these load published folders (see
# tests/test_turbo_shortcut.py, which builds them from tiny ones)


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.name)
def test_every_model_file_builds_on_meta(path):
    model = build_model(load_config(ModelConfig, [path]), device="meta")
    assert isinstance(model, VSRModel) and all(p.is_meta for p in model.parameters())
    assert model.input_upscale(4) * model.decoder_factor == 4 * model.encoder_factor


def test_a_kind_from_one_module_and_one_yaml_runs_saves_and_loads(tmp_path):
    torch.manual_seed(0)
    model = build_model(load_config(ModelConfig, [DATA / "decoder_only.yaml"])).eval()
    assert isinstance(model, DecoderOnlyModel) and model.denoiser is None and model.input_upscale(4) == 2
    lr = torch.rand(1, 3, 5, 12, 20)
    cfg = InferConfig(device="cpu", scale=4, tile=0)
    sr = upscale_video(model, lr, cfg)
    with torch.no_grad():
        z, pad = model.encode_lr(lr, 4)
        assert torch.equal(model.restore(z), z)
        torch.testing.assert_close(sr, model.unpad_output(model.decode(z), pad).clamp(0, 1))
    folder = model.save_pretrained(tmp_path / "decoder_only")
    assert not (folder / "denoiser").exists()
    loaded = load_model(folder)
    assert type(loaded) is DecoderOnlyModel
    torch.testing.assert_close(upscale_video(loaded.eval(), lr, cfg), sr)


@pytest.mark.parametrize("schema, text, new_key", [
    ("vae", "vae_weights: runs/x/export\n", "model.vae.pretrained"),
    ("vae", "vae: {kind: spatiotemporal}\n", "model.vae"),
    ("diffusion", "decoder_weights: runs/y/export\n", "model.decoder.pretrained"),
    ("diffusion", "decoder: f8\n", "model.decoder.kind"),
    ("diffusion", "denoiser: {kind: unet}\n", "model.denoiser"),
    ("model", "decoder: vae\n", "decoder: {kind: f16}"),
    ("model", "f16: {expansion: copy}\n", "decoder.expansion"),
    ("bench", "variants: [baseline_f8]\n", "only=[baseline_f8,fastvsr_f16]"),
])
def test_yaml_written_for_the_old_description_names_the_new_key(tmp_path, schema, text, new_key):
    from fastvsr.bench.config import BenchConfig
    from fastvsr.train.diffusion import DiffusionTrainConfig
    from fastvsr.train.vae import VAETrainConfig

    schemas = {"vae": VAETrainConfig, "diffusion": DiffusionTrainConfig, "model": ModelConfig, "bench": BenchConfig}
    (tmp_path / "old.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(schemas[schema], [tmp_path / "old.yaml"])
    assert "\n" not in str(err.value) and "moved" in str(err.value) and new_key in str(err.value)
