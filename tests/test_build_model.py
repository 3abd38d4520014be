import pytest

from fastvsr.cli import run_main
from fastvsr.models import VSRModel


@pytest.fixture
def build_model(script):
    return script("build_model")


def test_builds_a_loadable_model_folder_and_refuses_to_overwrite(build_model, repo_root, tmp_path, capsys):
    out = tmp_path / "tiny"
    config = str(repo_root / "configs/models/fastvsr_tiny.yaml")
    assert build_model.main(["--config", config, "--output", str(out)]) == 0
    model = VSRModel.from_pretrained(out)
    assert model.input_upscale(4) == 2
    with pytest.raises(SystemExit) as info:
        run_main(build_model.main, ["--config", config, "--output", str(out)])
    assert info.value.code == 2
    assert "already exists" in capsys.readouterr().err


def test_missing_pretrained_folder_is_one_line(build_model, repo_root, tmp_path, capsys):
    config = str(repo_root / "configs/models/fastvsr_tiny.yaml")
    with pytest.raises(SystemExit) as info:
        run_main(build_model.main, ["--config", config, f"vae.pretrained={tmp_path / 'nope'}",
                                    "--output", str(tmp_path / "m")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "m").exists()
