"""compare.py's ``train`` family in quick mode: it runs, checks every library's training and
prints a complete table. A smoke test of the benchmark, not of the speed: no ratio is judged."""

from __future__ import annotations

import json
import math
from pathlib import Path

import compare
import pytest


def test_train_family_quick(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_json = tmp_path / "train.json"
    argv = ["--only", "train", "--quick", "--settle", "0", "--no-progress", "--markdown",
            "--json", str(out_json)]
    assert compare.main(argv) == 0
    stdout = capsys.readouterr().out
    rows = json.loads(out_json.read_text(encoding="utf-8"))["results"]["train"]

    assert [r["case"] for r in rows] == [c.id for c in compare.TRAIN_CASES]
    assert all(r["threads"] == 2 for r in rows)  # the family's default thread count
    have_torch = compare.load_torch() is not None
    have_sklearn = compare.load_sklearn() is not None
    for r in rows:
        value = r["mlpcore_value"]
        assert value is not None and math.isfinite(value), r["case"]
        if r["kind"] == "memory":
            assert r["mlpcore_memory"]["n"] == compare.QUICK_TRAIN_SIZES.n_memory
            assert r["met"] in (True, False)
            continue
        assert value > 0
        if r["kind"] != "latency":  # trained: loss on the check rows went down
            before, after = r["mlpcore_losses"][:2]
            assert after < before, r["case"]
        if have_torch:
            assert r["torch_value"] > 0 and r["torch_ratio"] > 0, r["case"]
        if have_sklearn and r["case"] == "mlp_epoch":
            assert r["sklearn_value"] > 0 and r["sklearn_ratio"] > 0
        if have_torch and (have_sklearn or r["case"] != "mlp_epoch"):
            assert r["met"] in (True, False), r["case"]  # every target was judged

    assert "### Training: mlpcore vs PyTorch vs scikit-learn" in stdout
    table = [line for line in stdout.splitlines() if line.startswith("| ")]
    assert table[0].split("|")[1].strip() == "benchmark"
    assert len(table) == 1 + len(rows)  # header + one line per case
    for case in compare.TRAIN_CASES:
        assert any(case.label in line for line in table), case.label
    assert "- cpu: " in stdout  # the environment, as a markdown list


def test_threads_default_per_family() -> None:
    args = compare.build_parser().parse_args(["--only", "train"])
    assert args.threads is None  # each family picks its own: gemm 1,2, train 2
    assert compare.DEFAULT_TRAIN_THREADS == (2,)
    assert compare.build_parser().parse_args(["--threads", "1"]).threads == (1,)
