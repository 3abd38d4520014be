"""Batches and processes in scripts/infer.py: what --input names (fastvsr.pipeline.batch's rule), where batch
outputs go, a bad file that does not stop the batch, --skip-existing, and 2 CPU processes (accelerate, gloo)
giving exactly the single-process outputs, for files split over processes and for one video split by frames."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fastvsr.cli import run_main
from fastvsr.data.video import read_video, write_video
from fastvsr.errors import InputError, OutputError
from fastvsr.pipeline.batch import batch_targets, resolve_inputs

REPO = Path(__file__).parent.parent
CHUNKS = ["chunk_frames=5", "chunk_overlap=2", "--quiet"]


@pytest.fixture(scope="module")
def infer(script):
    return script("infer")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """clips/{a.mp4, b.mkv, c/ (5 PNG frames)} cut from the sample clip."""
    root = tmp_path_factory.mktemp("batch") / "clips"
    video, info = read_video(REPO / "tests/data/bbb_320x180_17f.mp4", num_frames=13)
    write_video(root / "a.mp4", video[:, :9, :48, :64], info.fps)
    write_video(root / "b.mkv", video[:, 4:13, 60:108, 100:164], info.fps)
    write_video(root / "c", video[:, :5, :32, :32], info.fps)
    return root


def test_the_input_rule(clips, tmp_path):
    batch = resolve_inputs(clips)
    assert batch.batch and [c.name for c in batch.clips] == ["a.mp4", "b.mkv", "c"]
    frames = resolve_inputs(clips / "c")
    assert not frames.batch and frames.clips == [clips / "c"]  # a folder of only images is one clip
    globbed = resolve_inputs(f"{clips}/*.m*")
    assert globbed.batch and [c.name for c in globbed.clips] == ["a.mp4", "b.mkv"]
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "v.mp4").write_bytes((clips / "a.mp4").read_bytes())
    (mixed / "stray.png").write_bytes(next((clips / "c").glob("*.png")).read_bytes())
    with pytest.raises(InputError, match="also 1 loose image.*stray.png"):
        resolve_inputs(mixed)
    with pytest.raises(InputError, match="no video, image or frame folder matches"):
        resolve_inputs(f"{tmp_path}/*.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no video"):
        resolve_inputs(tmp_path / "empty")


def test_batch_outputs_keep_the_input_names(clips, tmp_path):
    inputs = resolve_inputs(clips)
    assert [t.name for t in batch_targets(inputs, None, 4)] == ["a.mp4", "b.mkv", "c"]
    assert batch_targets(inputs, None, 4)[0].parent == clips.parent / "clips_x4"
    assert batch_targets(inputs, tmp_path / "out", 2)[2] == tmp_path / "out" / "c"
    with pytest.raises(OutputError, match="is the input folder"):
        batch_targets(inputs, clips, 4)
    with pytest.raises(OutputError, match="must be a folder"):
        batch_targets(inputs, tmp_path / "out.mp4", 4)


def test_a_bad_file_is_reported_and_the_batch_goes_on_then_resumes(infer, clips, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.mp4").write_bytes((clips / "a.mp4").read_bytes())
    (folder / "broken.mp4").write_bytes(b"not a video at all")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        run_main(infer.main, ["--input", str(folder), "--output", str(out), "--device", "cpu", *CHUNKS])
    captured = capsys.readouterr()
    assert info.value.code == 1
    assert "1 written, 0 skipped, 1 failed" in captured.out
    assert [line for line in captured.err.splitlines() if "broken.mp4: error:" in line]
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4"]
    stamp = (out / "a.mp4").stat().st_mtime_ns
    with pytest.raises(SystemExit):
        run_main(infer.main, ["--input", str(folder), "--output", str(out), "--device", "cpu", "--skip-existing",
                              *CHUNKS])
    assert "0 written, 1 skipped, 1 failed" in capsys.readouterr().out
    assert (out / "a.mp4").stat().st_mtime_ns == stamp


def _launch(*args: str, cwd: Path, processes: int = 2) -> subprocess.CompletedProcess:
    """scripts/infer.py on ``processes`` CPU processes of one thread each (``processes=1``: a plain run, so
    the reference computes with the same kernels: oneDNN's float rounding depends on the thread count)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    launch = ["-m", "accelerate.commands.launch", "--config_file", str(REPO / "configs/accelerate/ddp_cpu.yaml")]
    cmd = [sys.executable, *(launch if processes > 1 else []), str(REPO / "scripts/infer.py"), *args, *CHUNKS]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _frames(path: Path) -> torch.Tensor:
    return read_video(path)[0]


def test_two_processes_split_files_and_frames_and_match_one(clips, tmp_path):
    single = tmp_path / "single"
    assert _launch("--input", str(clips), "--output", str(single), "--device", "cpu", cwd=tmp_path,
                   processes=1).returncode == 0
    proc = _launch("--input", str(clips), "--output", str(tmp_path / "two"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "3 written, 0 skipped, 0 failed" in proc.stdout
    for name in ("a.mp4", "b.mkv", "c"):
        assert torch.equal(_frames(single / name), _frames(tmp_path / "two" / name)), name

    long = tmp_path / "long"  # 17 frames: 5 chunks of 5 overlapping by 2, split 3 + 2 over the processes
    write_video(long, read_video(REPO / "tests/data/bbb_320x180_17f.mp4")[0][:, :, :48, :64], 25)
    assert _launch("--input", str(long), "--output", str(tmp_path / "long_one"), "--device", "cpu", cwd=tmp_path,
                   processes=1).returncode == 0
    proc = _launch("--input", str(long), "--output", str(tmp_path / "long_two"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    one, two = (sorted((tmp_path / n).glob("*.png")) for n in ("long_one", "long_two"))
    assert len(one) == len(two) == 17
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(one, two))  # PNG bytes, frame for frame
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch left behind


@pytest.mark.parametrize("count", [2, 3, 5, 7])
def test_parts_of_a_video_concatenate_to_the_whole(count):
    """Each part restores its chunks (after the previous one, for the cross-fade); more parts than chunks leave
    some empty. Chunk i is seeded with seed + i, so sampling noise does not depend on the split either."""
    from fastvsr.pipeline.config import InferConfig
    from fastvsr.pipeline.loading import load_inference_model
    from fastvsr.pipeline.upscale import chunk_share, upscale_stream

    video = read_video(REPO / "tests/data/bbb_320x180_17f.mp4")[0][:, :, :32, :48]
    cfg = InferConfig(device="cpu", chunk_frames=5, chunk_overlap=2, tile=0)
    model = load_inference_model(None, cfg)
    blocks = [(0, video[:, :7]), (7, video[:, 7:])]
    whole = torch.cat([p.sr for p in upscale_stream(model, blocks, 17, cfg, progress=False)], dim=1)
    parts = [p.sr for k in range(count) for p in upscale_stream(model, blocks, 17, cfg, False, part=(k, count))]
    assert torch.equal(torch.cat(parts, dim=1), whole)
    assert sum(len(chunk_share(5, (k, count))) for k in range(count)) == 5


def test_the_split_path_keeps_ten_bit_samples(tmp_path):
    """The parts of a split video hold the writer's own samples (16-bit for a 10-bit output), so the video the
    main process writes from them equals the one-process video: more than 8 bits survive (one worker here)."""
    from fastvsr.pipeline.config import InferConfig
    from fastvsr.pipeline.files import plan_outputs, write_outputs, write_outputs_split
    from fastvsr.pipeline.loading import load_inference_model
    from fastvsr.pipeline.workers import Workers

    clip = read_video(REPO / "tests/data/bbb_320x180_17f.mp4")[0][:, :5, :32, :48]
    source = write_video(tmp_path / "in.mp4", clip, 25)
    cfg = InferConfig(device="cpu", tile=0, codec="ffv1", pix_fmt="yuv444p10le")
    model = load_inference_model(None, cfg)
    one = write_outputs(plan_outputs(source, tmp_path / "one.mkv", cfg), model, cfg, progress=False)[0]
    split_plan = plan_outputs(source, tmp_path / "split.mkv", cfg)
    split = write_outputs_split(split_plan, model, cfg, Workers(), progress=False)[0]
    frames, info = read_video(split)
    assert info.bit_depth == 10 and torch.equal(frames, read_video(one)[0])
    levels = frames * 255
    assert (levels - levels.round()).abs().max() > 0.25  # values between 8-bit levels: not quantised to 8 bits
