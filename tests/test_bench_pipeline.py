"""The inference-pipeline benchmark (fastvsr.bench.pipeline, scripts/benchmark.py --pipeline) on a tiny model
and one frame, in-process (the real runs start one process per restoration); nothing is timed."""

import json

import pytest

from fastvsr.bench import pipeline
from fastvsr.bench.config import PipelineBenchConfig
from fastvsr.config import load_config
from fastvsr.errors import ConfigError
from tests.conftest import load_script
from tests.test_infer_cli import tiny_model_dir  # noqa: F401  (fixture)


@pytest.mark.parametrize("name", ["default_cpu", "default_cpu_memory"])
def test_shipped_configs_load(repo_root, name):
    cfg = load_config(PipelineBenchConfig, [repo_root / "configs" / "bench" / f"{name}.yaml"])
    assert cfg.baseline in cfg.variants and cfg.name == name


def test_bad_variants_are_one_line_errors():
    with pytest.raises(ConfigError, match="planner fixed needs an int tile"):
        load_config(PipelineBenchConfig, overrides=["variants={a: {planner: fixed}}"])
    with pytest.raises(ConfigError, match="baseline 'b' is not a variant"):
        load_config(PipelineBenchConfig, overrides=["variants={a: {}}", "baseline=b"])


def test_benchmark_end_to_end_in_process(repo_root, tiny_model_dir, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setattr(pipeline, "run_worker", pipeline.restore_in_process)
    monkeypatch.chdir(repo_root)
    out, config = tmp_path / "bench", tmp_path / "tiny.yaml"
    config.write_text("variants: {fixed: {tile: 16, planner: fixed}, even: {tile: 16}, auto: {}}\n")
    argv = ["--pipeline", "--config", str(config), "--out", str(out), "--quiet", f"model={tiny_model_dir}",
            "clip=tests/data/carphone_176x144_9f.mp4", "frames=1", "scale=2", "warmup=0", "repeats=1"]
    assert load_script("benchmark").main(argv) == 0
    assert f"wrote {out / 'report.md'}" in capsys.readouterr().out
    data = {r["name"]: r for r in json.loads((out / "report.json").read_text())["results"]}
    fixed, even, auto = data["fixed"], data["even"], data["auto"]
    assert fixed["input_shape"] == even["input_shape"] == [1, 3, 1, 144, 176]  # x1, then the f8 latent 18 x 22
    assert len(fixed["tiles"]) == len(even["tiles"]) == 2 * 2 and len(auto["tiles"]) == 1
    assert fixed["computed_pixels"] == 4 * 16 * 16 > even["computed_pixels"] == 4 * 12 * 14 > 18 * 22
    assert auto["computed_pixels"] == 18 * 22
    assert fixed["macs"] > even["macs"] > auto["macs"] > 0 and fixed["max_abs_diff"] == 0
    assert all(r["runs"][0]["estimate_bytes"] > 0 and r["runs"][0]["user_s"] >= 0 for r in data.values())
    md = (out / "report.md").read_text()
    assert "| fixed | 16 | fixed |" in md and "2x2 of 16x16" in md and "2x2 of 12x14" in md and "1x1 of 18x22" in md
