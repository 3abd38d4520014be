"""Table-1 generator: layout, best-in-bold with metric direction, published columns, script end to end."""

import json

import pytest

from fastvsr.errors import InputError
from fastvsr.metrics import EvalResults, write_results
from fastvsr.metrics.tables import make_tables


def summary(tmp_path, name, method, dataset, metrics, missing=None):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"method": method, "dataset": dataset, "metrics": metrics, "missing": missing or {}}))
    return path


@pytest.fixture
def result_files(tmp_path):
    return [
        summary(tmp_path, "a", "Ours", "udm10", {"psnr": 30.0, "lpips": 0.9, "ewarp[dis]": 1.5},
                missing={"dover": "dover: no DOVER checkout configured"}),
        summary(tmp_path, "b", "Ours", "mine", {"psnr": 20.0, "ssim": None}),
        summary(tmp_path, "c", "Baseline", "mine", {"psnr": 21.5}),
    ]


def table_lines(markdown):
    return {line.split("|")[2].strip(): line for line in markdown.splitlines() if line.startswith("| ")}


def test_markdown_has_paper_layout_with_published_columns(result_files):
    markdown, latex = make_tables(result_files)
    header = markdown.splitlines()[0]
    assert header.startswith("| Dataset | Metric | RealESRGAN† |")
    assert "FastVSR† | DOVE† | Ours | Baseline |" in header
    udm10 = markdown.split("| UDM10 |")[1].split("| mine |")[0]
    rows = table_lines("| UDM10 |" + udm10)
    assert "**30.00**" in rows["PSNR ↑"] and "26.48" in rows["PSNR ↑"]  # ours beats every published PSNR
    assert "**0.2696**" in rows["LPIPS ↓"] and "| 0.9000 |" in rows["LPIPS ↓"]  # lower is better: DOVE's
    assert rows["E*warp (DIS flow) ↓"].count("–") == 10  # no published counterpart (9) and no Baseline value
    assert rows["MUSIQ ↑"].rstrip(" |").endswith("–")  # published rows stay even where we have no value
    assert "**1.03**" in rows["E*warp ↓"] and "**1.70**" not in udm10  # VEnhancer's published E*warp is best
    assert "published numbers" in markdown and "Ours on UDM10: not computed (dover" in markdown
    assert r"\textbf{30.00}" in latex and r"$E^*_{warp}$ $\downarrow$" in latex
    assert "$^\\dagger$" in latex and "& -- &" in latex


def test_custom_dataset_rows_and_ties(result_files):
    markdown, _ = make_tables(result_files, include_published=False)
    assert "†" not in markdown
    mine = [line for line in markdown.splitlines() if "PSNR" in line][-1]
    assert mine.endswith("| 20.00 | **21.50** |")
    assert "SSIM" not in markdown  # a null mean is no row


def test_no_published_columns_for_datasets_the_papers_do_not_report(result_files):
    markdown, latex = make_tables(result_files[1:])  # only the custom dataset "mine"
    assert markdown.splitlines()[0] == "| Dataset | Metric | Ours | Baseline |"
    assert "†" not in markdown and "dagger" not in latex


def test_duplicate_results_are_rejected(tmp_path):
    files = [summary(tmp_path, n, "Ours", "UDM10", {"psnr": 1.0}) for n in ("x", "y")]
    with pytest.raises(InputError, match="two results for method 'Ours' on dataset 'UDM10'"):
        make_tables(files)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        make_tables([tmp_path / "bad.json"])


def test_make_tables_script_reads_evaluation_summaries(tmp_path, capsys):
    from tests.conftest import load_script

    main = load_script("make_tables").main

    results = EvalResults(method="Ours", dataset="UDM10", metric_names=["psnr", "ssim"])
    results.add("clip1", {"psnr": 25.0, "ssim": 0.8})
    results.add("clip2", {"psnr": float("inf"), "ssim": 1.0})
    _, json_path = write_results(results, tmp_path / "eval")
    assert main(["--results", str(json_path), "--out", str(tmp_path / "tables")]) == 0
    written = (tmp_path / "tables" / "table1.md").read_text()
    assert "| UDM10 | PSNR ↑ |" in written and "**inf**" in written and "**0.9000**" in written
    assert (tmp_path / "tables" / "table1.tex").read_text().startswith(r"\begin{tabular}")
    assert "wrote" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        from fastvsr.cli import run_main

        run_main(main, ["--results", str(json_path), "--out", str(tmp_path / "tables")])
    assert exit_info.value.code == 2  # exists without --overwrite: one-line error, exit 2
