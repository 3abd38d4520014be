"""Background reading and writing (fastvsr.pipeline.overlap): same items, same order, errors carried over."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import torch

from fastvsr.data.video import VideoWriter, read_video, write_video
from fastvsr.errors import OutputError
from fastvsr.ops.resize import resize_video
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.files import plan_outputs, write_outputs
from fastvsr.pipeline.overlap import BackgroundWriter, read_ahead


def test_read_ahead_yields_the_items_in_order_from_another_thread():
    producers = []

    def items():
        for i in range(7):
            producers.append(threading.current_thread().name)
            yield i

    assert list(read_ahead(items(), depth=2)) == list(range(7))
    assert set(producers) == {"fastvsr-read-ahead"}
    assert list(read_ahead(iter([]), depth=1)) == []
    assert list(read_ahead(range(3), depth=0)) == [0, 1, 2]


def test_read_ahead_produces_while_the_consumer_works():
    produced = []

    def items():
        for i in range(3):
            produced.append(i)
            yield i

    stream = read_ahead(items(), depth=1)
    assert next(stream) == 0
    deadline = time.monotonic() + 5
    while len(produced) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert produced[:2] == [0, 1]  # item 1 was made before the consumer asked for it
    assert list(stream) == [1, 2]


def test_read_ahead_raises_the_producers_error_where_its_item_would_come():
    def items():
        yield 1
        raise ValueError("broken frame 2")

    stream = read_ahead(items(), depth=4)
    assert next(stream) == 1
    with pytest.raises(ValueError, match="broken frame 2"):
        next(stream)


def test_read_ahead_stops_its_thread_when_the_consumer_leaves():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    before = threading.active_count()
    for i in read_ahead(endless(), depth=1):
        if i == 3:
            break
    time.sleep(0.3)
    assert threading.active_count() == before


def test_background_writer_writes_every_item_in_order_on_its_thread():
    written, threads = [], set()

    def write(item):
        time.sleep(0.01)
        threads.add(threading.current_thread().name)
        written.append(item)

    with BackgroundWriter(write, depth=2) as writer:
        for i in range(10):
            writer.write(i)
    assert written == list(range(10))  # all done when the block ends
    assert threads == {"fastvsr-writer"}


def test_background_writer_raises_a_write_error_in_the_callers_thread():
    def write(item):
        if item == 2:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        with BackgroundWriter(write) as writer:
            for i in range(50):
                writer.write(i)
                time.sleep(0.01)


def test_background_writer_error_on_the_last_item_is_raised_at_close():
    def write(item):
        raise OSError("cannot encode")

    writer = BackgroundWriter(write)
    writer.write(0)
    with pytest.raises(OSError, match="cannot encode"):
        writer.close()


def test_background_writer_drops_queued_items_when_the_caller_fails():
    written = []
    started, release = threading.Event(), threading.Event()

    def write(item):
        started.set()
        release.wait(5)
        written.append(item)

    with pytest.raises(KeyError):
        with BackgroundWriter(write, depth=3) as writer:
            for i in range(3):
                writer.write(i)
            assert started.wait(5)
            threading.Timer(0.2, release.set).start()  # item 0 finishes after the caller has failed
            raise KeyError("restore failed")
    assert written == [0]  # the item being written when the caller failed; the queued ones are dropped
    with pytest.raises(ValueError):
        BackgroundWriter(write, depth=0)


# --- file-level inference: the background threads change nothing in the files ------------------------------


@pytest.fixture(scope="module")
def tiny_model():
    from fastvsr.config import load_config
    from fastvsr.models import ModelConfig, build_model

    torch.manual_seed(0)
    cfg = load_config(ModelConfig, [Path(__file__).parents[1] / "configs" / "models" / "fastvsr_tiny.yaml"])
    return build_model(cfg).eval()


@pytest.fixture
def clip(tmp_path, sample_clip) -> Path:
    """11 frames of 32x48 (more than one chunk and one read block)."""
    frames, _ = read_video(sample_clip, num_frames=11)
    small = resize_video(frames[None], (32, 48), "bicubic", antialias=True)[0].clamp(0, 1)
    return write_video(tmp_path / "clip.mp4", small, 25, lossless=True)


def restore(clip: Path, model, out: Path, **settings) -> list[Path]:
    cfg = InferConfig(device="cpu", chunk_frames=5, chunk_overlap=2, **settings)
    plan = plan_outputs(clip, out, cfg, compare=True)
    return write_outputs(plan, model, cfg, progress=False)


def test_overlapped_io_writes_the_same_files_as_inline_io(clip, tiny_model, tmp_path):
    inline = restore(clip, tiny_model, tmp_path / "inline.mkv", overlap_io=False, lossless=True)
    overlapped = restore(clip, tiny_model, tmp_path / "overlapped.mkv", overlap_io=True, lossless=True)
    for a, b in zip(inline, overlapped, strict=True):
        assert torch.equal(read_video(a)[0], read_video(b)[0]), b.name


def test_a_write_failing_on_the_writer_thread_is_raised_and_leaves_no_output(clip, tiny_model, tmp_path,
                                                                              monkeypatch):
    writes = []
    original = VideoWriter.write

    def failing(self, frames):
        writes.append(threading.current_thread().name)
        if len(writes) == 2:
            raise OutputError("disk full")
        return original(self, frames)

    monkeypatch.setattr(VideoWriter, "write", failing)
    out = tmp_path / "out.mp4"
    with pytest.raises(OutputError, match="disk full"):
        restore(clip, tiny_model, out, overlap_io=True)
    assert writes[0] == "fastvsr-writer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]  # no output, no temporary
