"""Render a :class:`BenchReport`: rows of text (shared by the rich console table and the markdown file), JSON,
and a stacked bar chart (MACs and latency per stage) saved as PNG.  Files are written atomically."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fastvsr.atomic import atomic_path, check_output_path
from fastvsr.bench.results import STAGES, BenchReport, Target, VariantResult

MAIN_COLUMNS = ("variant", "pipeline", "params (M)", "MACs all", "MACs w/o attn", "latency (s)", "frames/s",
                "peak memory (GB)", "speed-up vs f8")
STAGE_COLUMNS = ("variant", "encoder input", "latent", "tokens",
                 *(f"{s} MACs" for s in STAGES[1:]),
                 *(f"{s} (s)" for s in STAGES))
REPORT_FILES = ("report.md", "report.json", "report.png")
STAGE_COLORS = dict(zip(STAGES, ("tab:gray", "tab:blue", "tab:orange", "tab:green")))
WIDE_CONSOLE = 180  # columns when printing to a pipe or file


def _mac_unit(report: BenchReport) -> tuple[float, str]:
    largest = max((v.total_macs.total for v in report.variants), default=0)
    return (1e12, "T") if largest >= 1e12 else (1e9, "G")


def _macs(value: int, unit: tuple[float, str]) -> str:
    if not value:
        return "-"  # not counted (count_macs: false)
    return f"{value / unit[0]:.1f} {unit[1]}" if unit[1] == "T" else f"{value / unit[0]:.2f} {unit[1]}"


def _na(variant: VariantResult) -> str:
    return variant.note or "n/a"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def main_rows(report: BenchReport) -> list[list[str]]:
    """One row per variant with the columns of :data:`MAIN_COLUMNS`."""
    unit = _mac_unit(report)
    rows = []
    for v in report.variants:
        macs = v.total_macs
        timed = v.timing is not None
        fps = v.fps(report.frames)
        peak = v.peak_memory_bytes
        speedup = report.ratios(v.name).get("latency") if v.name != report.baseline else None
        rows.append([
            v.name, v.label, f"{v.params / 1e6:,.1f}", _macs(macs.total, unit), _macs(macs.without_attention, unit),
            f"{v.timing.total:.3f}" if timed else _na(v), f"{fps:.2f}" if fps is not None else _na(v),
            f"{peak / 2**30:.2f}" if peak is not None else _na(v),
            "1.00x" if v.name == report.baseline and timed else _ratio(speedup),
        ])
    return rows


def stage_rows(report: BenchReport) -> list[list[str]]:
    """Per-variant stage breakdown (:data:`STAGE_COLUMNS`): shapes, MACs (all) and median seconds per stage."""
    unit = _mac_unit(report)
    rows = []
    for v in report.variants:
        macs = [_macs(v.macs[s].total, unit) if s in v.macs else "-" for s in STAGES[1:]]
        times = [f"{v.timing.stages.get(s, 0.0):.3f}" if v.timing else _na(v) for s in STAGES]
        rows.append([v.name, "x".join(map(str, v.encoder_input)), "x".join(map(str, v.latent)), f"{v.tokens:,}",
                     *macs, *times])
    return rows


def _target_line(t: Target) -> str:
    if t.met is None:
        return f"- [ ] {t.what}: target {t.reference:g}, not measured"
    mark = "x" if t.met else " "
    if t.kind == "at_least":
        return f"- [{mark}] {t.what}: {t.measured:.2f} (target >= {t.reference:g})"
    return (f"- [{mark}] {t.what}: {t.measured:.4g} vs {t.reference:g} ({t.deviation:+.2%}, "
            f"tolerance +-{t.tolerance:.0%})")


def summary_lines(report: BenchReport) -> list[str]:
    """The f8/f16 ratios measured in this run and the target checks, one markdown bullet each."""
    lines = []
    for v in report.variants:
        ratios = report.ratios(v.name) if v.name != report.baseline else {}
        if ratios:
            lines.append(f"- ratio {report.baseline} / {v.name}: MACs {_ratio(ratios['macs_total'])} (all), "
                         f"{_ratio(ratios['macs_without_attention'])} (w/o attention), latency "
                         f"{_ratio(ratios['latency'])} (per-round median {_ratio(ratios['latency_paired'])}), "
                         f"peak memory {_ratio(ratios['peak_memory'])}")
    return lines + [_target_line(t) for t in report.targets]


def markdown_table(columns: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def render_markdown(report: BenchReport) -> str:
    """The report as markdown: heading, setting, main table, stage table, ratios and targets."""
    c = report.clip
    lines = [f"## {report.title}", "",
             f"Clip: {c['batch']} x {c['frames']} frames, LR {c['lr_height']}x{c['lr_width']} -> "
             f"x{c['scale']}; device: {report.device}; dtype: {report.dtype}. MACs counted on the meta device; "
             "latency = median end-to-end seconds after warm-up.", ""]
    lines += markdown_table(MAIN_COLUMNS, main_rows(report)) + [""]
    lines += markdown_table(STAGE_COLUMNS, stage_rows(report)) + [""]
    return "\n".join(lines + summary_lines(report)) + "\n"


def print_report(report: BenchReport, console: Console | None = None) -> None:
    """Print the main and stage tables (rich) and the ratio/target lines."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=WIDE_CONSOLE)
    for title, columns, rows in ((report.title, MAIN_COLUMNS, main_rows(report)),
                                 ("stage breakdown", STAGE_COLUMNS, stage_rows(report))):
        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    console.print(f"device: {report.device}, dtype: {report.dtype}")
    for line in summary_lines(report):
        console.print(line, markup=False, highlight=False)


