"""Shared training machinery on a toy model: exact resume, NaN guard, data order, validation outputs, EMA."""

import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
import torch
from accelerate.state import AcceleratorState
from torch import nn
from torch.utils.data import Dataset

from fastvsr.config import load_config
from fastvsr.errors import ConfigError, InputError
from fastvsr.train.accelerator import resolve_mixed_precision, setup_accelerator
from fastvsr.train.checkpoint import list_checkpoints
from fastvsr.train.config import LoopConfig, OptimConfig
from fastvsr.train.data_order import StepBatchSampler
from fastvsr.train.modules import ema_weights, weights_digest
from fastvsr.train.optim import build_lr_schedule
from fastvsr.train.runlog import read_metrics
from fastvsr.train.session import NonFiniteLossError, Session, start_session
from tests.train_helpers import _one_thread_fresh_accelerator  # noqa: F401


class ToyClips(Dataset):
    """Random clips whose target is a fixed function of the input; deterministic per (epoch, index)."""

    def __init__(self, n=5):
        self.n, self.epoch = n, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        g = torch.Generator().manual_seed(1000 * self.epoch + index)
        lq = torch.rand(3, 2, 16, 16, generator=g)
        return {"lq": lq, "gt": (lq.flip(-1) * 0.8 + 0.1)}


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv3d(3, 8, 3, padding=1), nn.Dropout(0.2), nn.GELU(), nn.Conv3d(8, 3, 1))

    def forward(self, x):
        return x + self.net(x)


@dataclass
class ToyConfig:
    train: LoopConfig = field(default_factory=LoopConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)


def _train(out, max_steps, resume=False, nan_at=None, validate_every=0, checkpoint_every=2, tracker="jsonl"):
    cfg = ToyConfig(LoopConfig(output_dir=str(out), max_steps=max_steps, batch_size=2, log_every=1,
                               checkpoint_every=checkpoint_every, validate_every=validate_every, ema_decay=0.9,
                               tracker=tracker),
                    OptimConfig(lr=1e-2, warmup_steps=2))
    acc = setup_accelerator(cfg.train)
    session = start_session(acc, cfg.train, cfg.optim, Toy(), cfg, resume=resume)
    val = ToyClips(1)[0]

    def validate():
        session.validate(lambda m: (m(val["lq"][None]).clamp(0, 1), val["gt"][None],
                                    {"input": val["lq"], "output": m(val["lq"][None])[0].clamp(0, 1),
                                     "target": val["gt"]}))

    if session.validation_due():
        validate()
    for batch in session.batches(ToyClips()):
        noise = torch.randn(batch["lq"].shape, generator=session.generator())  # per-step randomness
        pred = session.model(batch["lq"] + 0.01 * noise)
        loss = (pred - batch["gt"]).abs().mean()
        if nan_at is not None and session.state.step == nan_at:
            loss = loss * float("nan")
        session.step(loss, {"total": loss.item()})
        if session.validation_due():
            validate()
        session.checkpoint_if_due()
    return session.finish(lambda model, folder: (folder.mkdir(), torch.save(model.state_dict(), folder / "m.pt")))


def test_resume_continues_bit_for_bit(tmp_path):
    straight = _train(tmp_path / "a", 6)
    _train(tmp_path / "b", 3, checkpoint_every=3)
    AcceleratorState._reset_state(True)
    resumed = _train(tmp_path / "b", 6, resume=True)
    assert resumed["weight_digests"] == straight["weight_digests"]
    ema_a = torch.load(tmp_path / "a" / "export" / "m.pt")
    ema_b = torch.load(tmp_path / "b" / "export" / "m.pt")
    assert all(torch.equal(ema_a[k], ema_b[k]) for k in ema_a)
    # the log of the resumed run has each step once, and the losses equal the straight run's
    steps = [r["step"] for r in read_metrics(tmp_path / "b" / "metrics.jsonl") if "train/total" in r]
    assert steps == [1, 2, 3, 4, 5, 6]
    loss = {r["step"]: r["train/total"] for r in read_metrics(tmp_path / "a" / "metrics.jsonl") if "train/total" in r}
    assert all(r["train/total"] == loss[r["step"]] for r in read_metrics(tmp_path / "b" / "metrics.jsonl")
               if "train/total" in r)
    assert loss[6] < loss[1]


def test_checkpoints_rotate_and_resume_needs_one(tmp_path):
    _train(tmp_path / "run", 8, checkpoint_every=2)
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == ["step-00000004", "step-00000006",
                                                                   "step-00000008"]
    assert not list((tmp_path / "run" / "checkpoints").glob(".*tmp"))
    AcceleratorState._reset_state(True)
    with pytest.raises(InputError, match="no checkpoint"):
        _train(tmp_path / "empty", 2, resume=True)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"loss is nan at step 5; .*step-00000004"):
        _train(tmp_path / "run", 8, nan_at=5)
    kept = list_checkpoints(tmp_path / "run")
    assert kept[-1].name == "step-00000004"
    assert "step 5" in str(NonFiniteLossError("loss is nan at step 5")) and "\n" not in str(NonFiniteLossError(""))


