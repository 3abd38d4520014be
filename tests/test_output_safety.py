"""Outputs never replace anything but themselves: folders, inputs inside outputs, links, stale temporaries,
signals (fastvsr.atomic, fastvsr.cli and the scripts that write through them)."""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
import torch

from fastvsr.atomic import MANIFEST, atomic_path, check_output_path, remove_stale_temporaries, resolve_output
from fastvsr.cli import run_main
from fastvsr.config import load_config
from fastvsr.data.video import probe_video, read_video, write_video
from fastvsr.errors import OutputError


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, request):
    from fastvsr.models import ModelConfig, build_model

    torch.manual_seed(0)
    cfg = load_config(ModelConfig, [request.config.rootpath / "configs" / "models" / "fastvsr_tiny.yaml"])
    return build_model(cfg).save_pretrained(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture
def small_clip(tmp_path, sample_clip):
    """A user's folder ``myvideos/`` holding a 3-frame clip and a file of their own."""
    folder = tmp_path / "myvideos"
    frames, _ = read_video(sample_clip, num_frames=3)
    write_video(folder / "clip.mp4", frames, 25)
    (folder / "notes.txt").write_text("mine")
    return folder / "clip.mp4"


def exit_code(main, argv, capsys):
    with pytest.raises(SystemExit) as info:
        run_main(main, argv)
    return info.value.code, capsys.readouterr().err.strip().splitlines()


def write_folder(path, names):
    with atomic_path(path) as tmp:
        tmp.mkdir()
        for name in names:
            (tmp / name).write_text(name)


# -- the rules, on fastvsr.atomic -------------------------------------------------------------------------

def test_a_folder_written_here_is_replaced_whole_and_carries_a_manifest(tmp_path):
    write_folder(tmp_path / "out", ["a.png", "b.png"])
    assert json.loads((tmp_path / "out" / MANIFEST).read_text())["files"] == ["a.png", "b.png"]
    write_folder(tmp_path / "out", ["c.png"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [MANIFEST, "c.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_folders_fastvsr_did_not_write_are_never_replaced(tmp_path):
    user = tmp_path / "photos"
    user.mkdir()
    (user / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(OutputError, match="fastvsr did not write; it is never replaced"):
        write_folder(user, ["x.png"])
    with pytest.raises(OutputError, match="fastvsr did not write"):
        check_output_path(user, overwrite=True)
    write_folder(tmp_path / "out", ["a.png"])
    (tmp_path / "out" / "added_by_user.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"holds files fastvsr did not write \(e.g. added_by_user.txt\)"):
        write_folder(tmp_path / "out", ["b.png"])
    assert (user / "holiday.jpg").read_bytes() == b"precious"
    assert (tmp_path / "out" / "added_by_user.txt").read_text() == "mine"


def test_an_output_that_is_or_holds_the_input_is_refused(tmp_path):
    source = tmp_path / "in" / "clip.mp4"
    source.parent.mkdir()
    source.write_bytes(b"video")
    with pytest.raises(OutputError, match="is the input file"):
        check_output_path(source, overwrite=True, inputs=(source,))
    write_folder(tmp_path / "out", ["clip.mp4"])
    inside = tmp_path / "out" / "clip.mp4"
    with pytest.raises(OutputError, match="holds the input"):
        check_output_path(tmp_path / "out", overwrite=True, inputs=(inside,))
    (tmp_path / "link.mp4").symlink_to(source)
    with pytest.raises(OutputError, match="is the input file"):
        check_output_path(tmp_path / "link.mp4", overwrite=True, inputs=(source,))


def test_a_link_output_is_replaced_itself_never_its_target(tmp_path):
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep")
    link = tmp_path / "out.txt"
    link.symlink_to(elsewhere)
    with atomic_path(link) as tmp:
        tmp.write_text("new")
    assert not link.is_symlink() and link.read_text() == "new" and elsewhere.read_text() == "keep"


def test_resolve_output_writes_inside_a_destination_folder(tmp_path):
    (tmp_path / "dest").mkdir()
    assert resolve_output(tmp_path / "dest", "clip_x4.mp4") == tmp_path / "dest" / "clip_x4.mp4"
    assert resolve_output(tmp_path / "new", "clip_x4.mp4") == tmp_path / "new"
    write_folder(tmp_path / "frames_x4", ["000000.png"])
    assert resolve_output(tmp_path / "frames_x4", "x") == tmp_path / "frames_x4"  # a fastvsr output: replaced
    (tmp_path / "linked").symlink_to(tmp_path / "dest")
    assert resolve_output(tmp_path / "linked", "a.mp4") == tmp_path / "linked" / "a.mp4"


def test_a_failed_write_removes_the_folders_it_created(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "a" / "b" / "out.txt") as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_of_killed_runs_are_removed_by_the_next_write(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale_file = tmp_path / f".clip_x4.fastvsr-tmp-{dead.pid}-0a1b2c3d.mp4"
    stale_dir = tmp_path / f".frames_x4.fastvsr-tmp-{dead.pid}-00ff00ff"
    live = tmp_path / f".other.fastvsr-tmp-{os.getpid()}-12345678.mp4"  # a run still going: kept
    stale_file.write_bytes(b"half")
    stale_dir.mkdir()
    live.write_bytes(b"busy")
    (tmp_path / ".hidden_by_user").write_text("mine")
    assert sorted(remove_stale_temporaries(tmp_path)) == sorted([stale_file, stale_dir])
    with atomic_path(tmp_path / "new.txt") as tmp:
        tmp.write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, ".hidden_by_user", "new.txt"])


# -- the scripts ---------------------------------------------------------------------------------------

def test_infer_into_the_inputs_own_folder_keeps_everything_in_it(script, tiny_model_dir, small_clip, capsys):
    infer = script("infer")
    folder = small_clip.parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    argv = ["--input", str(small_clip), "--output", str(folder), "--overwrite", "--model", str(tiny_model_dir),
            "--scale", "2", "--quiet"]
    assert infer.main(argv) == 0
    assert capsys.readouterr().out.split() == ["wrote", str(folder / "clip_x2.mp4")]
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in before} == before
    assert sorted(p.name for p in folder.iterdir()) == ["clip.mp4", "clip_x2.mp4", "notes.txt"]
    assert probe_video(folder / "clip_x2.mp4").num_frames == 3


def test_infer_frame_folders_are_replaced_only_when_fastvsr_wrote_them(script, tiny_model_dir, small_clip,
                                                                       capsys):
    infer = script("infer")
    out = small_clip.parent.parent / "frames_out"
    argv = ["--input", str(small_clip), "--output", str(out), "--model", str(tiny_model_dir), "--scale", "1",
            "--quiet"]
    assert infer.main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "000000.png", "000001.png", "000002.png"]
    assert infer.main(argv + ["--overwrite"]) == 0  # our own folder: replaced
    (out / "keep.txt").write_text("mine")
    code, err = exit_code(infer.main, argv + ["--overwrite"], capsys)
    assert code == 2 and len(err) == 1 and "holds files fastvsr did not write (e.g. keep.txt)" in err[0]
    assert (out / "keep.txt").read_text() == "mine"


def test_degrade_into_the_inputs_own_folder_keeps_everything_in_it(script, small_clip, capsys):
    degrade = script("degrade")
    folder = small_clip.parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert degrade.main(["--input", str(small_clip), "--output", str(folder), "--overwrite", "--mode",
                         "bicubic", "--quiet"]) == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in before} == before
    assert sorted(p.name for p in folder.iterdir()) == ["clip.mp4", "clip_lr.mp4", "notes.txt"]
    assert probe_video(folder / "clip_lr.mp4").width == 80


def test_sigterm_stops_like_sigint_and_leaves_nothing(script, tiny_model_dir, small_clip, capsys, monkeypatch):
    import fastvsr.pipeline.files as files

    infer = script("infer")
    real_stream = files.upscale_stream

    def terminated_stream(*args, **kwargs):
        for piece in real_stream(*args, **kwargs):
            yield piece
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(files, "upscale_stream", terminated_stream)
    out = small_clip.parent.parent / "new" / "out.mp4"
    code, err = exit_code(infer.main, ["--input", str(small_clip), "--output", str(out), "--model",
                                       str(tiny_model_dir), "--scale", "1", "--chunk", "1", "--chunk-overlap",
                                       "0", "--quiet"], capsys)
    assert (code, err) == (143, ["interrupted"])
    assert not out.parent.exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or callable(signal.getsignal(signal.SIGTERM))


def test_copying_the_shipped_folder_keeps_it_replaceable(repo_root, tmp_path):
    shipped = repo_root / "fastvsr" / "weights" / "default"
    copy = shutil.copytree(shipped, tmp_path / "default")
    write_folder(copy, ["fastvsr_model.json"])  # --install's replace: allowed, the shipped folder is ours
    assert (copy / MANIFEST).is_file()
