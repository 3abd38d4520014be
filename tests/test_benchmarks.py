"""Benchmark sets: registry, LQ/GT pairing by name on a small layout, one-line errors, loaded shapes."""

import pytest
import torch

from fastvsr.data.benchmarks import BENCHMARKS, BenchmarkDataset, pair_benchmark
from fastvsr.data.video import write_video
from fastvsr.errors import InputError


def frames(t, h, w, value):
    return torch.full((3, t, h, w), value)


def make_set(root, folder, lq, gt, lq_dir="LQ", gt_dir="GT", lq_video=False):
    """LQ clips (frame folders or .mp4) and GT frame folders; each clip's frames have a distinct value."""
    for i, name in enumerate(lq):
        target = root / folder / lq_dir / (f"{name}.mp4" if lq_video else name)
        write_video(target, frames(3, 16, 16, 0.1 + 0.1 * i), 25, crf=0)
    for i, name in enumerate(gt):
        write_video(root / folder / gt_dir / name, frames(3, 64, 64, 0.1 + 0.1 * i), 25)


def test_registry_scales():
    assert {n: s.scale for n, s in BENCHMARKS.items()} == {"udm10": 4, "spmcs": 4, "youhq40": 4, "realvsr": 1,
                                                           "mvsr4x": 1, "videolq": 4}
    assert not BENCHMARKS["videolq"].has_gt and BENCHMARKS["udm10"].has_gt


def test_pairs_by_name_and_loads(tmp_path):
    make_set(tmp_path, "UDM10", ["calendar", "city"], ["calendar", "city"], lq_dir="LQ-Video", lq_video=True)
    pairs = pair_benchmark("UDM10", tmp_path)
    assert [(p.name, p.lq.name, p.gt.name) for p in pairs] == [("calendar", "calendar.mp4", "calendar"),
                                                              ("city", "city.mp4", "city")]
    ds = BenchmarkDataset("udm10", tmp_path / "UDM10")  # the set's own folder works too
    item = ds[1]
    assert item["name"] == "city" and item["scale"] == 4
    assert item["lq"].shape == (3, 3, 16, 16) and item["gt"].shape == (3, 3, 64, 64)
    assert abs(item["lq"].mean() - 0.2) < 0.01 and abs(item["gt"].mean() - 0.2) < 0.01  # matched, not swapped


def test_missing_partners_are_listed_in_one_line(tmp_path):
    make_set(tmp_path, "UDM10", ["calendar"], ["calendar", "foo", "bar"])
    with pytest.raises(InputError) as err:
        pair_benchmark("udm10", tmp_path)
    assert str(err.value) == "udm10: 2 GT clips have no LQ: bar, foo"
    make_set(tmp_path, "SPMCS", ["a", "b"], ["a"])
    with pytest.raises(InputError, match="^spmcs: 1 LQ clips have no GT: b$"):
        pair_benchmark("spmcs", tmp_path)
    with pytest.raises(InputError, match="no GT folder"):
        make_set(tmp_path, "MVSR4x", ["a"], [])
        pair_benchmark("mvsr4x", tmp_path)
    with pytest.raises(InputError, match="unknown benchmark 'reds4'"):
        pair_benchmark("reds4", tmp_path)


def test_lq_only_and_x1_sets(tmp_path):
    make_set(tmp_path, "VideoLQ", ["000", "001"], [])
    ds = BenchmarkDataset("videolq", tmp_path)
    assert len(ds) == 2 and "gt" not in ds[0] and ds[0]["lq"].shape == (3, 3, 16, 16)
    (tmp_path / "RealVSR" / "GT").mkdir(parents=True)
    write_video(tmp_path / "RealVSR" / "GT" / "x", frames(3, 16, 16, 0.5), 25)
    write_video(tmp_path / "RealVSR" / "LQ" / "x", frames(3, 16, 16, 0.4), 25)
    item = BenchmarkDataset("RealVSR", tmp_path)[0]
    assert item["scale"] == 1 and item["lq"].shape == item["gt"].shape
    write_video(tmp_path / "RealVSR" / "GT" / "y", frames(4, 16, 16, 0.5), 25)
    write_video(tmp_path / "RealVSR" / "LQ" / "y", frames(3, 16, 16, 0.4), 25)
    with pytest.raises(InputError, match="^realvsr/y: LQ has 3 frames but GT has 4$"):
        BenchmarkDataset("realvsr", tmp_path)[1]