def test_step_batch_sampler_shards_ranks_and_walks_epochs():
    ranks = [StepBatchSampler(6, 2, seed=3, rank=r, world_size=2, start_step=0, max_steps=3) for r in (0, 1)]
    first_epoch = [p for step in range(3) for r in ranks for p in r.positions(step)][:6]
    assert sorted(first_epoch) == list(range(6))  # one epoch: every sample once, no rank overlap
    assert ranks[0].positions(3) == StepBatchSampler(6, 2, 3, 0, 2, 3, 9).positions(3)
    assert all(6 <= p < 12 for p in ranks[0].positions(2))  # stream 8, 9: second epoch, encoded as 6 + index
    assert list(StepBatchSampler(6, 2, 3, 0, 2, start_step=2, max_steps=3)) == [ranks[0].positions(2)]


def test_validation_writes_pngs_metrics_and_summary(tmp_path):
    summary = _train(tmp_path / "run", 4, validate_every=2)
    out = tmp_path / "run"
    assert sorted(p.name for p in (out / "val").glob("*.png")) == ["step-00000000.png", "step-00000002.png",
                                                                   "step-00000004.png"]
    assert (out / "loss_curves.png").read_bytes()[:4] == b"\x89PNG"
    val = [r for r in read_metrics(out / "metrics.jsonl") if "val/psnr" in r]
    assert [r["step"] for r in val] == [0, 2, 4]
    assert all(5 < r["val/psnr"] < 60 and 0 < r["val/ssim"] <= 1 for r in val)
    assert json.loads((out / "summary.json").read_text())["num_processes"] == summary["num_processes"] == 1
    assert (out / "config.yaml").read_text().startswith("train:")


def test_wandb_tracker_runs_beside_the_jsonl_log(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")  # offline works the same way, without network
    _train(tmp_path / "run", 2, tracker="wandb")
    assert [r["step"] for r in read_metrics(tmp_path / "run" / "metrics.jsonl") if "train/total" in r] == [1, 2]


def test_ema_weights_are_swapped_in_and_restored():
    from diffusers.training_utils import EMAModel

    model = Toy()
    ema = EMAModel(model.parameters(), decay=0.5)
    before = weights_digest(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    with ema_weights(ema, model):
        assert weights_digest(model) == before
    assert weights_digest(model) != before


def test_precision_resolution():
    assert resolve_mixed_precision("auto", cuda=False) == "no"
    assert resolve_mixed_precision("bf16", cuda=False) == "bf16"
    with pytest.raises(ConfigError, match="fp16 needs a CUDA"):
        resolve_mixed_precision("fp16", cuda=False)


@pytest.mark.parametrize("schedule, halfway", [("constant", 1.0), ("cosine", 0.5), ("linear", 0.5)])
def test_lr_schedule_warms_up_then_follows_its_curve_to_max_steps(schedule, halfway):
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    scheduler = build_lr_schedule(optimizer, OptimConfig(lr=0.1, warmup_steps=2, schedule=schedule), max_steps=12)
    rates = []
    for _ in range(12):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[:3] == pytest.approx([0.0, 0.05, 0.1])
    assert rates[7] == pytest.approx(0.1 * halfway)  # halfway through the 10 steps after the warm-up
    assert (rates[-1] < 0.02) == (schedule != "constant")
    with pytest.raises(ConfigError, match="optim.schedule"):
        load_config(OptimConfig, [], ["schedule=step"])


def test_logged_steps_are_every_log_every_and_the_last():
    session = SimpleNamespace(loop=LoopConfig(max_steps=10, log_every=4))
    assert [n for n in range(1, 11) if Session.logged_step(session, n)] == [4, 8, 10]
    session.loop.log_every = 0
    assert not any(Session.logged_step(session, n) for n in range(1, 11))


def _damage_truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _damage_flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name, harm, why", [
    ("model.safetensors", _damage_truncate, "model.safetensors is .* bytes, .* were written"),
    ("optimizer.bin", _damage_flip, "optimizer.bin is damaged"),
    ("model.safetensors", lambda p: p.unlink(), "model.safetensors is missing"),
    ("random_states_0.pkl", _damage_truncate, "random_states_0.pkl is .* bytes"),
])
def test_resume_skips_a_damaged_checkpoint_for_the_newest_intact_one(tmp_path, capsys, name, harm, why):
    straight = _train(tmp_path / "a", 6)
    AcceleratorState._reset_state(True)
    _train(tmp_path / "b", 4, checkpoint_every=2)  # checkpoints at steps 2 and 4
    newest = list_checkpoints(tmp_path / "b")[-1]
    assert newest.name == "step-00000004" and (newest / name).is_file()
    harm(newest / name)
    capsys.readouterr()
    AcceleratorState._reset_state(True)
    resumed = _train(tmp_path / "b", 6, resume=True)
    warning = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning")]  # not the bar
    assert len(warning) == 1 and warning[0].startswith("warning: --resume skips checkpoint step-00000004: ")
    assert re.search(why, warning[0])
    assert resumed["weight_digests"] == straight["weight_digests"]  # from step 2, still bit-exact


def test_resume_with_every_checkpoint_damaged_is_one_line_naming_the_file(tmp_path):
    _train(tmp_path / "b", 2, checkpoint_every=2)
    (list_checkpoints(tmp_path / "b")[-1] / "optimizer.bin").write_bytes(b"")
    AcceleratorState._reset_state(True)
    with pytest.raises(InputError, match=r"no intact checkpoint .*optimizer.bin is 0 bytes") as info:
        _train(tmp_path / "b", 4, resume=True)
    assert "\n" not in str(info.value)
