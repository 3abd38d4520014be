"""The distributed engines: FSDP (accelerate's FSDP2 path, gloo on 2 CPU processes) training the paper-structured
tiny models (random diffusers CogVideoX VAE + transformer in the published layout, made by
scripts/make_tiny_paper_models.py) with the paper configs, sharded checkpoints, bit-exact resume and the export;
and the launches that must stop instead of running something else."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from diffusers import CogVideoXTransformer3DModel

from fastvsr.errors import ConfigError
from fastvsr.models import VSRModel
from fastvsr.models.f16_decoder import F16Decoder

REPO = Path(__file__).parent.parent
REHEARSAL = REPO / "configs/paper/rehearsal_tiny_fastvsr.yaml"  # the paper configs at toy size, 2 processes, 2 steps


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "cogvideox"
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_tiny_paper_models.py"), "--family", "cogvideox",
                    "--output", str(out)], check=True, cwd=REPO, capture_output=True)
    return out


def launch(script: str, configs: list[Path], *args: str, engine: str = "fsdp_cpu") -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
           str(REPO / "configs" / "accelerate" / f"{engine}.yaml"), str(REPO / "scripts" / f"{script}.py"),
           "--config", *map(str, configs), *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def tiny_config(tmp_path: Path, tiny: Path, **model: dict) -> list[Path]:
    """The rehearsal layer and the tiny folders (after a paper config)."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({"model": {"vae": {"pretrained": str(tiny / "vae")},
                                              "denoiser": {"pretrained": str(tiny / "transformer")}, **model}}))
    return [REHEARSAL, path]


def test_fsdp_trains_the_paper_dit_saves_sharded_and_resumes_bit_exact(tiny, tmp_path):
    stage2 = [REPO / "configs/paper/fastvsr_stage2.yaml", *tiny_config(tmp_path, tiny, decoder={"pretrained": None})]
    stage2 = [*stage2, "allow_random_vae=true"]  # the untrained f16 copy of the tiny decoder: this tests the engine
    whole = launch("train_diffusion", stage2, f"train.output_dir={tmp_path / 'whole'}")
    assert whole.returncode == 0, whole.stderr[-3000:]
    assert "trained to step 2 on 2 process(es)" in whole.stdout
    first = launch("train_diffusion", stage2, f"train.output_dir={tmp_path / 'resumed'}", "train.max_steps=1")
    assert first.returncode == 0, first.stderr[-3000:]
    second = launch("train_diffusion", stage2, f"train.output_dir={tmp_path / 'resumed'}", "--resume")
    assert second.returncode == 0, second.stderr[-3000:]
    a, b = (json.loads((tmp_path / run / "summary.json").read_text()) for run in ("whole", "resumed"))
    assert a["num_processes"] == b["num_processes"] == 2
    assert a["weight_digests"] == b["weight_digests"]  # each rank's shard, bit for bit
    assert a["weight_digests"][0] != a["weight_digests"][1]  # the parameters really are sharded
    checkpoint = Path(a["checkpoint"])
    assert {"__0_0.distcp", "__1_0.distcp"} <= {p.name for p in (checkpoint / "pytorch_model_fsdp_0").iterdir()}
    assert (checkpoint / "ema_rank00001.pt").is_file() and (checkpoint / "manifest.json").is_file()
    model = VSRModel.from_pretrained(tmp_path / "whole" / "export")  # the gathered EMA weights, a normal folder
    start = CogVideoXTransformer3DModel.from_pretrained(tiny / "transformer").state_dict()
    trained = model.denoiser.transformer.state_dict()
    assert trained.keys() == start.keys()  # whole tensors, not shards
    assert all(trained[k].shape == start[k].shape for k in start)
    assert any(not torch.equal(trained[k].float(), start[k].float()) for k in start)  # it trained


