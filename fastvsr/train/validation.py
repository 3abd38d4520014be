"""Validation of a training run: PSNR/SSIM of the validation clip, its labelled comparison PNG and the run's
curves (what ``Session.validate`` records after running the stage's forward)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from einops import rearrange  # noqa: E402

from fastvsr.atomic import atomic_path  # noqa: E402
from fastvsr.metrics.fullref import psnr, ssim  # noqa: E402
from fastvsr.train.plots import plot_runs  # noqa: E402
from fastvsr.train.runlog import METRICS_FILE, RunLog, read_metrics  # noqa: E402


def clip_fidelity(pred: torch.Tensor, gt: torch.Tensor) -> dict[str, float]:
    """Mean PSNR (dB, RGB) and SSIM (Y channel, pyiqa's definition) over every frame of every clip.

    Args:
        pred, gt: ``(B, 3, T, H, W)`` float in ``[0, 1]``, same shape.
    Returns:
        ``{"psnr": float, "ssim": float}``.
    """
    frames = [rearrange(v.detach().float().clamp(0, 1).cpu(), "b c t h w -> (b t) c h w") for v in (pred, gt)]
    return {"psnr": psnr(*frames).mean().item(), "ssim": ssim(*frames).mean().item()}


def save_comparison_png(path: str | Path, panels: dict[str, torch.Tensor], title: str = "") -> Path:
    """Middle frame of each clip side by side, each labelled, written atomically as PNG.

    Args:
        path: the ``.png`` to write.
        panels: label -> ``(3, T, H, W)`` float in ``[0, 1]`` (sizes may differ: LR input, output, target).
        title: figure title (e.g. the step and PSNR).
    """
    n = len(panels)
    height = max(v.shape[-2] for v in panels.values())
    width = sum(v.shape[-1] for v in panels.values())
    scale = max(1.0, 360 / height)
    fig, axes = plt.subplots(1, n, figsize=(width * scale / 100 + 0.3 * n, height * scale / 100 + 0.6),
                             squeeze=False)
    for ax, (label, clip) in zip(axes[0], panels.items()):
        frame = clip[:, clip.shape[1] // 2].detach().float().clamp(0, 1).cpu()
        ax.imshow(rearrange(frame, "c h w -> h w c").numpy(), interpolation="nearest")
        ax.set_title(f"{label} {clip.shape[-1]}x{clip.shape[-2]}", fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return Path(path)


def record_validation(log: RunLog, output_dir: Path, step: int, pred: torch.Tensor, gt: torch.Tensor,
                      panels: dict[str, torch.Tensor], curve_keys: tuple[str | tuple[str, ...], ...],
                      also_score: dict[str, str] | None) -> dict[str, float]:
    """Score ``pred`` against ``gt`` (and the panels named in ``also_score``, logged as ``val/<name>_psnr``...),
    log the scores, write ``val/step-XXXXXXXX.png`` and refresh ``loss_curves.png``; returns the scores.

    Shapes: ``pred``/``gt`` ``(B, 3, T, H, W)`` in ``[0, 1]``; ``panels`` label -> ``(3, T, H, W)``.
    """
    scores = clip_fidelity(pred, gt)
    for name, label in (also_score or {}).items():
        scores.update({f"{name}_{k}": v for k, v in clip_fidelity(panels[label][None], gt[:1]).items()})
    log.log(step, {f"val/{k}": v for k, v in scores.items()})
    title = f"step {step}: PSNR {scores['psnr']:.2f} dB, SSIM {scores['ssim']:.4f} (EMA)"
    save_comparison_png(output_dir / "val" / f"step-{step:08d}.png", panels, title)
    val_keys = ("val/psnr", *(f"val/{name}_psnr" for name in also_score or {}))
    plot_runs({"run": read_metrics(output_dir / METRICS_FILE)}, [*curve_keys, val_keys],
              output_dir / "loss_curves.png", title=output_dir.name)
    return scores
