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


def plot_runs(runs: dict[str, Sequence[dict[str, Any]]], keys: Sequence[str], path: str | Path,
              title: str = "", log_y: Sequence[str] = ()) -> Path:
    """One panel per key, one line per run; written atomically as PNG.

    Args:
        runs: run label -> records (``{"step": int, key: float, ...}`` as in ``metrics.jsonl``).
        keys: the scalars to draw, one panel each (keys no run has are skipped).
        path: the ``.png`` to write.
        title: figure title.
        log_y: keys drawn on a log y axis.
    """
    keys = [k for k in keys if any(_series(r, k)[0] for r in runs.values())]
    fig, axes = plt.subplots(1, max(len(keys), 1), figsize=(4.2 * max(len(keys), 1), 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for label, records in runs.items():
            steps, values = _series(records, key)
            if steps:
                ax.plot(steps, values, label=label, marker="o" if len(steps) < 12 else None, markersize=3)
        ax.set_title(key)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if key in log_y:
            ax.set_yscale("log")
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(path)
