"""fastvsr.bench: MAC counting (hand-computed, both conventions, paper scale on meta), timing, memory, report
files and scripts/benchmark.py end to end in-process."""

import json
import statistics
import time

import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from fastvsr.bench.config import BenchConfig
from fastvsr.bench.macs import MacCount, StageMacs, count_macs
from fastvsr.bench.memory import PeakMemory, track_peak_memory
from fastvsr.bench.report import render_markdown, write_report
from fastvsr.bench.results import BenchReport, Target, VariantResult
from fastvsr.bench.run import NO_GPU, count_variants, latency_note, run_benchmark
from fastvsr.bench.timing import Timing, time_stages
from fastvsr.config import load_config
from tests.conftest import load_script

TINY_VARIANTS = ("baseline_f8", "fastvsr_f16", "turbovsr")
TINY_OVERRIDES = [  # a few hundred MMACs: the whole CLI run takes a few seconds on 2 cores
    *(f"models.{name}.vae.block_out_channels=[8,8,8,8]" for name in TINY_VARIANTS),
    *(f"models.{name}.vae.norm_num_groups=4" for name in TINY_VARIANTS),
    *(f"models.{name}.denoiser.unet.block_out_channels=[8,16]" for name in TINY_VARIANTS),
    "clip.frames=1", "clip.lr_height=16", "clip.lr_width=16",
    "clip.batch=2", "timing.warmup=0", "timing.repeats=1",  # batch 2: oneDNN convs (see configs/bench/tiny.yaml)
    f"only=[{','.join(TINY_VARIANTS)}]",
]


