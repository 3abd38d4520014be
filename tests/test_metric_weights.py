"""scripts/install_metric_weights.py: downloaded files recognised by SHA-256 and copied into the weights folder."""

import hashlib
import shutil
from dataclasses import replace
from pathlib import Path

from scipy.io import savemat

from fastvsr.metrics import install
from fastvsr.metrics.install import KNOWN_FILES, KnownFile
from fastvsr.metrics.weights import REQUIRED_FILES, SHIPPED_NIQE_PARAMS, require_weights
from tests.cli_helpers import one_line_error
from tests.conftest import load_script

main = load_script("install_metric_weights").main

RAFT = "raft_large_C_T_V1-22a6c225.pth"
ALEX = "alexnet-owt-7be5be79.pth"


def register(monkeypatch, name: str, content: bytes, full: bool = False) -> str:
    """Make the known file ``name`` expect ``content``'s SHA-256 (whole, or its first 8 digits as names carry)."""
    digest = hashlib.sha256(content).hexdigest()
    table = dict(install.KNOWN_FILES)
    table[name] = replace(table[name], sha256=digest if full else digest[:8])
    monkeypatch.setattr(install, "KNOWN_FILES", table)
    return digest


def write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def run_error(argv, capsys) -> str:
    return one_line_error(main, argv, capsys)


def test_the_table_holds_every_metric_file_with_its_hash():
    assert set(KNOWN_FILES) == {Path(rel).name for files in REQUIRED_FILES.values() for rel in files}
    assert len(KNOWN_FILES) == 8
    assert KNOWN_FILES[ALEX] == KnownFile("checkpoints/alexnet-owt-7be5be79.pth", "7be5be79")
    assert KNOWN_FILES["LPIPS_v0.1_alex-df73285e.pth"].sha256 == "df73285e"
    assert KNOWN_FILES["RN50.pt"] == KnownFile(
        "clip/RN50.pt", "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762")
    assert KNOWN_FILES["niqe_modelparameters.mat"] == KnownFile("pyiqa/niqe_modelparameters.mat", "")


def test_files_are_recognised_by_content_and_land_where_the_metrics_look(tmp_path, monkeypatch, capsys):
    raft_bytes, clip_bytes = b"stand-in raft weights", b"stand-in clip weights"
    register(monkeypatch, RAFT, raft_bytes)
    register(monkeypatch, "RN50.pt", clip_bytes, full=True)
    downloads = tmp_path / "downloads"
    raft = write(downloads / "raft (1).pth", raft_bytes)  # a browser's renamed copy: the hash decides
    clip = write(downloads / "RN50.pt", clip_bytes)
    niqe = shutil.copyfile(SHIPPED_NIQE_PARAMS, downloads / "niqe_modelparameters.mat")  # by name + keys
    weights = tmp_path / "weights"
    assert main([str(raft), str(clip), str(niqe), "--weights-dir", str(weights)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith("installed: ") for line in lines)
    assert f"{weights.resolve()}/hub/checkpoints/{RAFT} <- {raft}" in lines[0]
    assert require_weights("raft", weights.resolve())[0].read_bytes() == raft_bytes
    assert (weights / "hub" / "clip" / "RN50.pt").read_bytes() == clip_bytes
    assert (weights / "hub/pyiqa/niqe_modelparameters.mat").read_bytes() == SHIPPED_NIQE_PARAMS.read_bytes()
    assert sorted(p.name for p in weights.rglob("*") if p.is_file()) == sorted([RAFT, "RN50.pt",
                                                                                "niqe_modelparameters.mat"])

    assert main([str(raft), "--weights-dir", str(weights)]) == 0  # same contents again: nothing copied
    assert capsys.readouterr().out.startswith("already installed: ")


def test_a_wrong_or_unknown_file_is_an_error_and_nothing_is_copied(tmp_path, monkeypatch, capsys):
    good = write(tmp_path / "good.pth", b"good raft")
    register(monkeypatch, RAFT, b"good raft")
    weights = tmp_path / "weights"
    damaged = write(tmp_path / ALEX, b"truncated download")
    err = run_error([str(good), str(damaged), "--weights-dir", str(weights)], capsys)
    assert f"{damaged}: SHA-256 starts " in err and f"{ALEX}'s must start 7be5be79" in err
    unknown = write(tmp_path / "model.pth", b"something else")
    err = run_error([str(good), str(unknown), "--weights-dir", str(weights)], capsys)
    assert f"{unknown}: SHA-256 " in err and "matches no known metric weight file" in err
    (tmp_path / "other").mkdir()
    not_niqe = write(tmp_path / "niqe_modelparameters.mat", b"not a mat file")
    assert f"{not_niqe}: not a readable MATLAB" in run_error([str(not_niqe), "--weights-dir", str(weights)], capsys)
    savemat(tmp_path / "other" / "niqe_modelparameters.mat", {"mu_prisparam": [1.0]})
    assert "lacks cov_prisparam" in run_error([str(tmp_path / "other" / "niqe_modelparameters.mat")], capsys)
    assert "does not exist" in run_error([str(tmp_path / "absent.pth"), "--weights-dir", str(weights)], capsys)
    twice = write(tmp_path / "copy.pth", b"good raft")
    assert "are both" in run_error([str(good), str(twice), "--weights-dir", str(weights)], capsys)
    assert not weights.exists()  # the good file was not copied either


def test_an_installed_file_with_other_contents_needs_overwrite(tmp_path, monkeypatch, capsys):
    register(monkeypatch, RAFT, b"new raft")
    weights = tmp_path / "weights"
    old = write(weights / "hub" / "checkpoints" / RAFT, b"old raft")
    new = write(tmp_path / RAFT, b"new raft")
    assert "already exists with other contents; pass --overwrite" in run_error(
        [str(new), "--weights-dir", str(weights)], capsys)
    assert old.read_bytes() == b"old raft"
    assert main([str(new), "--weights-dir", str(weights), "--overwrite"]) == 0
    assert capsys.readouterr().out.startswith("replaced: ") and old.read_bytes() == b"new raft"
    assert [p.name for p in old.parent.iterdir()] == [RAFT]  # no temporary left beside it