def test_fsdp_trains_the_f16_decoder_on_clean_and_dit_restored_latents(tiny, tmp_path):
    stage1 = [REPO / "configs/paper/fastvsr_stage1.yaml", *tiny_config(tmp_path, tiny)]
    run = launch("train_vae", stage1, f"train.output_dir={tmp_path / 's1'}", "f16_latent=mixed")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "floor_psnr" in run.stdout
    decoder = F16Decoder.load(tmp_path / "s1" / "export")
    assert decoder.spatial_factor == 16 and decoder.config.base_kind == "cogvideox"


def test_fsdp_trains_turbovsr_from_the_ltx_video_folders_flow_then_shortcut(tmp_path):
    """TurboVSR's paper configs on tiny random LTX-Video folders (AutoencoderKLLTXVideo + LTXVideoTransformer3DModel
    in the published layout, the DiT widened for the condition on load): both stages on 2 processes under FSDP,
    the shortcut stage resumed bit-exact, and its export restored through infer.py."""
    from fastvsr.recipes.tiny_paper import make_tiny_ltx

    ltx = make_tiny_ltx(tmp_path / "ltx")
    rehearsal = REPO / "configs/paper/rehearsal_tiny.yaml"
    folders = [f"model.vae.pretrained={ltx['vae']}", f"model.denoiser.pretrained={ltx['transformer']}",
               "model.denoiser.ltx.prompt_embeds=null"]
    flow = launch("train_turbo", [REPO / "configs/turbovsr/flow_paper_ltx.yaml", rehearsal], *folders,
                  f"train.output_dir={tmp_path / 'flow'}")
    assert flow.returncode == 0, flow.stderr[-3000:]
    shortcut = [REPO / "configs/turbovsr/shortcut_paper_ltx.yaml", rehearsal]
    common = (f"init_from={tmp_path / 'flow' / 'export'}", "train.batch_size=4")
    whole = launch("train_turbo", shortcut, *common, f"train.output_dir={tmp_path / 'whole'}")
    assert whole.returncode == 0, whole.stderr[-3000:]
    first = launch("train_turbo", shortcut, *common, f"train.output_dir={tmp_path / 'resumed'}", "train.max_steps=1")
    assert first.returncode == 0, first.stderr[-3000:]
    second = launch("train_turbo", shortcut, *common, f"train.output_dir={tmp_path / 'resumed'}", "--resume")
    assert second.returncode == 0, second.stderr[-3000:]
    a, b = (json.loads((tmp_path / run / "summary.json").read_text()) for run in ("whole", "resumed"))
    assert a["num_processes"] == 2 and a["weight_digests"] == b["weight_digests"]
    model = VSRModel.from_pretrained(tmp_path / "whole" / "export")
    assert model.kind == "turbovsr" and model.denoiser.has_step_size_embedding
    assert model.sampler.trained_steps[-1] == 128
    out = tmp_path / "sr"
    proc = subprocess.run([sys.executable, str(REPO / "scripts/infer.py"), "--model", str(tmp_path / "whole" / "export"),
                           "--input", str(REPO / "tests/data/carphone_176x144_9f.mp4"), "--output", str(out),
                           "--scale", "2", "--steps", "2", "tile=0", "--quiet"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(list(out.glob("*.png"))) == 9


def test_fewer_processes_than_asked_is_a_one_line_error(tmp_path):
    cfg = REPO / "configs/train/vae_f8_tiny.yaml"
    env = {**os.environ, "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, str(REPO / "scripts/train_vae.py"), "--config", str(cfg),
                           "train.processes=2", f"train.output_dir={tmp_path}"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "train.processes=2 but the run has 1 process(es)" in proc.stderr


def test_unconnected_processes_and_a_missing_deepspeed_are_errors(monkeypatch):
    from types import SimpleNamespace

    from fastvsr.train import accelerator as engine
    from fastvsr.train.config import LoopConfig

    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="2 processes were launched but did not join one run"):
        engine._check_processes(SimpleNamespace(num_processes=1), LoopConfig())
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    assert engine.requested_engine() == "deepspeed"
    monkeypatch.setattr(engine.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="DeepSpeed, which is not installed"):
        engine._check_engine("deepspeed", cuda=True)