class TinyAttention(nn.Module):
    """q/k/v/out projections around scaled_dot_product_attention: (B, L, D) -> (B, L, D)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, length, dim = x.shape
        q, k, v = self.qkv(x).reshape(b, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.out(y.transpose(1, 2).reshape(b, length, dim))


def test_conv_and_linear_macs_equal_hand_computed_values():
    conv = nn.Conv3d(4, 8, kernel_size=3, padding=1)
    macs, out = count_macs(lambda: conv(torch.randn(2, 4, 5, 6, 7)))
    assert out.shape == (2, 8, 5, 6, 7)
    assert macs == MacCount(total=2 * 8 * 5 * 6 * 7 * (4 * 3 * 3 * 3), attention=0)  # outputs x taps
    linear = nn.Linear(16, 32)
    macs, _ = count_macs(lambda: linear(torch.randn(3, 10, 16)))
    assert macs.total == 3 * 10 * 16 * 32 and macs.without_attention == macs.total

    stages = StageMacs()
    with stages.stage("a"):
        linear(torch.randn(1, 16))
    with stages.stage("b"):
        linear(torch.randn(4, 16))
    with stages.stage("a"):
        linear(torch.randn(2, 16))
    assert stages.macs == {"a": MacCount(3 * 16 * 32), "b": MacCount(4 * 16 * 32)}


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_attention_products_are_split_from_the_rest(device):
    b, length, dim, heads = 2, 12, 16, 4
    module = TinyAttention(dim, heads).to(device)
    macs, _ = count_macs(lambda: module(torch.zeros(b, length, dim, device=device)))
    projections = b * length * dim * 3 * dim + b * length * dim * dim
    attention = b * heads * length * length * (dim // heads) * 2  # Q K^T and P V
    assert macs.attention == attention
    assert macs.without_attention == projections
    assert macs.total == projections + attention


def test_paper_scale_macs_on_meta_match_table_2_without_allocating(repo_root):
    cfg = load_config(BenchConfig, [repo_root / "configs/bench/paper.yaml"], ["only=[baseline_f8,fastvsr_f16,turbovsr]"])
    with track_peak_memory(torch.device("cpu")) as memory:
        results = count_variants(cfg)
    assert memory.added_bytes < 1.5 * 2**30  # 5.8 B fp32 weights would be 23 GB
    f8, f16 = results["baseline_f8"], results["fastvsr_f16"]
    turbo = results["turbovsr"]  # 32x32x8 AE + LTX-Video 2B DiT, one token per latent cell
    assert turbo.latent == (128, 5, 23, 40) and turbo.tokens == 5 * 23 * 40 and turbo.output == (33, 720, 1280)
    assert turbo.macs["denoise"].attention > 0 and turbo.total_macs.without_attention < f16.total_macs.total
    assert abs(f8.params - 5787.19e6) / 5787.19e6 < 0.001  # DOVE's parameter count (DiT + VAE)
    assert f8.params == f16.params  # the f16 decoder's expansion has no parameters
    for result, paper in ((f8, 504.8e12), (f16, 125.7e12)):
        assert abs(result.total_macs.without_attention / paper - 1) < 0.05
        assert result.total_macs.attention > 0 and result.output == (33, 720, 1280)
    assert f8.latent == (16, 9, 90, 160) and f16.latent == (16, 9, 46, 80)  # 360 padded to 368 for patch 2
    assert f8.macs["denoise"].total == pytest.approx(172.43e12, rel=1e-3)  # the bmm + addmm count of macs.md
    assert f8.macs["decode"].total / f16.macs["decode"].total == pytest.approx(4 * 90 / 92, rel=0.02)


def test_timing_takes_medians_after_warmup_and_breaks_down_stages():
    calls = {"slow": 0, "fast": 0}

    def run(name, seconds, clock):
        calls[name] += 1
        with clock.stage("first"):
            time.sleep(seconds)
        with clock.stage("second"):
            time.sleep(seconds / 2)

    runs = {"slow": lambda clock: run("slow", 0.02, clock), "fast": lambda clock: run("fast", 0.005, clock)}
    timings = time_stages(runs, torch.device("cpu"), repeats=3, warmup=2)
    assert calls == {"slow": 5, "fast": 5}
    slow, fast = timings["slow"], timings["fast"]
    assert slow.repeats == 3 and slow.warmup == 2 and set(slow.stages) == {"first", "second"}
    assert slow.stages["first"] >= 0.02 and slow.stages["second"] >= 0.01
    # every sample spans both stages' sleeps (a median of sums is not a sum of medians, so compare with the sleeps)
    assert min(slow.samples) >= 0.03 and slow.total >= 0.03
    assert slow.total > fast.total


def test_peak_memory_sees_an_allocation_after_a_larger_earlier_one():
    device = torch.device("cpu")
    with track_peak_memory(device) as big:
        x = torch.ones(64 * 2**20 // 4)  # 64 MiB
        del x
    with track_peak_memory(device) as small:
        x = torch.ones(16 * 2**20 // 4)  # 16 MiB
        del x
    assert big.added_bytes >= 60 * 2**20
    if small.resettable:  # Linux: the high-water mark is reset per block
        assert 14 * 2**20 <= small.added_bytes < 48 * 2**20


def _synthetic_report() -> BenchReport:
    def variant(name, scale, samples, memory):
        seconds = statistics.median(samples)
        macs = {"encode": MacCount(10 * scale), "denoise": MacCount(6 * scale, 2 * scale),
                "decode": MacCount(20 * scale)}
        timing = Timing(total=seconds, stages={"encode": seconds / 4, "decode": seconds / 2}, samples=samples)
        return VariantResult(name=name, label=f"{name} label", params=1_000_000, weight_bytes=4_000_000, macs=macs,
                             encoder_input=(9, 64, 64), latent=(4, 3, 8, 8), output=(9, 128, 128), timing=timing,
                             memory=PeakMemory("test", 0, memory))
    # interleaved rounds: per-round f8/f16 ratios 4, 6, 2 (median 4); ratio of the medians 2.0 / 0.5 = 4 too
    variants = [variant("baseline_f8", 4e9, [2.0, 6.0, 1.8], 36_000_000),
                variant("fastvsr_f16", 1e9, [0.5, 1.0, 0.9], 6_000_000)]
    targets = [Target("baseline_f8 MACs (T, w/o attention)", 0.136, 0.136, 0.05),
               Target("latency ratio f8/f16", 3.5, 4.0, kind="at_least")]
    return BenchReport("unit", "Unit report", "CPU (2 threads)", "fp32",
                       {"frames": 9, "lr_height": 32, "lr_width": 32, "scale": 4, "batch": 2}, variants, targets)


def test_report_writer_produces_markdown_json_and_png(tmp_path):
    report = _synthetic_report()
    paths = write_report(report, tmp_path / "out")
    assert [p.name for p in paths] == ["report.md", "report.json", "report.png"]
    md = paths[0].read_text()
    assert md == render_markdown(report)
    assert "| baseline_f8 | baseline_f8 label |" in md
    assert "MACs 4.00x (all), 4.00x (w/o attention), latency 2.22x (per-round median 4.00x), peak memory 4.00x" in md
    assert "- [x] latency ratio f8/f16: 4.00 (target >= 3.5)" in md
    data = json.loads(paths[1].read_text())
    f16 = data["variants"][1]
    assert f16["total_macs"] == {"total": 36e9, "attention": 2e9, "without_attention": 34e9}
    assert f16["fps"] == 18 / 0.9 and f16["ratios_vs_baseline"]["latency_paired"] == 4.0
    assert [t["met"] for t in data["targets"]] == [True, True]
    with Image.open(paths[2]) as png:
        assert png.format == "PNG" and png.width > 400


def test_cli_end_to_end_on_a_tiny_config(repo_root, tmp_path, capsys):
    script = load_script("benchmark")
    out = tmp_path / "bench"
    assert script.main(["--config", str(repo_root / "configs/bench/tiny.yaml"), "--out", str(out), "--quiet",
                        *TINY_OVERRIDES]) == 0
    printed = capsys.readouterr().out
    assert "ratio baseline_f8 / fastvsr_f16" in printed and f"wrote {out / 'report.png'}" in printed
    data = json.loads((out / "report.json").read_text())
    by_name = {v["name"]: v for v in data["variants"]}
    assert set(by_name) == {"baseline_f8", "fastvsr_f16", "turbovsr"}
    f8, f16 = by_name["baseline_f8"], by_name["fastvsr_f16"]
    assert f8["output"] == f16["output"] == [1, 64, 64]
    assert f8["timing"]["total"] > 0 and f16["timing"]["total"] > 0 and f8["peak_memory_bytes"] > 0
    assert f8["total_macs"]["total"] / f16["total_macs"]["total"] > 3  # everything before the head at 1/4
    assert by_name["turbovsr"]["timing"]["total"] > 0
    assert by_name["turbovsr"]["output"] == [1, 64, 64] and by_name["turbovsr"]["tokens"] == 1 * 2 * 2


def test_latency_off_on_cpu_says_no_gpu_and_user_errors_exit_2(repo_root, tmp_path, capsys):
    script = load_script("benchmark")
    paper = load_config(BenchConfig, [repo_root / "configs/bench/paper.yaml"], ["timing.device=cpu"])
    assert latency_note(paper) == NO_GPU == "n/a (no GPU)"  # paper scale on a CPU: MACs only
    cfg = load_config(BenchConfig, [repo_root / "configs/bench/tiny.yaml"], [*TINY_OVERRIDES, "timing.cpu=false"])
    report = run_benchmark(cfg)
    assert all(v.timing is None and v.memory is None for v in report.variants)
    md = render_markdown(report)
    assert "| baseline_f8 | x4 upscale, f8 decode, 1 step |" in md and md.count("n/a (no GPU)") >= 2 * 3
    assert "latency - (per-round median -), peak memory -" in md
    assert "- [ ] latency ratio baseline_f8/fastvsr_f16: target 3.5, not measured" in md

    with pytest.raises(SystemExit) as exit_info:
        script.run_main(script.main, ["--config", str(repo_root / "configs/bench/tiny.yaml"), "only=[f4]"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "unknown variant 'f4'" in err and err.count("\n") == 1
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_info:  # refused before any model is built
        script.run_main(script.main, ["--config", str(repo_root / "configs/bench/tiny.yaml"), "--out", str(blocker)])
    assert exit_info.value.code == 2 and "cannot create folder" in capsys.readouterr().err


@pytest.mark.gpu
def test_cuda_latency_and_peak_memory_are_measured(repo_root, tmp_path):
    cfg = load_config(BenchConfig, [repo_root / "configs/bench/tiny.yaml"], [*TINY_OVERRIDES, "timing.device=cuda"])
    report = run_benchmark(cfg)
    for name in ("baseline_f8", "fastvsr_f16"):
        variant = report.variant(name)
        assert variant.timing.total > 0 and variant.memory.kind == "CUDA peak allocated"
        assert variant.peak_memory_bytes > variant.weight_bytes
    assert report.device != "cpu" and "CPU" not in report.device
