"""Per-clip text conditions (e.g. T5 embeddings of LR-derived captions) for the LTX-Video DiT: through the
adapter, the model's restore, the factorised training losses and the dataset."""

import pytest
import torch
from safetensors.torch import save_file

from fastvsr.config import load_config
from fastvsr.data.datasets import VideoDatasetConfig, VideoSRDataset
from fastvsr.diffusion import FlowSchedule, ScheduleConfig
from fastvsr.errors import ConfigError, InputError
from fastvsr.models import ModelConfig, RestoreContext, build_model
from fastvsr.models.denoisers import LTXDiTDenoiser
from fastvsr.recipes.tiny_paper import make_tiny_ltx
from fastvsr.train.turbo import TurboBatch, student_loss, with_bootstrap_targets
from tests.test_turbo_shortcut import LATENT, _ltx_inputs

CAPTION = 16  # the tiny LTX transformer's caption channels


@pytest.fixture(scope="module")
def ltx(tmp_path_factory):
    return make_tiny_ltx(tmp_path_factory.mktemp("ltx") / "ltx", dtype=torch.float32)


@pytest.fixture(scope="module")
def dit(ltx):
    torch.manual_seed(0)
    return LTXDiTDenoiser.from_folder(ltx["transformer"], LATENT, LATENT + 1).eval()


def test_a_given_prompt_replaces_the_cached_one(dit):
    z, cond, t = _ltx_inputs()
    with torch.no_grad():
        cached = dit(z, t, cond)
        same = dit(z, t, cond, prompt_embeds=dit.prompt_embeds.clone())
        other = dit(z, t, cond, prompt_embeds=torch.randn(1, 3, CAPTION))
    torch.testing.assert_close(same, cached)
    assert not torch.allclose(other, cached, atol=1e-4)  # the text really conditions the prediction
    with pytest.raises(ConfigError, match=r"prompt embeddings must be \(1 or 1, L, 16\)"):
        dit(z, t, cond, prompt_embeds=torch.randn(1, 3, CAPTION + 1))


def test_restore_takes_the_prompt_from_its_context_and_refuses_it_without_a_text_condition(ltx, repo_root):
    cfg = load_config(ModelConfig, [repo_root / "configs/models/turbovsr_paper_ltx.yaml"],
                      [f"vae.pretrained={ltx['vae']}", f"denoiser.pretrained={ltx['transformer']}", "sampler.steps=1"])
    model = build_model(cfg).eval()
    z = torch.randn(1, LATENT, 2, 2, 3)
    restore = [model.restore(z, context=RestoreContext(generator=torch.Generator().manual_seed(0), prompt_embeds=p))
               for p in (None, torch.randn(1, 2, CAPTION))]
    assert restore[0].shape == z.shape and not torch.allclose(restore[0], restore[1], atol=1e-4)
    unet = build_model(load_config(ModelConfig, [repo_root / "configs/models/turbovsr_tiny.yaml"]))
    with pytest.raises(ConfigError, match="has no text condition"):
        unet.restore(torch.randn(1, unet.vae.latent_channels, 2, 2, 2),
                     context=RestoreContext(prompt_embeds=torch.randn(1, 2, CAPTION)))


class Recording(torch.nn.Module):
    """A denoiser that records the prompt each call gets."""

    def __init__(self):
        super().__init__()
        self.prompts = []

    def forward(self, z_t, t, cond=None, step_size=None, prompt_embeds=None):
        self.prompts.append(prompt_embeds)
        return torch.zeros_like(z_t)


def test_training_losses_condition_the_student_and_the_targets_on_the_batch_prompt():
    b, c = 4, 3
    prompt = torch.randn(b, 2, CAPTION)
    batch = TurboBatch(x=torch.randn(b, c, 2, 2, 2), u=torch.rand(b), d=torch.full((b,), 0.25),
                       target=torch.randn(b, c, 2, 2, 2), cond=torch.randn(b, c + 1, 2, 2, 2), z_first=None,
                       num_bootstrap=2, task_first=False, prompt_embeds=prompt)
    schedule = FlowSchedule(ScheduleConfig(kind="flow"))
    teacher, student = Recording(), Recording()
    with_bootstrap_targets(batch, teacher, schedule, clip=0.0)
    student_loss(student, batch, schedule)
    assert teacher.prompts and all(torch.equal(p, prompt[:2]) for p in teacher.prompts)  # the bootstrap rows
    assert len(student.prompts) == 1 and torch.equal(student.prompts[0], prompt)


def test_dataset_items_carry_their_source_s_prompt(sample_clip, tmp_path):
    folder = tmp_path / "prompts"
    folder.mkdir()
    cfg = VideoDatasetConfig(sources=[str(sample_clip)], num_frames=3, crop_size=[32, 32], prompt_embeds_dir=str(folder))
    with pytest.raises(InputError, match="no prompt embedding for training source bbb_320x180_17f.mp4"):
        VideoSRDataset(cfg)[0]
    embeds = torch.randn(1, 5, CAPTION)
    save_file({"prompt_embeds": embeds}, str(folder / "bbb_320x180_17f.safetensors"))
    item = VideoSRDataset(cfg)[0]
    assert torch.equal(item["prompt_embeds"], embeds[0]) and item["gt"].shape == (3, 3, 32, 32)


def test_infer_conditions_each_clip_on_its_prompt_file(ltx, repo_root, tmp_path, capsys, script):
    from fastvsr.data.video import read_video, write_video

    cfg = load_config(ModelConfig, [repo_root / "configs/models/turbovsr_paper_ltx.yaml"],
                      [f"vae.pretrained={ltx['vae']}", f"denoiser.pretrained={ltx['transformer']}", "sampler.steps=1"])
    torch.manual_seed(0)
    model_dir = build_model(cfg).save_pretrained(tmp_path / "model")
    clip = write_video(tmp_path / "clip.mp4", torch.rand(3, 9, 64, 64), fps=8)
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    save_file({"prompt_embeds": torch.randn(1, 3, CAPTION) * 3}, str(prompts / "clip.safetensors"))
    infer = script("infer")
    common = ["--input", str(clip), "--model", str(model_dir), "--scale", "1", "--quiet", "--codec", "ffv1",
              "--output"]
    assert infer.main([*common, str(tmp_path / "plain.mkv")]) == 0
    assert infer.main([*common, str(tmp_path / "captioned.mkv"), "--prompt-embeds", str(prompts)]) == 0
    plain, captioned = (read_video(tmp_path / name)[0] for name in ("plain.mkv", "captioned.mkv"))
    assert plain.shape == captioned.shape == (3, 9, 64, 64)
    assert (plain - captioned).abs().max() > 1 / 255  # the caption embedding changed the restoration
    (prompts / "clip.safetensors").rename(prompts / "other.safetensors")
    from tests.cli_helpers import one_line_error

    err = one_line_error(infer.main, [*common, str(tmp_path / "x.mkv"), "--prompt-embeds", str(prompts)], capsys)
    assert "no embedding for clip.mp4" in err and not (tmp_path / "x.mkv").exists()
