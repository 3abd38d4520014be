"""The lower-bound ablation: stage 1 trained three times on the same budget and seed, once per mode
(``off`` / ``annealed`` / ``hinge``), and the curves of the three runs in one PNG figure."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from fastvsr.atomic import atomic_path
from fastvsr.errors import ConfigError
from fastvsr.losses import LowerBoundMode
from fastvsr.train.accelerator import release_accelerator
from fastvsr.train.plots import plot_runs
from fastvsr.train.runlog import METRICS_FILE, read_metrics
from fastvsr.train.vae import VAEStage, VAETrainConfig, train_vae

ABLATION_PANELS = (("train/rec", "train/floor_err"), "train/lower_bound", "train/lambda",
                   ("val/psnr", "val/floor_psnr"), "val/ssim")


def ablate_lower_bound(cfg: VAETrainConfig, figure: str | Path, modes: Sequence[str] = ("off", "annealed", "hinge"),
                       dataset: Dataset | None = None) -> dict[str, Any]:
    """Train stage 1 once per lower-bound mode into ``<cfg.train.output_dir>/<mode>`` and plot the runs.

    Every run has the same seed, data order, steps and validation clip; only ``lower_bound.mode`` differs.

    Args:
        cfg: a stage-1 (``stage: f16``) config.
        figure: the ``.png`` to write (one panel per scalar, one line per mode; the floor's own error and
            PSNR dashed).
        modes: the modes to compare.
        dataset: optional training dataset (defaults to ``cfg.data``).
    Returns:
        ``{mode: {"val_psnr", "val_ssim", "floor_psnr", "final_rec", ...}}``, also written to
        ``<output_dir>/ablation.json``.
    """
    if VAEStage(cfg.stage) is not VAEStage.F16:
        raise ConfigError("the lower-bound ablation trains stage 1: set stage=f16")
    root = Path(cfg.train.output_dir)
    runs: dict[str, list[dict[str, Any]]] = {}
    results: dict[str, Any] = {}
    for mode in [LowerBoundMode(m).value for m in modes]:
        run_cfg = dataclasses.replace(
            cfg, lower_bound=dataclasses.replace(cfg.lower_bound, mode=LowerBoundMode(mode)),
            train=dataclasses.replace(cfg.train, output_dir=str(root / mode)))
        summary = train_vae(run_cfg, dataset=dataset)
        release_accelerator()
        runs[mode] = read_metrics(root / mode / METRICS_FILE)
        rec = [r["train/rec"] for r in runs[mode] if r.get("train/rec") is not None]
        val = summary["validation"]
        results[mode] = {"steps": summary["step"], "val_psnr": val.get("psnr"), "val_ssim": val.get("ssim"),
                         "floor_psnr": val.get("floor_psnr"), "final_rec": rec[-1] if rec else None,
                         "mean_rec_last_quarter": sum(rec[-max(len(rec) // 4, 1):]) / max(len(rec) // 4, 1)
                         if rec else None}
    title = (f"lower-bound ablation: {cfg.train.max_steps} steps, seed {cfg.train.seed}, "
             f"lambda0 {cfg.lower_bound.weight}, anneal over {cfg.lower_bound.anneal_fraction:.0%}")
    plot_runs(runs, ABLATION_PANELS, figure, title=title, log_y=("train/rec",))
    with atomic_path(root / "ablation.json") as tmp:
        tmp.write_text(json.dumps(results, indent=2))
    return results
