"""The reference CNN: an untrained network is bicubic interpolation, its training (the recipe's own config, shrunk)
lowers the loss, beats bicubic on the validation window and resumes exactly, and the model report scores it
beside the model."""

import json

import torch
import torch.nn.functional as F
from accelerate.state import AcceleratorState
from einops import rearrange

from fastvsr.config import load_config
from fastvsr.models import ModelConfig, build_model
from fastvsr.models.reference_cnn import ReferenceCNN, load_reference_cnn
from fastvsr.recipes.default_model import RecipeConfig, stage_config
from fastvsr.train.reference import ReferenceTrainConfig, train_reference
from tests.train_helpers import _one_thread_fresh_accelerator, train_scalars  # noqa: F401

CONFIG = "configs/default_model/reference_cnn.yaml"


def tiny_reference_config(repo_root, clip, out, *overrides):
    """The recipe's reference config on the sample clip: 8 channels, one block, 32x32 crops, bicubic LR only
    (the mixture's damaged thirds make 48 steps too noisy to test against bicubic), a constant learning rate (so a
    shorter interrupted run takes the same steps), no cache."""
    return load_config(ReferenceTrainConfig, [repo_root / CONFIG],
                       [f"data.sources=[{clip}]", "data.image_folders=[]", "data.cache_dir=null", "data.repeat=4",
                        "data.degradations=[]", "data.crop_size=[32,32]", f"val.path={clip}", "val.height=64",
                        "val.width=64", f"train.output_dir={out}", "train.batch_size=2", "train.max_steps=48",
                        "train.validate_every=48", "train.checkpoint_every=24", "train.log_every=12",
                        "train.precision=fp32", "train.ema_decay=0.5", "model.channels=8", "model.num_blocks=1",
                        "optim.lr=5e-3", "optim.warmup_steps=0", "optim.schedule=constant",
                        *overrides])


def test_the_untrained_network_is_bicubic_and_keeps_the_clip_layout():
    net = ReferenceCNN(channels=8, num_blocks=2).eval()
    lq = torch.rand(2, 3, 3, 10, 12)
    out = net(lq)
    assert out.shape == (2, 3, 3, 40, 48)
    bicubic = F.interpolate(rearrange(lq, "b c t h w -> (b t) c h w"), scale_factor=4, mode="bicubic",
                            align_corners=False).clamp(0, 1)
    assert torch.allclose(out, rearrange(bicubic, "(b t) c h w -> b c t h w", b=2), atol=1e-6)
    # frames are restored independently: changing frame 0 leaves frame 1 alone
    changed = lq.clone()
    changed[:, :, 0] = 0.5
    net.conv_up.weight.data.normal_(std=0.1)
    assert torch.equal(net(changed)[:, :, 1], net(lq)[:, :, 1])


def test_training_beats_bicubic_exports_and_resumes_exactly(repo_root, sample_clip, tmp_path):
    straight = train_reference(tiny_reference_config(repo_root, sample_clip, tmp_path / "a"))
    assert [s for s, _ in train_scalars(tmp_path / "a", "train/total")] == [12, 24, 36, 48]
    (_, psnr0), (_, psnr48) = train_scalars(tmp_path / "a", "val/psnr")
    val = straight["validation"]
    assert psnr0 == val["bicubic_psnr"]  # the untrained network is bicubic
    assert psnr48 == val["psnr"] > val["bicubic_psnr"] + 0.02  # 48 tiny steps: the validation window gains
    net = load_reference_cnn(tmp_path / "a" / "export")
    assert net(torch.rand(1, 3, 2, 8, 8)).shape == (1, 3, 2, 32, 32)
    AcceleratorState._reset_state(True)
    train_reference(tiny_reference_config(repo_root, sample_clip, tmp_path / "b", "train.max_steps=24"))
    AcceleratorState._reset_state(True)
    resumed = train_reference(tiny_reference_config(repo_root, sample_clip, tmp_path / "b"), resume=True)
    assert resumed["weight_digests"] == straight["weight_digests"]


def test_the_recipe_runs_it_as_an_optional_stage(repo_root):
    recipe = load_config(RecipeConfig, [repo_root / "configs/default_model/recipe.yaml"], ["work_dir=/tmp/elsewhere"])
    cfg = stage_config(recipe, "reference_cnn", max_steps=3)
    assert isinstance(cfg, ReferenceTrainConfig) and cfg.train.max_steps == 3
    assert cfg.train.output_dir == "/tmp/elsewhere/reference_cnn"
    assert cfg.data.cache_dir == "/tmp/elsewhere/cache/reference"
    assert len(cfg.data.degradations) == 3  # the same mixture as stages 1 and 2
    stage1 = stage_config(recipe, "stage1_vae_f16", max_steps=3)
    assert cfg.data.degradations == stage1.data.degradations and cfg.data.sources == stage1.data.sources


def test_the_report_scores_a_reference_beside_the_model(script, repo_root, tmp_path):
    torch.manual_seed(0)
    model = build_model(load_config(ModelConfig, [repo_root / "configs/models/fastvsr_tiny.yaml"]))
    folder = model.save_pretrained(tmp_path / "tiny")
    ReferenceCNN(channels=8, num_blocks=1).save_pretrained(tmp_path / "ref")
    out = tmp_path / "report"
    assert script("model_report").main(["--model", str(folder), "--reference", str(tmp_path / "ref"), "--clips",
                                        str(repo_root / "tests/data/carphone_176x144_9f.mp4"), "--frames", "2",
                                        "--out", str(out)]) == 0
    data = json.loads((out / "metrics.json").read_text())
    rows = {(r["lr"], r["method"]): r["psnr"] for r in data["rows"]}
    # the untrained reference is bicubic (its own, unantialiased upscale: within a rounding of the report's)
    assert abs(rows[("bicubic", "reference CNN")] - rows[("bicubic", "bicubic")]) < 0.01
    assert sum("reference CNN" in line for line in data["summary"]) == 3
