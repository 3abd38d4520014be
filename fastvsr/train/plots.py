"""PNG figures of training runs: loss curves of one run and curves of several runs side by side."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fastvsr.atomic import atomic_path  # noqa: E402


def _series(records: Sequence[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    pairs = [(r["step"], r[key]) for r in records if r.get(key) is not None]
    return [s for s, _ in pairs], [v for _, v in pairs]


def plot_runs(runs: dict[str, Sequence[dict[str, Any]]], panels: Sequence[str | Sequence[str]], path: str | Path,
              title: str = "", log_y: Sequence[str] = ()) -> Path:
    """One panel per entry of ``panels``, one line per (run, key); written atomically as PNG.

    Args:
        runs: run label -> records (``{"step": int, key: float, ...}`` as in ``metrics.jsonl``).
        panels: a key, or a group of keys drawn in one panel (the first solid, the next dashed, dotted, ...),
            e.g. ``("val/psnr", "val/floor_psnr")``. Panels no run has data for are skipped.
        path: the ``.png`` to write.
        title: figure title.
        log_y: panels (by first key) drawn on a log y axis.
    """
    groups = [[p] if isinstance(p, str) else list(p) for p in panels]
    groups = [g for g in groups if any(_series(r, k)[0] for r in runs.values() for k in g)]
    n = max(len(groups), 1)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, keys in zip(axes[0], groups):
        for colour, (label, records) in zip(colours * 4, runs.items()):
            for style, key in zip(("-", "--", ":", "-."), keys):
                steps, values = _series(records, key)
                if steps:
                    name = label if len(keys) == 1 else f"{label}: {key.split('/')[-1]}"
                    ax.plot(steps, values, style, color=colour, label=name,
                            marker="o" if len(steps) < 12 else None, markersize=3)
        ax.set_title(" vs ".join(keys), fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if keys[0] in log_y:
            ax.set_yscale("log")
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(path)
