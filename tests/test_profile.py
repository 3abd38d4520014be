"""Stage timing (fastvsr.pipeline.profile) and ``scripts/infer.py --profile``."""

import time

import torch

from fastvsr.pipeline.profile import StageClock, profile_table, profiling, stage, timed_iter


def test_stages_add_up_nested_ones_count_for_the_outer_and_nothing_runs_without_a_clock():
    with stage("free"):  # no clock active: a no-op
        pass
    clock = StageClock("cpu")
    start = time.perf_counter()
    with profiling(clock):
        with stage("outer"):
            time.sleep(0.02)
            with stage("inner"):  # charged to outer
                time.sleep(0.02)
        for _ in timed_iter(iter([1, 2, 3]), "read"):
            with stage("work"):
                time.sleep(0.01)
    total = time.perf_counter() - start
    assert set(clock.stages) == {"outer", "read", "work"}
    assert clock.stages["outer"].wall_s >= 0.04 and clock.stages["outer"].calls == 1
    assert clock.stages["read"].calls == 4  # three items and the end
    assert clock.stages["work"].calls == 3 and clock.stages["work"].wall_s >= 0.03
    assert sum(s.wall_s for s in clock.stages.values()) <= total
    rows = profile_table(clock, total)
    assert [r[0] for r in rows] == ["outer", "work", "read", "other", "total"]  # slowest first
    with stage("after"):
        pass
    assert "after" not in clock.stages  # the clock is no longer active


def test_infer_profile_prints_the_pipeline_stages(script, tmp_path, capsys, sample_clip, repo_root):
    from fastvsr.config import load_config
    from fastvsr.models import ModelConfig, build_model

    torch.manual_seed(0)
    model = build_model(load_config(ModelConfig, [repo_root / "configs/models/fastvsr_tiny.yaml"]))
    model_dir = model.save_pretrained(tmp_path / "tiny")
    code = script("infer").main(["--input", str(sample_clip), "--output", str(tmp_path / "out.mp4"), "--model",
                                 str(model_dir), "--scale", "2", "--quiet", "--profile", "--chunk", "9"])
    assert code == 0 and (tmp_path / "out.mp4").is_file()
    err = capsys.readouterr().err
    for name in ("load model", "read input", "plan tiles", "encode", "restore (denoiser)", "decode",
                 "cross-fade chunks", "write output", "other", "total"):
        assert name in err, name
