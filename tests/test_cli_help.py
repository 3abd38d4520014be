"""The command lines people copy: examples in the scripts' docstrings load, --help is fast and shows defaults,
--print-config shows every key, a mistyped key names the nearest valid one."""

import ast
import shlex
import subprocess
import sys

import pytest
import yaml

from fastvsr.config import load_config, schema_keys
from fastvsr.errors import ConfigError
from fastvsr.pipeline.config import InferConfig
from fastvsr.train.vae import VAETrainConfig

CONFIG_SCRIPTS = ["infer", "evaluate", "degrade", "benchmark", "build_model", "gpu_check", "train_vae", "train_diffusion",
                  "train_turbo", "ablate_lower_bound"]


def docstring_examples(repo_root, name):
    """argv of every ``python scripts/<name>.py ...`` line of the script's docstring (continuations joined)."""
    doc = ast.get_docstring(ast.parse((repo_root / "scripts" / f"{name}.py").read_text())) or ""
    lines = doc.replace("\\\n", " ").splitlines()
    prefix = f"python scripts/{name}.py"
    return [shlex.split(line.strip(), comments=True)[2:] for line in lines if line.strip().startswith(prefix)]


@pytest.mark.parametrize("name", CONFIG_SCRIPTS)
def test_docstring_examples_are_valid_command_lines(name, script, repo_root, capsys, monkeypatch):
    monkeypatch.chdir(repo_root)
    examples = docstring_examples(repo_root, name)
    assert examples, f"scripts/{name}.py shows no example"
    for argv in examples:
        argv = [a for a in argv if a != "--resume"]
        assert script(name).main(argv + ["--print-config"]) == 0, argv
        printed = yaml.safe_load(capsys.readouterr().out)
        assert isinstance(printed, dict) and printed, argv


def test_help_answers_without_importing_torch(repo_root):
    code = ("import runpy, sys\n"
            "sys.argv = ['infer.py', '--help']\n"
            "try:\n    runpy.run_path('scripts/infer.py', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('TORCH', 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, check=True).stdout
    out = " ".join(out.split())  # argparse wraps help to the terminal's width
    assert "TORCH False" in out
    assert "--scale SCALE" in out and "upscale factor the model restores at (default: 4)" in out
    assert "(default: min(8, chunk // 4))" in out
    for key in ("chunk_frames=33", "tile=auto", "sample_posterior=False", "lr_multiple=1", "codec=h264"):
        assert key in out  # the config keys are listed with their defaults


def test_print_config_shows_every_key_resolved(script, capsys, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    assert script("infer").main(["--input", "x.mp4", "--config", "configs/infer/low_memory.yaml", "--tile", "32",
                                 "--memory-budget", "1.5", "seed=5", "--print-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert set(printed) == set(schema_keys(InferConfig))
    assert printed["tile"] == 32 and printed["seed"] == 5 and printed["memory_budget_gb"] == 1.5 and printed["chunk_overlap"] == 4  # the YAML's


def test_print_config_of_a_training_script_nests_the_model(script, capsys, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    assert script("train_vae").main(["--config", "configs/train/vae_f8_tiny.yaml", "--print-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert "vae" in printed["model"] and "max_steps" in printed["train"]


@pytest.mark.parametrize("schema, override, hint", [
    (InferConfig, "tiel=32", "did you mean 'tile'?"),
    (InferConfig, "chunk=9", "did you mean 'chunk_frames'?"),
    (VAETrainConfig, "data.batchsize=2", "did you mean 'train.batch_size'?"),
    (VAETrainConfig, "model.vae.pretraind=x", "did you mean 'model.vae.pretrained'?"),
    (VAETrainConfig, "train.max_step=3", "did you mean 'train.max_steps'?"),
])
def test_unknown_key_names_the_nearest_valid_one(schema, override, hint):
    with pytest.raises(ConfigError, match="unknown key") as info:
        load_config(schema, overrides=[override])
    assert hint in str(info.value)


def test_unknown_key_far_from_every_key_gets_no_guess():
    with pytest.raises(ConfigError) as info:
        load_config(InferConfig, overrides=["qqqqqq=1"])
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("overrides, chunk_overlap, tile_overlap", [
    ([], 8, 8), (["chunk_frames=4", "tile=3"], 1, 0), (["chunk_frames=0"], 0, 8), (["chunk_overlap=2"], 2, 8),
])
def test_overlaps_default_to_what_the_chunk_and_tile_allow(overrides, chunk_overlap, tile_overlap):
    cfg = load_config(InferConfig, overrides=overrides)
    assert (cfg.chunk_overlap, cfg.tile_overlap) == (chunk_overlap, tile_overlap)


def test_an_overlap_the_user_set_too_large_is_still_an_error():
    with pytest.raises(ConfigError, match="chunk_overlap must be in"):
        load_config(InferConfig, overrides=["chunk_frames=4", "chunk_overlap=5"])


def test_no_default_output_is_inside_the_repository_s_tracked_folders(script):
    from fastvsr.recipes.model_report import ReportConfig

    tracked = {"figs", "docs", "configs", "fastvsr", "tests", "scripts"}
    assert ReportConfig().out.parts[0] not in tracked
    for name in ("ablate_lower_bound", "gpu_check", "benchmark", "evaluate"):
        source = (script(name).__file__)
        defaults = [line for line in open(source).read().splitlines() if 'default="' in line or "default=Path(" in line]
        assert not any(f'"{folder}/' in line for line in defaults for folder in tracked), (name, defaults)
