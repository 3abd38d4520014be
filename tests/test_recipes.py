"""The recipes' building blocks: files out of registry packages (synthetic .deb and wheel, no network), the
recipe's photo pans and path moves, and the model report on any model folder and clip."""

import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fastvsr.config import load_config
from fastvsr.errors import InputError
from fastvsr.models import ModelConfig, build_model
from fastvsr.recipes.default_model import (
    PanSpec,
    PhotoSpec,
    RecipeConfig,
    replace_prefix,
    run_stage,
    stage_config,
    write_pan,
)
from fastvsr.recipes.packages import download_package, extract_file


def make_deb(path: Path, files: dict[str, bytes]) -> Path:
    """A minimal Debian package: an ar archive with debian-binary and data.tar.xz holding ``files``."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    members = [("debian-binary", b"2.0\n"), ("data.tar.xz", data.getvalue())]
    with path.open("wb") as out:
        out.write(b"!<arch>\n")
        for name, content in members:
            out.write(f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(content):<10}`\n".encode())
            out.write(content + (b"\n" if len(content) % 2 else b""))
    return path


def test_files_come_out_of_debs_and_wheels_without_installing(tmp_path):
    deb = make_deb(tmp_path / "photos-pkg_1.0_all.deb", {"usr/share/pics/a.jpg": b"JPEG!", "usr/share/x": b"odd"})
    assert download_package("debian", "photos-pkg", tmp_path) == deb  # cached: no download
    assert extract_file(deb, "usr/share/pics/a.jpg", tmp_path / "out" / "a.jpg").read_bytes() == b"JPEG!"
    with zipfile.ZipFile(tmp_path / "some_pkg-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("some_pkg/data/b.png", b"PNG!")
    whl = download_package("pypi", "some-pkg==1.0", tmp_path)
    assert extract_file(whl, "some_pkg/data/b.png", tmp_path / "b.png").read_bytes() == b"PNG!"
    with pytest.raises(InputError, match="has no file usr/share/missing"):
        extract_file(deb, "usr/share/missing", tmp_path / "m")
    with pytest.raises(InputError, match="unknown registry 'cran'"):
        download_package("cran", "x", tmp_path)


def test_a_held_out_photo_becomes_a_fixed_pan(tmp_path):
    photo = Image.fromarray(torch.randint(0, 256, (120, 200, 3), dtype=torch.uint8).numpy())
    photo.save(tmp_path / "p.png")
    (tmp_path / "cache").mkdir()
    with zipfile.ZipFile(tmp_path / "cache" / "pics-1.0-py3-none-any.whl", "w") as wheel:
        wheel.write(tmp_path / "p.png", "pics/p.png")
    spec = PhotoSpec("p", "pypi", "pics==1.0", "pics/p.png", "CC0-1.0")
    write_pan(spec, PanSpec(frames=5, size=[64, 48], velocity=[3, 1]), tmp_path / "pan", tmp_path / "cache", 1280)
    frames = sorted((tmp_path / "pan" / "p").glob("frame_*.png"))
    assert len(frames) == 5
    first, last = (torch.from_numpy(np.array(Image.open(f))) for f in (frames[0], frames[-1]))
    top, left = (120 - 48 - 4) // 2, (200 - 64 - 12) // 2
    source = torch.from_numpy(np.array(photo))
    assert torch.equal(first, source[top:top + 48, left:left + 64])
    assert torch.equal(last, source[top + 4:top + 52, left + 12:left + 76])


def test_a_new_work_dir_moves_every_stage_path(repo_root):
    recipe = load_config(RecipeConfig, [repo_root / "configs/default_model/recipe.yaml"], ["work_dir=/tmp/elsewhere"])
    cfg = stage_config(recipe, "stage2_f16", max_steps=4)
    assert cfg.train.output_dir == "/tmp/elsewhere/stage2_f16" and cfg.train.max_steps == 4
    assert cfg.model.decoder.pretrained == "/tmp/elsewhere/stage1_vae_f16/export"
    assert cfg.data.sources == ["/tmp/elsewhere/data/train/bikes"] and cfg.data.cache_dir.startswith("/tmp/elsewhere")
    assert replace_prefix("runs/default_model_x", "runs/default_model", "y") == "runs/default_model_x"  # not a path prefix
    names = {spec.name for spec in recipe.train_photos} | {spec.name for spec in recipe.train_clips}
    assert not names & ({spec.name for spec in recipe.heldout_photos} | {spec.name for spec in recipe.heldout_clips})


def test_the_stages_of_one_run_may_train_in_different_precisions(tmp_path):
    """accelerate keeps one precision per process; each stage must build its own accelerator."""
    from types import SimpleNamespace

    from fastvsr.train.accelerator import release_accelerator, setup_accelerator
    from fastvsr.train.config import LoopConfig

    release_accelerator()
    seen = []

    def train(cfg, resume):
        seen.append(setup_accelerator(cfg.train).mixed_precision)
        return {"step": 1, "validation": {"psnr": 20.0}}

    for name, precision in [("stage_a", "fp32"), ("stage_b", "bf16"), ("stage_c", "fp32")]:
        cfg = SimpleNamespace(train=LoopConfig(output_dir=str(tmp_path / name), precision=precision))
        run_stage(name, cfg, train, tmp_path / "walltime.jsonl")
    assert seen == ["no", "bf16", "no"]
    assert [json.loads(line)["stage"] for line in (tmp_path / "walltime.jsonl").read_text().splitlines()] == [
        "stage_a", "stage_b", "stage_c"]


def test_model_report_runs_on_any_model_and_clip(script, repo_root, tmp_path, capsys):
    torch.manual_seed(0)
    model = build_model(load_config(ModelConfig, [repo_root / "configs/models/fastvsr_tiny.yaml"]))
    folder = model.save_pretrained(tmp_path / "tiny")
    out = tmp_path / "report"
    assert script("model_report").main(["--model", str(folder), "--clips", str(repo_root / "tests/data/carphone_176x144_9f.mp4"),
                                        "--frames", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    data = json.loads((out / "metrics.json").read_text())
    assert {r["lr"] for r in data["rows"]} == {"bicubic", "realworld_mild", "realworld_dove"}
    assert {r["method"] for r in data["rows"]} == {"bicubic", "lanczos", "model (tiny)"}
    assert len(data["summary"]) == 3 and "realworld_dove: model (tiny)" in printed
    assert (out / "crops_carphone_176x144_9f_realworld_dove.png").is_file()
