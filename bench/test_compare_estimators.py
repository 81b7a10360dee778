"""The benchmark's ``estimators`` family (``mlpcore bench --only estimators``) in quick mode: it
runs on the real MNIST digits, every library's estimator trains (accuracy > 0.8) and the table
is complete. A smoke test of the benchmark, not of the speed: no ratio is judged. It runs at one
thread: on a busy 2-core machine scikit-learn's BLAS threads wait for each other (runs of 0.2 s
took 3 s), and one thread keeps the test within seconds.

Without the MNIST files the family is not run, and says so (tested with an empty folder).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mlpcore import benchmark

pytest.importorskip("sklearn")


def _mnist_or_skip() -> Path:
    directory = benchmark.mnist_dir()
    if not any((directory / f"t10k-images-idx3-ubyte{ext}").is_file() for ext in ("", ".gz")):
        pytest.skip(f"real MNIST test set not found in {directory} (set MLPCORE_MNIST_DIR)")
    return directory


def _table(stdout: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("|")[1:-1]] for line in stdout.splitlines()
            if line.startswith("| ")]


def test_estimators_family_quick(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    directory = _mnist_or_skip()
    out_json = tmp_path / "estimators.json"
    # Two runs per seed (quick's default is one): a seed then counts the faster of its two.
    argv = ["--only", "estimators", "--quick", "--threads", "1", "--repeats", "2", "--no-progress",
            "--markdown", "--mnist", str(directory), "--json", str(out_json)]
    assert benchmark.main(argv) == 0
    stdout = capsys.readouterr().out
    rows = json.loads(out_json.read_text(encoding="utf-8"))["results"]["estimators"]

    sizes = benchmark.QUICK_ESTIMATOR_SIZES
    assert [r["case"] for r in rows] == [c.id for c in benchmark.ESTIMATOR_CASES]
    seeds = list(benchmark.ESTIMATOR_SEEDS)
    for r in rows:
        assert r["threads"] == 1 and r["skipped"] is None, r["case"]
        assert (r["n_train"], r["n_test"]) == (sizes.n_train, sizes.n_test)
        assert "real MNIST" in r["data"]
        assert r["others_cpu"] is None or 0.0 <= r["others_cpu"] <= 1.0
        for lib in benchmark.ESTIMATOR_LIBRARIES:
            assert len(r[f"{lib}_samples_s"]) == len(seeds), (r["case"], lib)
            assert all(s > 0 and math.isfinite(s) for s in r[f"{lib}_samples_s"])
            runs = r[f"{lib}_runs_s"]
            assert [len(seed_runs) for seed_runs in runs] == [2] * len(seeds)
            assert r[f"{lib}_samples_s"] == [min(seed_runs) for seed_runs in runs]  # lower middle
            every = [t for seed_runs in runs for t in seed_runs]
            assert r[f"{lib}_spread"] == pytest.approx((max(every) - min(every)) / np.median(every))
            # fit + predict/score make up the end-to-end time of each run
            for total, fit, pred in zip(r[f"{lib}_samples_s"], r[f"{lib}_fit_s"],
                                        r[f"{lib}_predict_s"]):
                assert fit > 0 and pred > 0 and fit + pred == pytest.approx(total, rel=1e-9)
            assert len(r[f"{lib}_accuracies"]) == len(seeds)
            assert all(a > 0.8 for a in r[f"{lib}_accuracies"]), (r["case"], lib)  # trained
            # accuracies on n_test digits are multiples of 1/n_test
            for a in r[f"{lib}_accuracies"]:
                assert a * sizes.n_test == pytest.approx(round(a * sizes.n_test), abs=1e-9)
            assert r[f"{lib}_accuracy"] == pytest.approx(np.mean(r[f"{lib}_accuracies"]))
            assert r[f"{lib}_seconds"] == pytest.approx(np.median(r[f"{lib}_samples_s"]))
        ratios = [s / m for s, m in zip(r["sklearn_samples_s"], r["mlpcore_samples_s"])]
        assert r["ratios"] == pytest.approx(ratios)
        assert r["ratio"] == pytest.approx(np.median(ratios))
        assert r["ratio_min"] <= r["ratio"] <= r["ratio_max"]
        assert r["accuracy_diff_points"] == pytest.approx(
            100 * (r["mlpcore_accuracy"] - r["sklearn_accuracy"]))
        if r["kind"] == "mlp":
            # the same hyper-parameters for both libraries, max_iter from the quick sizes
            assert r["mlpcore_call"] == r["sklearn_call"]
            assert f"max_iter={sizes.mlp_max_iter}," in r["mlpcore_call"]
            assert r["mlpcore_n_iter"] == r["sklearn_n_iter"] == [sizes.mlp_max_iter] * 3
            assert r["speed_met"] == (r["ratio"] >= benchmark.ESTIMATOR_SPEEDUP_TARGET)
            assert r["accuracy_met"] == (abs(r["accuracy_diff_points"]) <= 1.0 + 1e-9)
            assert r["met"] == (r["speed_met"] and r["accuracy_met"])
            assert r["flops"] > 0 and r["gemm_gflops"] > 0 and r["ratio_ceiling"] > 0
        else:
            assert r["speed_met"] is r["accuracy_met"] is r["met"] is None
    knn = rows[-1]  # the same algorithm and data: the same neighbours, the same predictions
    assert knn["mlpcore_accuracies"] == knn["sklearn_accuracies"]

    assert "### Estimators: mlpcore vs scikit-learn, end to end on MNIST" in stdout
    table = _table(stdout)
    assert table[0][0] == "benchmark" and table[0][-2:] == ["≥ 5× faster", "within 1 point"]
    assert len(table) == 1 + len(rows)  # header + one line per case
    for line, r in zip(table[1:], rows):
        assert line[0] == r["label"]
        assert all(cell and cell != "–" for cell in line[3:9]), line  # every value measured
        if r["judged"]:
            assert line[9].split()[0] in ("yes", "**no**")
            assert line[10] in ("yes", "**no**")
        elif r["kind"] == "mlp":  # measured against the bar, shown for information
            assert line[9:] == [f"{'yes' if r['speed_met'] else 'no'} (info)",
                                f"{'yes' if r['accuracy_met'] else 'no'} (info)"]
        else:
            assert line[9:] == ["– (info)", "– (info)"]
    assert "- Data: the real MNIST test digits" in stdout
    assert stdout.count("The issue's bar: scikit-learn's default network") == 1
    assert stdout.count("measured against the same bar for information (not judged)") == 2
    assert "The bar's network on the same pixels as float64" in stdout
    assert "2 runs per seed and library, the seed's median run counted" in stdout


def test_estimators_family_defaults() -> None:
    assert benchmark.build_parser().parse_args([]).only == ("gemm", "train", "estimators")
    assert benchmark.DEFAULT_ESTIMATOR_THREADS == (2,)  # like train: the machine's 2 cores
    assert benchmark.ESTIMATOR_SEEDS == (0, 1, 2)
    assert benchmark.ESTIMATOR_REPEATS == 3
    assert (benchmark.ESTIMATOR_SIZES.n_train, benchmark.ESTIMATOR_SIZES.n_test) == (8_000, 2_000)
    assert benchmark.ESTIMATOR_SIZES.mlp_max_iter == 20
    for case in benchmark.ESTIMATOR_CASES:
        if case.kind == "mlp":  # the bar: the same hyper-parameters for both libraries
            assert case.params("mlpcore", 7, 20) == case.params("sklearn", 7, 20)
            assert case.params("sklearn", 7, 20)["random_state"] == 7
    hidden = [c.params("sklearn", 0, 20)["hidden_layer_sizes"] for c in benchmark.ESTIMATOR_CASES
              if c.kind == "mlp"]
    assert hidden == [(100,), (256, 128), (100,)]
    dtypes = [c.x_dtype for c in benchmark.ESTIMATOR_CASES if c.kind == "mlp"]
    assert dtypes == ["float32", "float32", "float64"]
    # the bar is judged on scikit-learn's default network, the model a user gets by replacing
    # the import; the wider one is measured the same way and shown for information
    judged = [c.params("sklearn", 0, 20)["hidden_layer_sizes"] for c in benchmark.ESTIMATOR_CASES
              if c.kind == "mlp" and c.judged]
    from sklearn.neural_network import MLPClassifier

    assert judged == [MLPClassifier().hidden_layer_sizes] == [(100,)]


def test_estimators_family_without_mnist(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out_json = tmp_path / "estimators.json"
    argv = ["--only", "estimators", "--quick", "--no-progress", "--json", str(out_json)]
    monkeypatch.setenv("MLPCORE_MNIST_DIR", str(tmp_path))  # the default folder may be absent
    assert benchmark.main(argv) == 0
    stdout = capsys.readouterr().out
    rows = json.loads(out_json.read_text(encoding="utf-8"))["results"]["estimators"]
    assert len(rows) == len(benchmark.ESTIMATOR_CASES)
    for r in rows:
        assert "needs the real MNIST test digits" in r["skipped"]
        assert r["mlpcore_seconds"] is r["sklearn_seconds"] is r["met"] is None
    table = _table(stdout)
    assert len(table) == 1 + len(rows)
    assert all(line[-2:] == ["not run", "not run"] for line in table[1:])
    assert f"Not run: needs the real MNIST test digits (load_mnist: found neither " \
           f"t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz in {tmp_path}); pass " \
           "--mnist DIR or set MLPCORE_MNIST_DIR." in stdout


def test_estimator_data_is_a_stratified_split() -> None:
    directory = _mnist_or_skip()
    X_train, y_train, X_test, y_test, text = benchmark.estimator_data(directory=directory)
    X, y = benchmark.mlpcore.data.load_mnist(directory, subset="test")
    assert X_train.shape == (8_000, 784) and X_test.shape == (2_000, 784)
    assert X_train.dtype == X_test.dtype == np.float32 and X_train.flags.c_contiguous
    assert "8,000 training and 2,000 test digits" in text
    # every digit in exactly one part: the multiset of rows is the whole set
    whole = np.concatenate([X_train, X_test])
    order = np.lexsort(whole.T[::-1])
    reference = np.lexsort(X.T[::-1])
    np.testing.assert_array_equal(whole[order], X[reference])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test])[order], y[reference])
    # stratified: each class's test share is within one digit of 20%
    counts, test_counts = np.bincount(y, minlength=10), np.bincount(y_test, minlength=10)
    assert np.all(np.abs(test_counts - counts * 0.2) <= 1)
    # seeded: the same split again
    again = benchmark.estimator_data(directory=directory)
    np.testing.assert_array_equal(again[3], y_test)
    with pytest.raises(ValueError, match=r"estimator_data: sizes.n_train \(9000\) and "
                                         r"sizes.n_test \(2000\) must be positive and add up "
                                         r"to at most 10000"):
        benchmark.estimator_data(benchmark.EstimatorSizes(9_000, 2_000, 1, 10), directory)


def test_estimator_comparison_rejects_bad_arguments() -> None:
    run = benchmark.run_estimator_comparison
    with pytest.raises(ValueError, match=r"run_estimator_comparison: threads must be >= 1 \(got 0\)"):
        run(threads=(0,))
    with pytest.raises(TypeError, match="run_estimator_comparison: threads must be an integer"):
        run(threads=(1.5,))
    with pytest.raises(ValueError, match="run_estimator_comparison: seeds must be a non-empty"):
        run(seeds=())
    with pytest.raises(ValueError, match=r"run_estimator_comparison: repeats must be >= 1 \(got 0\)"):
        run(repeats=0)
    with pytest.raises(ValueError, match="run_estimator_comparison: settle must be >= 0.0"):
        run(settle=-1.0)
    with pytest.raises(ValueError, match=r"run_estimator_comparison: libraries must be a "
                                         r"non-empty list among \('mlpcore', 'sklearn'\)"):
        run(libraries=("torch",))
    with pytest.raises(ValueError, match="run_estimator_comparison: cases must be among"):
        run(cases=("nope",))
    with pytest.raises(TypeError, match="run_estimator_comparison: sizes must be an "
                                        "EstimatorSizes or None"):
        run(sizes=(8000, 2000))
    with pytest.raises(ValueError, match=r"run_estimator_comparison: sizes.n_warmup must be >= 50 "
                                         r"\(got 0\)"):
        run(sizes=benchmark.EstimatorSizes(100, 100, 1, 0))
    with pytest.raises(ValueError, match=r"run_estimator_comparison: sizes.mlp_max_iter must be "
                                         r">= 1 \(got 0\)"):
        run(sizes=benchmark.EstimatorSizes(100, 100, 0, 100))
    with pytest.raises(TypeError, match="estimator_data: directory must be 'auto', a str or"):
        benchmark.estimator_data(directory=3)


def test_mlp_flops_counts_the_products() -> None:
    # 784-100-10: P = 78,400 + 1,000 multiply-adds per sample; one epoch over 2 samples costs
    # 2 * (6 P - 2 * 78,400) flops, predict + score of 1 test sample 2 * 2 P.
    P = 784 * 100 + 100 * 10
    assert benchmark._mlp_flops((784, 100, 10), 1, 2, 1) == 2 * (6 * P - 2 * 78_400) + 4 * P
    assert benchmark._mlp_flops((784, 100, 10), 3, 2, 0) == 3 * 2 * (6 * P - 2 * 78_400)


def test_median_run_is_a_real_run() -> None:
    runs = [{"seconds": s, "fit_s": s - 0.5} for s in (3.0, 1.0, 2.0)]
    assert benchmark._median_run(runs) is runs[2]
    even = [{"seconds": s} for s in (4.0, 1.0, 3.0, 2.0)]
    assert benchmark._median_run(even) is even[3]  # the lower of the two middle runs
    assert benchmark._median_run(runs[:1]) is runs[0]


@pytest.mark.parametrize("argv, message", [
    (["--mnist", "{tmp}"], "--mnist: '{tmp}' holds no t10k-images-idx3-ubyte[.gz]"),
    (["--json", "{tmp}"], "--json: '{tmp}' is a folder; give a file name such as results.json"),
    (["--min-time", "nan"], "--min-time and --settle must be finite numbers >= 0 (got nan and"),
    (["--min-time", "inf"], "--min-time and --settle must be finite numbers >= 0 (got inf and"),
    (["--settle", "-1"], "--min-time and --settle must be finite numbers >= 0"),
])
def test_bad_options_fail_at_once_in_one_line(argv: list[str], message: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Checked before any measuring: an explicit --mnist folder must hold the digits (only the
    default one may be absent); NaN or infinite times used to hang in the calibration."""
    with pytest.raises(SystemExit) as info:
        benchmark.main([a.format(tmp=tmp_path) for a in ["--only", "estimators", "--quick", *argv]], prog="bench")
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("bench: error: " + message.format(tmp=tmp_path)) and err.count("\n") == 1
