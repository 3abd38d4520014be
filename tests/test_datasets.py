"""Training dataset: documented shapes, sources of every kind, determinism per (seed, epoch, index), cache."""

import numpy as np
import pytest
import torch

from fastvsr.config import load_config
from fastvsr.data.datasets import VideoDatasetConfig, VideoSRDataset, cache_file, fill_cache, find_sources
from fastvsr.data.degradations import DegradationConfig, DegradationMode, bicubic_downscale
from fastvsr.data.video import read_video, write_video
from fastvsr.errors import ConfigError, InputError

BICUBIC = DegradationConfig(mode=DegradationMode.BICUBIC)


def config(sources, **kw):
    kw.setdefault("crop_size", [32, 48])
    return VideoDatasetConfig(sources=[str(s) for s in sources], **kw)


def test_realworld_items_have_documented_shapes_and_are_reproducible(sample_clip):
    ds = VideoSRDataset(config([sample_clip], num_frames=5, frame_stride=2, repeat=3))
    assert len(ds) == 3
    item = ds[1]
    assert item["gt"].shape == (3, 5, 32, 48) and item["lq"].shape == (3, 5, 8, 12)
    assert item["gt"].dtype == item["lq"].dtype == torch.float32
    assert 0 <= item["lq"].min() and item["lq"].max() <= 1
    assert item["name"].startswith("bbb_320x180_17f@")
    again = VideoSRDataset(config([sample_clip], num_frames=5, frame_stride=2, repeat=3))[1]
    assert torch.equal(item["gt"], again["gt"]) and torch.equal(item["lq"], again["lq"])
    ds.set_epoch(1)
    other = ds[1]
    assert not torch.equal(item["gt"], other["gt"])  # a new epoch draws new clips


def test_gt_is_a_strided_crop_of_the_source(sample_clip):
    ds = VideoSRDataset(config([sample_clip], num_frames=3, frame_stride=4, flip=False, degradation=BICUBIC))
    item = ds[0]
    start = int(item["name"].split("@")[1])
    full, _ = read_video(sample_clip)
    strided = full[:, start:start + 9:4]
    hits = [(top, left) for top in range(180 - 32 + 1) for left in range(320 - 48 + 1)
            if torch.equal(strided[:, :, top:top + 32, left:left + 48], item["gt"])]
    assert len(hits) == 1
    assert item["lq"].shape == (3, 3, 8, 12)


def test_lq_is_cut_from_a_larger_degraded_region_aligned_with_gt(sample_clip):
    ds = VideoSRDataset(config([sample_clip], num_frames=2, context=2.0, degradation=BICUBIC))
    for index in range(3):
        item = ds[index]
        reference = bicubic_downscale(item["gt"].transpose(0, 1), 4).transpose(0, 1)  # crop first, then resize
        assert item["lq"].shape == reference.shape == (3, 2, 8, 12)
        # away from the crop border (the bicubic support is 2 LR pixels) both orders give the same pixels
        torch.testing.assert_close(item["lq"][..., 2:-2, 2:-2], reference[..., 2:-2, 2:-2], atol=1e-5, rtol=0)
        assert not torch.allclose(item["lq"][..., :1, :], reference[..., :1, :], atol=1e-3)  # real context


def test_images_folders_and_errors(tmp_path, sample_clip):
    clip, _ = read_video(sample_clip, num_frames=6)
    write_video(tmp_path / "clips" / "frames", clip[..., :64, :64], 25)  # a folder of frames
    write_video(tmp_path / "photos" / "a.png", clip[:, :1], 25)
    write_video(tmp_path / "photos" / "b.png", clip[:, 1:2], 25)
    sources = find_sources([str(tmp_path / "clips")], image_folders=[str(tmp_path / "photos")])
    assert [p.name for p in sources] == ["frames", "a.png", "b.png"]
    ds = VideoSRDataset(config([tmp_path / "clips"], image_folders=[str(tmp_path / "photos")], num_frames=4))
    assert [tuple(ds[i]["gt"].shape) for i in range(3)] == [(3, 4, 32, 48), (3, 1, 32, 48), (3, 1, 32, 48)]
    with pytest.raises(InputError, match="1 sources have fewer than 7 frames: frames"):
        VideoSRDataset(config([tmp_path / "clips"], num_frames=4, frame_stride=2))
    with pytest.raises(InputError, match="smaller than the crop"):
        VideoSRDataset(config([tmp_path / "clips"], crop_size=[128, 128]))
    with pytest.raises(InputError, match="does not exist"):
        VideoSRDataset(config([tmp_path / "nothing"]))
    with pytest.raises(ConfigError, match="multiples of the scale"):
        load_config(VideoDatasetConfig, [], ["crop_size=[30,48]"])


def test_cache_holds_exactly_the_fresh_pairs(sample_clip, tmp_path):
    cfg = config([sample_clip], num_frames=3, repeat=2, cache_dir=str(tmp_path / "cache"))
    ds = VideoSRDataset(cfg)
    assert fill_cache(ds, epochs=2) == 4
    assert fill_cache(ds, epochs=2) == 0  # already there
    assert cache_file(cfg.cache_dir, 1, 1).is_file()
    fresh = VideoSRDataset(config([sample_clip], num_frames=3, repeat=2))
    for epoch in range(2):
        ds.set_epoch(epoch)
        fresh.set_epoch(epoch)
        for index in range(2):
            cached, made = ds[index], fresh[index]
            assert cached["name"] == made["name"]
            assert torch.equal(cached["gt"], made["gt"]) and torch.equal(cached["lq"], made["lq"])


