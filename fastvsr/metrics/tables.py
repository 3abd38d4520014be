"""Table 1 layout from evaluation summaries: dataset x metric rows, methods as columns, best in bold.

The published numbers (:mod:`fastvsr.metrics.paper_tables`) are added as reference columns marked with a
dagger. Best values are found on the printed (rounded) numbers, per row, over all columns; ties are all bold.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastvsr.errors import InputError
from fastvsr.metrics.info import METRIC_INFO
from fastvsr.metrics.paper_tables import DATASETS, published_results

PUBLISHED_MARK = "†"
LATEX_CELLS = {"–": "--", "inf": r"$\infty$", "-inf": r"$-\infty$"}
PUBLISHED_NOTE = (f"{PUBLISHED_MARK} published numbers (FastVSR Table 1, arXiv 2509.24142; DOVE's main table, "
                  "arXiv 2505.16239), not re-run here. E*warp in 10^-3.")


@dataclass
class Column:
    """One method: its header, whether the numbers are published, and dataset -> metric -> value."""

    header: str
    published: bool
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)  # dataset -> metrics reported missing


@dataclass
class Row:
    dataset: str
    metric: str
    cells: list[str]  # printed values ("–" where none)
    best: set[int]  # indices of the best cells


def load_summaries(paths: list[str | Path]) -> list[dict[str, Any]]:
    """Read ``summary.json`` files written by ``scripts/evaluate.py``.

    Raises:
        InputError: a file is missing, is not JSON, or lacks ``method``/``dataset``/``metrics``.
    """
    summaries = []
    for path in map(Path, paths):
        try:
            data = json.loads(path.read_text())
        except OSError as err:
            raise InputError(f"cannot read {path}: {err.strerror}") from None
        except json.JSONDecodeError as err:
            raise InputError(f"{path} is not valid JSON (line {err.lineno})") from None
        if not isinstance(data, dict) or not {"method", "dataset", "metrics"} <= data.keys():
            raise InputError(f"{path} is not an evaluation summary (needs method, dataset and metrics)")
        summaries.append(data)
    return summaries


def canonical_dataset(name: str) -> str:
    """The paper's spelling of a dataset name (``udm10`` -> ``UDM10``), or the name as given."""
    return {d.lower(): d for d in DATASETS}.get(name.lower(), name)


def collect_columns(summaries: list[dict[str, Any]], include_published: bool = True) -> list[Column]:
    """Published columns (optional; only methods published on a dataset that was evaluated) then one column per
    evaluated method, in order of appearance.

    Raises:
        InputError: two summaries for the same method and dataset.
    """
    ours: dict[str, Column] = {}
    for summary in summaries:
        method, dataset = str(summary["method"]), canonical_dataset(str(summary["dataset"]))
        column = ours.setdefault(method, Column(method, published=False))
        if dataset in column.values:
            raise InputError(f"two results for method '{method}' on dataset '{dataset}'")
        column.values[dataset] = {k: float(v) for k, v in summary["metrics"].items() if v is not None}
        column.missing[dataset] = sorted(summary.get("missing", {}))
    evaluated = {d for c in ours.values() for d in c.values}
    published = [Column(f"{method}{PUBLISHED_MARK}", True, values)
                 for method, values in published_results().items()
                 if include_published and evaluated & values.keys()]
    return published + list(ours.values())


def format_value(value: float | None, metric: str) -> str:
    if value is None or math.isnan(value):
        return "–"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{METRIC_INFO[metric].decimals if metric in METRIC_INFO else 4}f}"


