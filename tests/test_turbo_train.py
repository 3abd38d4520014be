"""TurboVSR training on CPU with the tiny configs: flow stage, then shortcut conversion from its export."""

import json
from pathlib import Path

import pytest
import torch
from accelerate.state import AcceleratorState
from accelerate.utils import set_seed

from fastvsr.cli import run_main
from fastvsr.config import load_config
from fastvsr.diffusion import FlowSchedule
from fastvsr.models import RestoreContext
from fastvsr.models.denoisers import uses_step_size
from fastvsr.models.kinds.turbovsr import TurboVSRModel
from fastvsr.train.data import build_train_dataset
from fastvsr.train.turbo import (
    TurboTrainConfig,
    build_turbo_model,
    encode_pair,
    prepare_batch,
    student_loss,
    with_bootstrap_targets,
)
from tests.conftest import load_script

REPO = Path(__file__).parent.parent
SCRIPT_PATH = REPO / "scripts" / "train_turbo.py"


def _script_main():
    return load_script("train_turbo").main


def _config(name: str, clip: Path, out: Path, *overrides: str) -> tuple[list[str], TurboTrainConfig]:
    argv = ["--config", str(REPO / "configs" / "turbovsr" / f"{name}.yaml"), f"data.sources=[{clip}]",
            f"val.path={clip}", f"train.output_dir={out}", "allow_random_vae=true", *overrides]
    return argv, load_config(TurboTrainConfig, [argv[1]], argv[2:])


def held_out_latents(model, cfg: TurboTrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """``(z_lr, z_hr)`` of four fixed training clips."""
    dataset = build_train_dataset(cfg.data)
    items = [dataset[i] for i in range(4)]
    return encode_pair(model, torch.stack([x["lq"] for x in items]), torch.stack([x["gt"] for x in items]),
                       cfg.data.degradation.scale)


def held_out_objective(denoiser, latents: tuple[torch.Tensor, torch.Tensor], cfg: TurboTrainConfig) -> float:
    """The stage's training loss on fixed clips, noise and times (both tasks), so runs can be compared; the
    self-consistency targets come from the evaluated model itself."""
    z_lr, z_hr = latents
    schedule, losses = FlowSchedule(cfg.model.sampler.schedule), []
    with torch.no_grad():
        for task_first in (True, False):
            for seed in range(2):
                batch = prepare_batch(z_lr, z_hr, task_first, cfg, torch.Generator().manual_seed(seed), schedule)
                batch.target = with_bootstrap_targets(batch, denoiser, schedule, cfg.shortcut.clip)
                losses.append(student_loss(denoiser, batch, schedule)[0].item())
    return sum(losses) / len(losses)


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Both stages through scripts/train_turbo.py, with each stage's starting denoiser kept for comparison."""
    torch.set_num_threads(1)
    clip = REPO / "tests" / "data" / "bbb_320x180_17f.mp4"
    root = tmp_path_factory.mktemp("turbo")
    main = _script_main()
    out = {}
    for name, extra in (("flow_tiny", ()), ("shortcut_tiny", (f"init_from={root / 'flow_tiny' / 'export'}",))):
        argv, cfg = _config(name, clip, root / name, *extra)
        set_seed(cfg.train.seed)  # what setup_accelerator does before building
        start = build_turbo_model(cfg)
        assert main(argv) == 0
        AcceleratorState._reset_state(True)
        out[name] = dict(cfg=cfg, latents=held_out_latents(start, cfg), start=start.denoiser, run=root / name,
                         end=TurboVSRModel.from_pretrained(root / name / "export").eval())
    return out


def test_flow_stage_loss_falls(runs):
    r = runs["flow_tiny"]
    before, after = (held_out_objective(net, r["latents"], r["cfg"]) for net in (r["start"], r["end"].denoiser))
    print(f"flow stage held-out loss {before:.4f} -> {after:.4f}")
    assert after < 0.85 * before, (before, after)
    tasks = [rec["train/task_first_frame"] for rec in _records(r["run"]) if "train/task_first_frame" in rec]
    assert tasks[:4] == [1.0, 0.0, 1.0, 0.0]  # the two factorised tasks alternate
    assert not uses_step_size(r["end"].denoiser)


def test_shortcut_stage_converts_the_flow_model_and_its_loss_falls(runs):
    r = runs["shortcut_tiny"]
    assert uses_step_size(r["start"]) and uses_step_size(r["end"].denoiser)
    flow_weights = runs["flow_tiny"]["end"].denoiser.state_dict()
    start_weights = r["start"].state_dict()
    assert all(torch.equal(start_weights[k], v) for k, v in flow_weights.items())  # started from the flow export
    before, after = (held_out_objective(net, r["latents"], r["cfg"]) for net in (r["start"], r["end"].denoiser))
    print(f"shortcut stage held-out loss {before:.4f} -> {after:.4f}")
    assert after < 0.97 * before, (before, after)
    records = [rec for rec in _records(r["run"]) if "train/bootstrap_mse" in rec]
    assert len(records) == r["cfg"].train.max_steps  # every step mixed self-consistency and flow samples


def test_shortcut_export_samples_in_one_and_four_steps(runs):
    model = runs["shortcut_tiny"]["end"]
    assert model.sampler.steps == 4
    lr = torch.rand(1, 3, 9, 64, 64)
    with torch.no_grad():
        z = model.encode(lr)
        restored = {steps: model.restore(z, steps, RestoreContext(generator=torch.Generator().manual_seed(0)))
                    for steps in (1, 4)}
    assert all(r.shape == z.shape and r.isfinite().all() for r in restored.values())
    assert not torch.allclose(restored[1], restored[4])
    assert list((runs["shortcut_tiny"]["run"] / "val").glob("step-*.png"))  # the validation picture


def test_shortcut_stage_without_a_flow_model_is_a_one_line_error(tmp_path, capsys):
    argv = ["--config", str(REPO / "configs" / "turbovsr" / "flow_tiny.yaml"), "stage=shortcut",
            f"train.output_dir={tmp_path}", "allow_random_vae=true"]
    with pytest.raises(SystemExit) as exit_info:
        run_main(_script_main(), argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "init_from" in err


def test_shortcut_stage_resumes_exactly(runs, tmp_path):
    """2 steps + --resume to 4 gives bit-identical weights to 4 steps straight (EMA targets included)."""
    main = _script_main()
    clip = REPO / "tests" / "data" / "bbb_320x180_17f.mp4"
    init = f"init_from={runs['flow_tiny']['run'] / 'export'}"
    digests = []
    for name, plan in (("straight", [("4", False)]), ("resumed", [("2", False), ("4", True)])):
        for steps, resume in plan:
            argv, _ = _config("shortcut_tiny", clip, tmp_path / name, init, f"train.max_steps={steps}")
            assert main(argv + (["--resume"] if resume else [])) == 0
            AcceleratorState._reset_state(True)
        digests.append(json.loads((tmp_path / name / "summary.json").read_text())["weight_digests"])
    assert digests[0] == digests[1]


def test_flow_stage_on_a_random_autoencoder_is_refused_unless_asked(tmp_path, capsys):
    argv = ["--config", str(REPO / "configs" / "turbovsr" / "flow_tiny.yaml"), f"train.output_dir={tmp_path}"]
    with pytest.raises(SystemExit) as exit_info:
        run_main(_script_main(), argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "model.vae.pretrained is not set" in err and "allow_random_vae=true" in err
    assert not tmp_path.joinpath("checkpoints").exists()