def plot_report(report: BenchReport, path: Path) -> None:
    """Stacked bars per variant: MACs by stage (attention products hatched) and, when measured, latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = report.variants
    timed = [v for v in variants if v.timing is not None]
    scale, unit = _mac_unit(report)
    fig, axes = plt.subplots(1, 2 if timed else 1, figsize=(11 if timed else 7, 4.6), squeeze=False)
    names = [v.name for v in variants]
    bottom = [0.0] * len(variants)
    ax = axes[0][0]
    for stage in STAGES[1:]:
        plain = [v.macs[stage].without_attention / scale if stage in v.macs else 0.0 for v in variants]
        attn = [v.macs[stage].attention / scale if stage in v.macs else 0.0 for v in variants]
        ax.bar(names, plain, bottom=bottom, label=stage, color=STAGE_COLORS[stage])
        bottom = [b + p for b, p in zip(bottom, plain)]
        if any(attn):
            ax.bar(names, attn, bottom=bottom, color=STAGE_COLORS[stage], hatch="//",
                   edgecolor="white", label=f"{stage} attention")
            bottom = [b + a for b, a in zip(bottom, attn)]
    ax.set_ylabel(f"{unit}MACs"), ax.set_title("MACs per stage"), ax.legend(fontsize=8)
    if timed:
        ax, bottom = axes[0][1], [0.0] * len(timed)
        for stage in STAGES:
            seconds = [v.timing.stages.get(stage, 0.0) for v in timed]
            ax.bar([v.name for v in timed], seconds, bottom=bottom, label=stage, color=STAGE_COLORS[stage])
            bottom = [b + s for b, s in zip(bottom, seconds)]
        ax.set_ylabel("seconds (median)"), ax.set_title(f"latency per stage ({report.device})"), ax.legend(fontsize=8)
    for ax in axes[0]:
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(textwrap.fill(report.title, 90 if timed else 60), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=120)
    plt.close(fig)


def write_report(report: BenchReport, out_dir: str | Path) -> list[Path]:
    """Write ``report.md``, ``report.json`` and ``report.png`` into ``out_dir`` (atomically, replacing).

    Raises:
        OutputError: ``out_dir`` cannot be created (e.g. it is a file).
    """
    md, js, png = (check_output_path(Path(out_dir) / name, overwrite=True) for name in REPORT_FILES)
    with atomic_path(md) as tmp:
        tmp.write_text(render_markdown(report))
    with atomic_path(js) as tmp:
        tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    with atomic_path(png) as tmp:
        plot_report(report, tmp)
    return [md, js, png]