def build_rows(columns: list[Column]) -> list[Row]:
    """Rows for every dataset any evaluated column has (paper order first) and every metric with a value."""
    evaluated = [d for c in columns if not c.published for d in c.values]
    datasets = [d for d in DATASETS if d in evaluated] + list(dict.fromkeys(d for d in evaluated if d not in DATASETS))
    rows = []
    for dataset in datasets:
        present = {m for c in columns for m in c.values.get(dataset, {})}
        metrics = [m for m in METRIC_INFO if m in present] + sorted(present - METRIC_INFO.keys())
        for metric in metrics:
            values = [c.values.get(dataset, {}).get(metric) for c in columns]
            cells = [format_value(v, metric) for v in values]
            numbers = {i: float(cell) for i, cell in enumerate(cells) if cell != "–"}
            higher = METRIC_INFO[metric].higher_better if metric in METRIC_INFO else True
            target = (max if higher else min)(numbers.values()) if numbers else None
            rows.append(Row(dataset, metric, cells, {i for i, v in numbers.items() if v == target}))
    return rows


def metric_label(metric: str, latex: bool = False) -> str:
    """``"PSNR ↑"`` (markdown) or ``"PSNR $\\uparrow$"`` (LaTeX); unknown metrics keep their name."""
    info = METRIC_INFO.get(metric)
    if info is None:
        return latex_escape(metric) if latex else metric
    if not latex:
        return f"{info.label} {'↑' if info.higher_better else '↓'}"
    label = latex_escape(info.label).replace("E*warp", r"$E^*_{warp}$")
    arrow = r"$\uparrow$" if info.higher_better else r"$\downarrow$"
    return f"{label} {arrow}"


def _missing_notes(columns: list[Column]) -> list[str]:
    return [f"{c.header} on {dataset}: not computed ({', '.join(names)}; see its summary.json)"
            for c in columns if not c.published for dataset, names in c.missing.items() if names]


def render_markdown(columns: list[Column], rows: list[Row]) -> str:
    """GitHub markdown table; the dataset name appears on its first row only."""
    lines = ["| Dataset | Metric | " + " | ".join(c.header for c in columns) + " |",
             "|---|---|" + "---:|" * len(columns)]
    previous = None
    for row in rows:
        cells = [f"**{cell}**" if i in row.best else cell for i, cell in enumerate(row.cells)]
        name = row.dataset if row.dataset != previous else ""
        lines.append(f"| {name} | {metric_label(row.metric)} | " + " | ".join(cells) + " |")
        previous = row.dataset
    notes = ([PUBLISHED_NOTE] if any(c.published for c in columns) else []) + _missing_notes(columns)
    return "\n".join(lines + [""] + [f"{note}  " for note in notes]) + "\n"


def latex_escape(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                          ("$", r"\$"), ("†", r"$^\dagger$")):
        text = text.replace(char, escaped)
    return text


def render_latex(columns: list[Column], rows: list[Row]) -> str:
    """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``), one block per dataset."""
    lines = [r"\begin{tabular}{ll" + "c" * len(columns) + "}", r"\toprule",
             "Dataset & Metric & " + " & ".join(latex_escape(c.header) for c in columns) + r" \\"]
    previous = None
    for row in rows:
        if row.dataset != previous:
            lines.append(r"\midrule")
        cells = [LATEX_CELLS.get(cell, cell) for cell in row.cells]
        cells = [rf"\textbf{{{cell}}}" if i in row.best else cell for i, cell in enumerate(cells)]
        name = latex_escape(row.dataset) if row.dataset != previous else ""
        lines.append(f"{name} & {metric_label(row.metric, latex=True)} & " + " & ".join(cells) + r" \\")
        previous = row.dataset
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def make_tables(summary_paths: list[str | Path], include_published: bool = True) -> tuple[str, str]:
    """Markdown and LaTeX tables from evaluation summaries (plus the published columns).

    Raises:
        InputError: no summaries, unreadable ones, or duplicate method/dataset results.
    """
    if not summary_paths:
        raise InputError("no result files given (--results results/*/summary.json)")
    columns = collect_columns(load_summaries(summary_paths), include_published)
    rows = build_rows(columns)
    return render_markdown(columns, rows), render_latex(columns, rows)
