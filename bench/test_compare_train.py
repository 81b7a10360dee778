"""The benchmark's ``train`` family (``mlpcore bench``, ``python bench/compare.py``) in quick
mode: it runs, checks every library's training and prints a complete table. A smoke test of the
benchmark, not of the speed: no ratio is judged."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import compare
import pytest

import mlpcore
from mlpcore import benchmark


def test_train_family_quick(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_json = tmp_path / "train.json"
    argv = ["--only", "train", "--quick", "--settle", "0", "--no-progress", "--markdown",
            "--json", str(out_json)]
    assert benchmark.main(argv) == 0
    stdout = capsys.readouterr().out
    rows = json.loads(out_json.read_text(encoding="utf-8"))["results"]["train"]

    assert [r["case"] for r in rows] == [c.id for c in benchmark.TRAIN_CASES]
    assert all(r["threads"] == 2 for r in rows)  # the family's default thread count
    have_torch = benchmark.load_torch() is not None
    have_sklearn = benchmark.load_sklearn() is not None
    for r in rows:
        value = r["mlpcore_value"]
        assert value is not None and math.isfinite(value), r["case"]
        if r["kind"] == "memory":
            assert r["mlpcore_memory"]["n"] == benchmark.QUICK_TRAIN_SIZES.n_memory
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
    for case in benchmark.TRAIN_CASES:
        assert any(case.label in line for line in table), case.label
    assert "- cpu: " in stdout  # the environment, as a markdown list


def test_threads_default_per_family() -> None:
    args = benchmark.build_parser().parse_args(["--only", "train"])
    assert args.threads is None  # each family picks its own: gemm 1,2, train 2
    assert benchmark.DEFAULT_TRAIN_THREADS == (2,)
    assert benchmark.build_parser().parse_args(["--threads", "1"]).threads == (1,)


def test_compare_script_forwards_to_the_package() -> None:
    # bench/compare.py is a thin script: the same main and every public name of mlpcore.benchmark.
    assert compare.main is benchmark.main
    assert compare.__all__ == benchmark.__all__
    for name in benchmark.__all__:
        assert getattr(compare, name) is getattr(benchmark, name), name
    env = dict(os.environ)  # the child imports the same mlpcore as this process
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(mlpcore.__file__).resolve().parents[1]), env.get("PYTHONPATH")) if p
    )
    result = subprocess.run([sys.executable, compare.__file__, "--only", "nope"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr == ("compare.py: error: argument --only: unknown benchmark 'nope' (choose from gemm, "
                             "train, estimators) (see 'compare.py --help')\n")