def test_a_cache_refuses_the_pairs_of_another_data_config(sample_clip, tmp_path):
    cache = str(tmp_path / "cache")
    fill_cache(VideoSRDataset(config([sample_clip], num_frames=3, repeat=2, cache_dir=cache)), epochs=1)
    # where and how pairs are stored does not change them: the same cache serves
    VideoSRDataset(config([sample_clip], num_frames=3, repeat=2, cache_dir=cache, cache_epochs=4, keep_in_memory=True))
    with pytest.raises(InputError, match=r"holds the pairs of another data config \(it differs in crop_size, num_frames\)"):
        VideoSRDataset(config([sample_clip], num_frames=1, crop_size=[32, 32], repeat=2, cache_dir=cache))


def test_frames_kept_in_memory_give_exactly_the_items_read_from_disk(sample_clip, tmp_path, monkeypatch):
    clip, _ = read_video(sample_clip, num_frames=8)
    write_video(tmp_path / "frames", clip[..., :64, :96], 25)
    sources = [sample_clip, tmp_path / "frames"]
    kept = VideoSRDataset(config(sources, num_frames=3, frame_stride=2, repeat=3, keep_in_memory=True))
    read = VideoSRDataset(config(sources, num_frames=3, frame_stride=2, repeat=3))
    for index in range(len(kept)):
        a, b = kept[index], read[index]
        assert a["name"] == b["name"]
        assert torch.equal(a["gt"], b["gt"]) and torch.equal(a["lq"], b["lq"])
    # every source was decoded once; later items never touch the files
    monkeypatch.setattr("fastvsr.data.datasets.read_video_planes", lambda *a, **k: pytest.fail("decoded twice"))
    kept.set_epoch(1)
    assert kept[4]["gt"].shape == (3, 3, 32, 48)


def test_works_with_a_dataloader_and_epoch_indexing(sample_clip):
    from torch.utils.data import DataLoader

    ds = VideoSRDataset(config([sample_clip], num_frames=2, repeat=4, degradation=BICUBIC))
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["gt"].shape == (2, 3, 2, 32, 48) and batch["lq"].shape == (2, 3, 2, 8, 12)
    assert len(batch["name"]) == 2
    np.testing.assert_array_equal(batch["gt"][1].numpy(), ds[1]["gt"].numpy())


def test_an_image_with_motion_is_a_panned_clip(tmp_path):
    frames = torch.randint(0, 256, (3, 1, 56, 72), generator=torch.Generator().manual_seed(0)).float() / 255
    write_video(tmp_path / "photos" / "one.png", frames, 25)  # random pixels: every crop position is unique
    cfg = VideoDatasetConfig(image_folders=[str(tmp_path / "photos")], num_frames=4, image_motion=3,
                             crop_size=[32, 48], context=1.0, flip=False, degradation=BICUBIC, repeat=6)
    photo = frames[:, 0]
    seen_motion = False
    for index in range(6):
        gt = VideoSRDataset(cfg)[index]["gt"]
        assert gt.shape == (3, 4, 32, 48)
        # each frame is a crop of the photo, shifted from the last by one fixed integer velocity within +-3 px
        spots = [torch.nonzero(torch.stack([(photo[:, y:y + 32, x:x + 48] - gt[:, t]).abs().amax() == 0
                                            for y in range(photo.shape[1] - 31) for x in range(photo.shape[2] - 47)])
                               ).flatten()[0].item() for t in range(4)]
        width = photo.shape[2] - 47
        positions = [(s // width, s % width) for s in spots]
        steps = {(b[0] - a[0], b[1] - a[1]) for a, b in zip(positions, positions[1:])}
        assert len(steps) == 1 and all(abs(v) <= 3 for v in steps.pop())
        seen_motion |= positions[0] != positions[-1]
    assert seen_motion
    still = VideoSRDataset(VideoDatasetConfig(image_folders=[str(tmp_path / "photos")], num_frames=4,
                                              crop_size=[32, 48], degradation=BICUBIC))[0]
    assert still["gt"].shape == (3, 1, 32, 48)  # image_motion 0: a one-frame clip


def test_a_mixture_of_degradations_draws_one_per_item(sample_clip):
    blurry = load_config(DegradationConfig, [], ["first.noise.prob=0", "second.enabled=false", "final.sinc.prob=0",
                                                 "first.jpeg.quality=[95,95]", "first.codec.prob=0",
                                                 "first.resize.mode_probs=[0,0,1]"])
    cfg = config([sample_clip], num_frames=1, repeat=12, context=1.0, flip=False, degradation=BICUBIC,
                 degradations=[BICUBIC, blurry])
    ds = VideoSRDataset(cfg)
    kinds = set()
    for index in range(12):
        item = ds[index]
        clean = bicubic_downscale(item["gt"].transpose(0, 1), 4).transpose(0, 1)
        kinds.add(bool(torch.equal(item["lq"], clean)))
    assert kinds == {True, False}  # both entries were drawn
    with pytest.raises(ConfigError, match="must have data.degradation.scale = 4"):
        load_config(VideoDatasetConfig, [], ["degradations=[{scale: 2}]"])


def test_cache_epochs_reuse_the_first_epochs_pairs(sample_clip, tmp_path):
    cfg = config([sample_clip], num_frames=2, repeat=2, cache_dir=str(tmp_path / "cache"), cache_epochs=2)
    ds = VideoSRDataset(cfg)
    assert fill_cache(ds, epochs=10) == 2 * 2  # only the first two epochs are degraded
    ds.set_epoch(5)
    again = VideoSRDataset(cfg)
    again.set_epoch(1)
    assert torch.equal(ds[0]["lq"], again[0]["lq"])  # epoch 5 reads epoch 5 % 2 = 1
