"""The ``mlpcore`` command line: ``python -m mlpcore``, the console script and ``cli.main``.

The reports of ``train`` and ``evaluate`` are checked against independent computations: the data
are rebuilt and split with mlpcore.data, the saved model's probabilities are judged with
scikit-learn's metrics and scipy's binomial test, and every printed figure must equal the
reference to the printed precision. Most runs are in-process (``cli.main``); a few go through a
fresh ``python -m mlpcore`` to see exit codes and stderr as a shell does.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from _helpers import child_env, mnist_dir, run_python

import mlpcore
from mlpcore import _cli_data, cli
from mlpcore.data import load_mnist, make_blobs, make_circles, make_spiral, train_val_test_indices

VERSION_LINE = f"mlpcore {mlpcore.__version__}"
SUPPORTED = ", ".join(mlpcore.supported_simd_levels())
SUBCOMMAND_LINE = "subcommands: train, evaluate, bench (mlpcore <subcommand> --help)"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


@dataclass
class Run:
    code: int
    out: str
    err: str

    def value(self, key: str) -> str:
        """The text after ``key:`` on the first report line with that key."""
        for line in self.out.splitlines():
            if line.startswith(key + ":"):
                return line[len(key) + 1 :].strip()
        raise AssertionError(f"no {key!r} line in:\n{self.out}")

    def number(self, key: str) -> str:
        """The first number of a report line, as printed."""
        return self.value(key).split()[0]

    def figures(self) -> list[str]:
        """The report from its accuracy line on (the part train and evaluate share)."""
        lines = self.out.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("accuracy:"))
        stop = next((i for i, line in enumerate(lines) if line.startswith(("model saved:", "plots:"))), len(lines))
        return [line for line in lines[start:stop] if line]


def cli_run(*argv: str) -> Run:
    """``cli.main(argv)`` in this process, with stdout and stderr captured; SystemExit (argparse)
    gives its code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Run(code, out.getvalue(), err.getvalue())


def assert_ok(run: Run) -> None:
    assert run.code == 0, run.err
    assert run.err == "", run.err


def assert_one_error_line(run: Run, command: str, fragment: str) -> None:
    assert run.code == 2, (run.code, run.out, run.err)
    assert "Traceback" not in run.err
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith(f"mlpcore {command}: error: "), lines[0]
    assert fragment in lines[0], (fragment, lines[0])


def assert_png(path: Path) -> None:
    assert path.is_file(), path
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    assert path.stat().st_size > 2000


def reference_report(run: Run, y_true: np.ndarray, proba: np.ndarray, chance: float) -> None:
    """Every figure of the report equals scikit-learn's / scipy's value on the same predictions."""
    from scipy.stats import binomtest
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    pred = proba.argmax(axis=1)
    n, correct = len(y_true), int((pred == y_true).sum())
    assert run.value("samples").startswith(f"{n:,} (")
    assert run.number("accuracy") == f"{accuracy_score(y_true, pred):.4f}"
    assert f"({correct:,} of {n:,}; chance level {chance:.4f}," in run.value("accuracy")
    p = binomtest(correct, n, chance, alternative="greater").pvalue
    p_text = "p < 1e-300" if p == 0 else f"p = {p:.2g}"  # the exact tail underflows to 0
    assert run.value("beats chance").startswith(f"{'yes' if p < 0.05 else 'no'} ({p_text},")
    assert run.number("precision") == f"{precision_score(y_true, pred, average='macro', zero_division=0):.4f}"
    assert run.number("recall") == f"{recall_score(y_true, pred, average='macro', zero_division=0):.4f}"
    assert run.number("F1") == f"{f1_score(y_true, pred, average='macro', zero_division=0):.4f}"
    if proba.shape[1] == 2:
        auc = roc_auc_score(y_true, proba[:, 1])
    else:
        auc = roc_auc_score(y_true, proba, multi_class="ovr", average="macro")
    assert run.number("AUROC") == f"{auc:.4f}"
    # Per-class table: precision, recall, F1 and support of every class.
    k = proba.shape[1]
    prec = precision_score(y_true, pred, average=None, labels=range(k), zero_division=0)
    rec = recall_score(y_true, pred, average=None, labels=range(k), zero_division=0)
    f1 = f1_score(y_true, pred, average=None, labels=range(k), zero_division=0)
    rows = run.out.splitlines()
    header = rows.index(next(r for r in rows if r.startswith("class ")))
    for c in range(k):
        cells = rows[header + 1 + c].split()
        assert cells[-4:] == [f"{prec[c]:.4f}", f"{rec[c]:.4f}", f"{f1[c]:.4f}", f"{np.sum(y_true == c):,}"]


def majority_share(y_train: np.ndarray) -> float:
    """The report's chance level: the majority class's share of the training labels."""
    counts = np.bincount(y_train)
    return counts.max() / counts.sum()


def standardised(X: np.ndarray, train: np.ndarray) -> np.ndarray:
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    return ((X - mean) / std).astype(np.float32)


# --------------------------------------------------------------------------- #
# The bare command
# --------------------------------------------------------------------------- #


def info_lines(stdout: str, size: int, simd: str, threads: int) -> None:
    lines = stdout.splitlines()
    assert len(lines) == 5, stdout
    assert lines[0] == VERSION_LINE
    assert lines[1] == f"simd level: {simd} (supported: {SUPPORTED})"
    assert lines[2] == f"threads: {threads}"
    assert re.fullmatch(rf"matmul {size}x{size}x{size} float32: \d+\.\d\d ms \(\d+\.\d GFLOP/s\)", lines[3]), lines[3]
    assert lines[4] == SUBCOMMAND_LINE


def test_python_dash_m_prints_the_runtime_info():
    result = run_python("mlpcore", {"MLPCORE_NUM_THREADS": None, "MLPCORE_SIMD": None}, "--size", "64",
                        module=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    info_lines(result.stdout, 64, mlpcore.supported_simd_levels()[-1], len(os.sched_getaffinity(0)))


@pytest.mark.parametrize("simd", mlpcore.supported_simd_levels())
def test_reports_the_forced_simd_level_and_threads(simd):
    result = run_python("mlpcore", {"MLPCORE_NUM_THREADS": "3", "MLPCORE_SIMD": simd}, "--size", "17",
                        module=True)
    assert result.returncode == 0, result.stderr
    info_lines(result.stdout, 17, simd, 3)


def test_version_flag():
    result = run_python("mlpcore", {}, "--version", module=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == VERSION_LINE + "\n"


def test_console_script_version():
    script = shutil.which("mlpcore", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the mlpcore console script is not installed next to this interpreter")
    result = subprocess.run([script, "--version"], env=child_env(), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == VERSION_LINE + "\n"


@pytest.mark.parametrize(("variable", "value"), [("MLPCORE_SIMD", "bogus"), ("MLPCORE_NUM_THREADS", "x")])
def test_a_bad_environment_variable_is_a_one_line_error(variable, value):
    """The command line reports it without a traceback (exit 2); a program importing mlpcore
    still gets the ImportError."""
    result = run_python("mlpcore", {variable: value}, "train", module=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"mlpcore: error: {variable} must be") and result.stderr.count("\n") == 1
    script = shutil.which("mlpcore", path=os.path.dirname(sys.executable))
    if script is not None:
        result = subprocess.run([script, "train"], env=child_env({variable: value}), capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 2 and result.stderr.startswith(f"mlpcore: error: {variable} must be")
    result = run_python("import mlpcore", {variable: value})
    assert result.returncode == 1 and f"ImportError: {variable} must be" in result.stderr


def test_help_lists_the_subcommands():
    result = run_python("mlpcore", {}, "--help", module=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mlpcore")
    assert "--size" in result.stdout and "--version" in result.stdout
    for name, description in cli.SUBCOMMANDS.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(description.split()[0])}", result.stdout, flags=re.MULTILINE), name


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_subcommand_help_documents_every_option(command):
    run = cli_run(command, "--help")
    assert run.code == 0
    assert run.out.startswith(f"usage: mlpcore {command}")
    options = {
        "train": ["--data", "--label-column", "--hidden", "--activation", "--optimizer", "--epochs",
                  "--batch-size", "--lr", "--momentum", "--weight-decay", "--dropout", "--early-stopping",
                  "--seed", "--out", "--plot", "--val-size", "--test-size", "--threads"],
        "evaluate": ["--model", "--data", "--label-column", "--part", "--plot", "--threads"],
    }[command]
    for option in options:
        assert f"  {option}" in run.out, option


@pytest.mark.parametrize("size,message", [
    ("0", "--size must be a positive integer (got 0)"),
    ("-5", "--size must be a positive integer (got -5)"),
    ("big", "argument --size: invalid int value: 'big'"),
    ("1000000", "--size 1000000: not enough memory for the three 1000000x1000000 float32 matrices (11175.9 GiB)"),
], ids=["zero", "negative", "not-an-int", "too-big"])
def test_bad_size_is_a_one_line_usage_error(size, message):
    result = run_python("mlpcore", {}, "--size", size, module=True)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"mlpcore: error: {message} (see 'mlpcore --help')\n"


def test_unknown_argument_is_a_usage_error():
    result = run_python("mlpcore", {}, "--frobnicate", module=True)
    assert result.returncode == 2
    assert result.stderr == "mlpcore: error: unrecognized arguments: --frobnicate (see 'mlpcore --help')\n"


def test_size_belongs_to_the_bare_command():
    run = cli_run("--size", "8", "train")
    assert run.code == 2
    assert run.err == "mlpcore: error: --size applies to the bare 'mlpcore' only (see 'mlpcore --help')\n"


def test_main_in_process(capsys):
    assert cli.main(["--size", "8"]) == 0
    captured = capsys.readouterr()
    info_lines(captured.out, 8, mlpcore.simd_level(), mlpcore.get_num_threads())
    assert captured.err == ""


def test_main_version_in_process(capsys):
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["--version"])
    assert excinfo.value.code == 0
    assert capsys.readouterr().out == VERSION_LINE + "\n"


# --------------------------------------------------------------------------- #
# train and evaluate on the built-in spiral
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def spiral(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    """The default ``mlpcore train``, with its model saved."""
    path = tmp_path_factory.mktemp("spiral") / "model.npz"
    return cli_run("train", "--out", str(path)), path


def spiral_reference(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The spiral, its training rows and its test rows, rebuilt as the documentation says."""
    params = _cli_data.SPIRAL
    X, y = make_spiral(params["n_samples"], params["n_classes"], turns=params["turns"], noise=params["noise"],
                       seed=seed)
    train, _, test = train_val_test_indices(y, val_size=0.1, test_size=0.1, seed=seed)
    return X, y, train, test


def test_train_default_spiral_report_matches_references(spiral):
    run, path = spiral
    assert_ok(run)
    assert run.value("data").startswith("built-in spiral (2,000 points, 2 features, 3 arms")
    assert run.value("split").startswith("1,600 training / 200 validation / 200 test rows (stratified, seed 0)")
    assert run.value("classes") == "3: 0, 1, 2"
    assert run.value("model").startswith("MLP 2-128-64-3, relu, softmax output, cross-entropy loss")
    assert re.fullmatch(r"100 epochs in \d+\.\d\d s; lowest validation loss \d\.\d{4} in epoch \d+",
                        run.value("training"))
    assert run.value("model saved").startswith(str(path))

    X, y, train, test = spiral_reference()
    model = mlpcore.load(path)
    proba = model.predict_proba(standardised(X, train)[test])
    reference_report(run, y[test], proba, majority_share(y[train]))
    assert float(run.number("accuracy")) > 0.9
    assert run.value("beats chance").startswith("yes (p = ")
    assert run.value("AUROC").endswith("(macro average of one-vs-rest AUROCs over 3 classes)")


def test_train_is_deterministic(spiral, tmp_path):
    run, path = spiral
    again = cli_run("train", "--out", str(tmp_path / "again.npz"))
    assert_ok(again)

    def without_timing(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith(("training:", "model saved:"))]

    assert without_timing(again.out) == without_timing(run.out)
    first, second = mlpcore.load(path), mlpcore.load(tmp_path / "again.npz")
    assert first._params.tobytes() == second._params.tobytes()


def test_evaluate_reproduces_the_test_report(spiral):
    run, path = spiral
    evaluation = cli_run("evaluate", "--model", str(path))
    assert_ok(evaluation)
    assert evaluation.value("samples") == "200 (the test part of the training split, 2,000 rows split as in training)"
    assert evaluation.figures() == run.figures()
    explicit = cli_run("evaluate", "--model", str(path), "--data", "spiral", "--part", "test")
    assert_ok(explicit)
    assert explicit.figures() == run.figures()


def test_evaluate_all_rows(spiral):
    _, path = spiral
    run = cli_run("evaluate", "--model", str(path), "--part", "all")
    assert_ok(run)
    assert run.value("samples") == "2,000 (all rows)"
    X, y, train, _ = spiral_reference()
    proba = mlpcore.load(path).predict_proba(standardised(X, train))
    reference_report(run, y, proba, majority_share(y[train]))


def test_softmax_regression_and_adam(tmp_path):
    run = cli_run("train", "--hidden", "none", "--optimizer", "adam", "--lr", "0.01", "--epochs", "5")
    assert_ok(run)
    assert run.value("model").startswith("MLP 2-3, softmax output")
    assert run.value("optimiser").startswith("Adam lr 0.01, weight decay 0.0001; batch 32, up to 5 epochs")


def test_early_stopping_is_reported(tmp_path):
    run = cli_run("train", "--early-stopping", "2", "--epochs", "60", "--seed", "3")
    assert_ok(run)
    epochs = int(run.number("training"))
    assert "early stopping after 2 epochs without a lower validation loss" in run.value("optimiser")
    best = int(re.search(r"in epoch (\d+)$", run.value("training")).group(1))
    if epochs < 60:
        assert run.value("early stopping") == f"fired after epoch {epochs}; weights of epoch {best} restored"
        assert epochs == best + 2  # patience 2: two epochs without improvement after the best
    else:
        assert run.value("early stopping") == f"did not fire within 60 epochs; weights of epoch {best} kept"


# --------------------------------------------------------------------------- #
# CSV and .npz data
# --------------------------------------------------------------------------- #

SPECIES = np.array(["setosa", "versicolor", "virginica"])


def write_csv(path: Path, header: list[str] | None, rows: list[list[object]]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        if header is not None:
            f.write(",".join(header) + "\n")
        f.writelines(",".join(str(v) for v in row) + "\n" for row in rows)
    return path


@pytest.fixture
def blobs_csv(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """Labels first (strings, column 'species'), then four features; values as written."""
    X, y = make_blobs(300, 3, n_features=4, cluster_std=2.0, seed=1)
    X = np.round(X, 6)
    path = write_csv(tmp_path / "blobs.csv", ["species", "a", "b", "c", "d"],
                     [[SPECIES[c], *row] for c, row in zip(y, X)])
    return path, X, y


def test_csv_with_string_labels_and_a_header(blobs_csv, tmp_path):
    path, X, y = blobs_csv
    model_path = tmp_path / "blobs.npz"
    run = cli_run("train", "--data", str(path), "--label-column", "species", "--epochs", "30",
                  "--out", str(model_path))
    assert_ok(run)
    assert run.value("data") == f"{path} (300 rows, 4 features, labels in column 'species')"
    assert run.value("classes") == "3: setosa, versicolor, virginica"
    # The class names head the per-class table.
    assert [line.split()[0] for line in run.out.splitlines() if line.startswith(tuple(SPECIES))] == list(SPECIES)

    train, _, test = train_val_test_indices(SPECIES[y], val_size=0.1, test_size=0.1, seed=0)
    proba = mlpcore.load(model_path).predict_proba(standardised(X, train)[test])
    reference_report(run, y[test], proba, majority_share(y[train]))
    assert float(run.number("accuracy")) > 0.9

    # The same column by index, from the front and from the end: the same run.
    for column in ("0", "-5"):
        other = cli_run("train", "--data", str(path), "--label-column", column, "--epochs", "30")
        assert_ok(other)
        assert other.figures() == run.figures()

    # evaluate remembers the file and its label column.
    evaluation = cli_run("evaluate", "--model", str(model_path))
    assert_ok(evaluation)
    assert evaluation.figures() == run.figures()


def test_evaluate_matches_csv_columns_by_name(blobs_csv, tmp_path):
    path, X, y = blobs_csv
    model_path = tmp_path / "m.npz"
    assert_ok(cli_run("train", "--data", str(path), "--label-column", "species", "--epochs", "10",
                      "--out", str(model_path)))
    # Same data, columns in another order: features are matched by name, labels by the
    # remembered column name.
    shuffled = write_csv(tmp_path / "shuffled.csv", ["c", "species", "a", "d", "b"],
                         [[row[2], SPECIES[c], row[0], row[3], row[1]] for c, row in zip(y, X)])
    by_name = cli_run("evaluate", "--model", str(model_path), "--data", str(shuffled), "--part", "all")
    plain = cli_run("evaluate", "--model", str(model_path), "--data", str(path), "--part", "all")
    assert_ok(by_name)
    assert_ok(plain)
    assert by_name.figures() == plain.figures()


def test_csv_without_header_binary_labels(tmp_path):
    X, y = make_circles(400, noise=0.1, seed=0)
    X = np.round(X, 6)
    path = write_csv(tmp_path / "circles.csv", None, [[*row, c] for c, row in zip(y, X)])
    model_path = tmp_path / "circles.npz"
    run = cli_run("train", "--data", str(path), "--epochs", "60", "--out", str(model_path))
    assert_ok(run)
    assert run.value("data") == f"{path} (400 rows, 2 features, labels in column 2 (no header row))"
    assert run.value("AUROC").endswith("(positive class '1', scored by its predicted probability)")
    train, _, test = train_val_test_indices(y, val_size=0.1, test_size=0.1, seed=0)
    proba = mlpcore.load(model_path).predict_proba(standardised(X, train)[test])
    reference_report(run, y[test], proba, majority_share(y[train]))
    assert float(run.number("accuracy")) > 0.9


def test_npz_with_image_shaped_features_and_string_labels(tmp_path):
    X, y = make_blobs(200, 2, n_features=4, seed=5)
    labels = np.array(["no", "yes"])[y]
    path = tmp_path / "data.npz"
    np.savez(path, X=X.reshape(200, 2, 2), y=labels)
    model_path = tmp_path / "model.npz"
    run = cli_run("train", "--data", str(path), "--epochs", "20", "--out", str(model_path))
    assert_ok(run)
    assert run.value("data") == f"{path} (200 rows, 4 features)"
    assert run.value("classes") == "2: no, yes"
    assert run.value("AUROC").endswith("(positive class 'yes', scored by its predicted probability)")
    train, _, test = train_val_test_indices(labels, val_size=0.1, test_size=0.1, seed=0)
    proba = mlpcore.load(model_path).predict_proba(standardised(X, train)[test])
    reference_report(run, y[test], proba, majority_share(y[train]))


def test_too_small_class_is_a_warning_line(tmp_path):
    rows = [[float(i), float(i % 7), "common" if i < 60 else "other"] for i in range(80)]
    rows.append([0.5, 0.5, "rare"])
    path = write_csv(tmp_path / "rare.csv", ["u", "v", "kind"], rows)
    run = cli_run("train", "--data", str(path), "--epochs", "2")
    assert run.code == 0
    assert run.err.splitlines() == [
        "mlpcore train: warning: train_val_test_indices: class(es) ['rare'] too small to appear in the "
        f"{part} part" for part in ("validation", "test")
    ]
    assert run.value("classes") == "3: common, other, rare"


# --------------------------------------------------------------------------- #
# MNIST and plots
# --------------------------------------------------------------------------- #


def test_mnist_folder_with_test_files_only(tmp_path):
    directory = mnist_dir()
    try:
        X, y = load_mnist(directory, subset="test")
    except (FileNotFoundError, ValueError) as exc:
        pytest.skip(f"MNIST test files not available in {directory}: {exc}")
    model_path = tmp_path / "mnist.npz"
    run = cli_run("train", "--data", str(directory), "--hidden", "64", "--epochs", "3", "--batch-size", "64",
                  "--out", str(model_path))
    assert_ok(run)
    assert "10,000 digits; no training files there" in run.value("data")
    assert run.value("split") == ("8,000 training / 1,000 validation / 1,000 test rows (stratified, seed 0); "
                                  "pixels scaled to [0, 1]")
    train, _, test = train_val_test_indices(y, val_size=0.1, test_size=0.1, seed=0)
    proba = mlpcore.load(model_path).predict_proba(X[test])  # pixels as loaded: x / 255
    reference_report(run, y[test], proba, majority_share(y[train]))
    assert float(run.number("accuracy")) > 0.9


def test_mnist_folder_with_training_and_test_files(tmp_path):
    directory = mnist_dir()
    files = sorted(directory.glob("t10k-*")) if directory.is_dir() else []
    if len(files) < 2:
        pytest.skip(f"MNIST test files not available in {directory}")
    # A folder with both kinds of files: the 10,000 test digits serve as "training" files too.
    folder = tmp_path / "mnist"
    folder.mkdir()
    for path in files:
        (folder / path.name).symlink_to(path)
        (folder / path.name.replace("t10k-", "train-")).symlink_to(path)
    model_path = tmp_path / "m.npz"
    run = cli_run("train", "--data", str(folder), "--hidden", "32", "--epochs", "1", "--batch-size", "128",
                  "--out", str(model_path))
    assert_ok(run)
    assert run.value("data") == f"MNIST training files (10,000 digits) and test files (10,000) from {folder}"
    assert run.value("split").startswith("9,000 training / 1,000 validation / 10,000 test rows (the t10k files)")
    assert run.value("samples") == "10,000 (the MNIST test files)"
    X, y = load_mnist(directory, subset="test")
    train, _, _ = train_val_test_indices(y, val_size=0.1, test_size=0, seed=0)
    reference_report(run, y, mlpcore.load(model_path).predict_proba(X), majority_share(y[train]))
    evaluation = cli_run("evaluate", "--model", str(model_path))
    assert_ok(evaluation)
    assert evaluation.figures() == run.figures()


def test_plot_writes_the_pictures(tmp_path):
    pytest.importorskip("mlpcore.plot")
    plots = tmp_path / "plots" / "nested"
    model_path = tmp_path / "m.npz"
    run = cli_run("train", "--epochs", "10", "--plot", str(plots), "--out", str(model_path))
    assert_ok(run)
    names = ["learning_curves.png", "roc.png", "confusion_matrix.png", "decision_boundary.png"]
    assert run.value("plots") == ", ".join(str(plots / name) for name in names)
    for name in names:
        assert_png(plots / name)
    again = tmp_path / "evaluate"
    evaluation = cli_run("evaluate", "--model", str(model_path), "--plot", str(again))
    assert_ok(evaluation)
    assert sorted(p.name for p in again.iterdir()) == ["confusion_matrix.png", "roc.png"]
    for path in again.iterdir():
        assert_png(path)


def test_plot_without_matplotlib_fails_before_training(monkeypatch, tmp_path):
    # As if the plot extra were not installed: importing mlpcore.plot raises ImportError.
    monkeypatch.delattr(mlpcore, "plot", raising=False)
    monkeypatch.setitem(sys.modules, "mlpcore.plot", None)
    run = cli_run("train", "--plot", str(tmp_path / "plots"))
    assert_one_error_line(run, "train", "--plot: ")
    assert run.out == ""  # nothing was trained
    assert not (tmp_path / "plots").exists()


# --------------------------------------------------------------------------- #
# Errors: one line, exit status 2, no traceback
# --------------------------------------------------------------------------- #


@pytest.fixture
def bad_files(tmp_path: Path) -> Path:
    (tmp_path / "ragged.csv").write_text("a,b,label\n1,2,x\n3,4\n")
    (tmp_path / "text.csv").write_text("a,b,label\n1,2,x\n3,oops,y\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "continuous.csv").write_text("a,y\n1,0.5\n2,1.7\n3,2.2\n")
    (tmp_path / "one_class.csv").write_text("a,y\n1,k\n2,k\n3,k\n")
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "two.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    (tmp_path / "broken.npz").write_text("not a zip archive\n")
    np.savez(tmp_path / "no_y.npz", X=np.zeros((3, 2)))
    blobs, labels = make_blobs(60, 2, n_features=3, seed=0)
    np.savez(tmp_path / "three.npz", X=blobs, y=labels)
    np.savez(tmp_path / "five.npz", X=np.zeros((4, 5)), y=np.array([0, 1, 0, 1]))
    rows = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(12))
    # An unmatched quote on line 4 used to swallow the rest of the file into one bogus label.
    (tmp_path / "quote.csv").write_text("a,b,label\n1,2,0\n3,4,1\n5,6,\"0\n" + rows)
    (tmp_path / "twice.csv").write_text("a,a,label\n" + rows)
    (tmp_path / "ids.csv").write_text("a,b,label\n" + "".join(f"{i},{i % 5},id{i}\n" for i in range(20)))
    # A header whose names read as numbers used to become a data row with a class of its own.
    (tmp_path / "numbered.csv").write_text("0,1,target\n" + rows.replace(",0\n", ",no\n").replace(",1\n", ",yes\n"))
    (tmp_path / "wide_label.csv").write_text("a,y\n1,99999999999999999999\n" + "".join(f"{i},{i % 2}\n" for i in range(8)))
    np.savez(tmp_path / "float_labels.npz", X=blobs, y=np.where(labels == 1, 1e20, 2e20))
    np.savez(tmp_path / "uint_labels.npz", X=blobs, y=labels.astype(np.uint64) + np.uint64(2**63))
    np.savez(tmp_path / "huge.npz", X=blobs * 1e300, y=labels)
    np.savez(tmp_path / "no_features.npz", X=np.zeros((60, 0)), y=labels)
    return tmp_path


TRAIN_ERRORS = [
    (["--data", "{d}/missing.csv"], "--data: no such file or folder: '{d}/missing.csv'"),
    (["--data", "{d}/ragged.csv"], "{d}/ragged.csv, line 3: 2 fields, expected 3 as in line 1"),
    (["--data", "{d}/text.csv"], "{d}/text.csv, line 3, column 'b': 'oops' is not a number"),
    (["--data", "{d}/empty.csv"], "{d}/empty.csv is empty (no rows)"),
    (["--data", "{d}/continuous.csv"], "{d}/continuous.csv: the labels are continuous (e.g. 0.5)"),
    (["--data", "{d}/one_class.csv"], "the labels hold a single class (k); a classifier needs two or more"),
    (["--data", "{d}/notes.txt"], "is neither a folder of MNIST IDX files nor a .npz, .csv or .tsv file"),
    (["--data", "{d}"], "holds no MNIST IDX files"),
    (["--data", "{d}/broken.npz"], "{d}/broken.npz is not a .npz archive (not a zip file)"),
    (["--data", "{d}/no_y.npz"], "{d}/no_y.npz must hold arrays named 'X' (features) and 'y' (labels); missing 'y'"),
    (["--data", "{d}/text.csv", "--label-column", "nope"], "--label-column 'nope' is not a column of"),
    (["--data", "{d}/text.csv", "--label-column", "7"], "--label-column 7 is out of range"),
    (["--hidden", "abc"], "argument --hidden: expected comma-separated layer sizes from 1 to 16777216 such as 256,128"),
    (["--hidden", "64,-1"], "argument --hidden: expected comma-separated layer sizes from 1 to"),
    (["--activation", "swish"], "argument --activation: invalid choice: 'swish'"),
    (["--lr", "-0.1"], "argument --lr: must be > 0 (got '-0.1')"),
    (["--lr", "inf"], "argument --lr: must be finite (got 'inf')"),
    (["--epochs", "0"], "argument --epochs: must be >= 1 (got '0')"),
    (["--batch-size", "1.5"], "argument --batch-size: expected an integer (got '1.5')"),
    (["--dropout", "1"], "argument --dropout: must be >= 0 and < 1 (got '1')"),
    (["--momentum", "0.5", "--optimizer", "adam"], "--momentum applies to --optimizer sgd"),
    (["--val-size", "0.5", "--test-size", "0.5"], "leave no training data"),
    (["--out", "{d}/no/such/folder/m.npz"], "--out: the folder '{d}/no/such/folder' does not exist"),
    (["--out", "{d}"], "is a folder; give a file name such as model.npz"),
    (["--lr", "1e30", "--epochs", "2"], "fit: the training loss became NaN or infinite in epoch 1 of 2"),
    (["--epochs", "3", "surplus"], "unrecognized arguments: surplus"),
    (["--data", "{d}/quote.csv"], "{d}/quote.csv, line 4: a quoted field runs on to line 16 (an unmatched quote"),
    (["--data", "{d}/twice.csv"], "{d}/twice.csv: the header names several columns 'a'; give every column its own name"),
    (["--data", "{d}/numbered.csv"], "{d}/numbered.csv, line 1: it numbers the columns (0, 1, target) and its label "
                                     "'target' occurs on no other line"),
    (["--data", "{d}/wide_label.csv"], "{d}/wide_label.csv, line 2: the label 99999999999999999999 is beyond int64's range"),
    (["--data", "{d}/float_labels.npz"], "{d}/float_labels.npz: labels beyond int64's range (e.g. 2e+20)"),
    (["--data", "{d}/uint_labels.npz"], "{d}/uint_labels.npz: labels above 9223372036854775807 (int64's range)"),
    (["--data", "{d}/no_features.npz"], "{d}/no_features.npz: X has no features (shape (60, 0))"),
    (["--data", ""], "--data: empty path"),
    (["--data", "{d}/three.npz", "--out", "{d}/three.npz"], "--out '{d}/three.npz' is the --data file"),
    (["--label-column", "1"], "--label-column applies to CSV files; the built-in spiral has its labels"),
    (["--hidden", "0"], "argument --hidden: expected comma-separated layer sizes"),
    (["--hidden", ""], "argument --hidden: expected comma-separated layer sizes"),
    (["--hidden", "100000000000000000000"], "argument --hidden: expected comma-separated layer sizes from 1 to"),
    (["--hidden", "none", "--dropout", "0.5"], "--dropout applies to hidden units; --hidden none trains softmax"),
    (["--hidden", "none", "--activation", "tanh"], "--activation applies to hidden units"),
    (["--lr", "1e-50"], "--lr 1e-50 is out of float32's range"),
    (["--lr", "1e39"], "--lr 1e+39 is out of float32's range"),  # one line: no overflow warning first
    (["--batch-size", "100000000000000000000"], "argument --batch-size: must be below 2^63"),
    (["--seed", "18446744073709551616"], "argument --seed: must be below 2^64"),
    (["--val-size", "1e-9"], "--val-size 1e-09 of 2,000 rows rounds to no rows"),
    (["--data", "{d}/ids.csv"], "every label occurs once (id0, id1, id10, id11 and 16 more): these look like identifiers"),
]


@pytest.mark.parametrize("argv,message", TRAIN_ERRORS, ids=[" ".join(a) for a, _ in TRAIN_ERRORS])
def test_train_errors(bad_files, argv, message):
    d = str(bad_files)
    run = cli_run("train", *(a.replace("{d}", d) for a in argv))
    assert_one_error_line(run, "train", message.replace("{d}", d))


@pytest.fixture(scope="module")
def three_feature_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("three") / "three.npz"
    X, y = make_blobs(60, 2, n_features=3, seed=0)
    data = path.with_name("data.npz")
    np.savez(data, X=X, y=y)
    assert_ok(cli_run("train", "--data", str(data), "--epochs", "2", "--out", str(path)))
    return path


EVALUATE_ERRORS = [
    (["--model", "{d}/missing.npz"], "load: no such model file"),
    (["--model", "{d}/notes.txt", "--data", "{d}/three.npz"], "is not a valid mlpcore model file (not a .npz archive)"),
    (["--model", "{m}", "--data", "{d}/five.npz"], "5 features, but the model takes 3"),
    (["--model", "{m}", "--data", "{d}/two.csv"], "2 features, but the model takes 3"),
    (["--model", "{m}", "--data", "{d}/three.npz", "--part", "bogus"], "argument --part: invalid choice: 'bogus'"),
    (["--model", "{plain}"], "--data is required: {plain} does not record the data it was trained on"),
    (["--model", "{plain}", "--data", "{d}/three.npz", "--part", "test"],
     "the test part of {plain}'s training split cannot be recovered (it does not record a training split)"),
    (["--data", "{d}/three.npz"], "the following arguments are required: --model"),
]


@pytest.mark.parametrize("argv,message", EVALUATE_ERRORS, ids=[" ".join(a) for a, _ in EVALUATE_ERRORS])
def test_evaluate_errors(bad_files, three_feature_model, argv, message):
    plain = bad_files / "plain.npz"
    mlpcore.MLP([3, 4, 2], seed=0).save(plain)  # no metadata: not written by mlpcore train
    values = {"{d}": str(bad_files), "{m}": str(three_feature_model), "{plain}": str(plain)}

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    run = cli_run("evaluate", *map(fill, argv))
    assert_one_error_line(run, "evaluate", fill(message))


def test_evaluate_part_test_needs_the_training_data(three_feature_model, tmp_path):
    other = tmp_path / "other.npz"
    X, y = make_blobs(50, 2, n_features=3, seed=9)
    np.savez(other, X=X, y=y)
    run = cli_run("evaluate", "--model", str(three_feature_model), "--data", str(other), "--part", "test")
    assert_one_error_line(run, "evaluate", "these data are not the ones it was trained on); use --part all")
    auto = cli_run("evaluate", "--model", str(three_feature_model), "--data", str(other))
    assert_ok(auto)
    assert auto.value("samples") == "50 (all rows)"


def test_features_near_float64s_limit_are_standardised(bad_files):
    """X * 1e300 used to give a chance-level model after an overflow warning (the variance
    overflowed); standardising now gives the same figures as the unscaled data."""
    huge = cli_run("train", "--data", str(bad_files / "huge.npz"), "--epochs", "5")
    plain = cli_run("train", "--data", str(bad_files / "three.npz"), "--epochs", "5")
    assert_ok(huge)
    assert huge.figures() == plain.figures()


def test_headerless_files_with_a_rare_first_label_still_load(tmp_path):
    """Only a first line that numbers the columns is taken for a header (a rare class on the
    first line, or a label written 1.0, is data)."""
    rows = "".join(f"{i / 10},{(i * 7 % 10) / 10},{i % 2}\n" for i in range(40))
    for first in ("0.9,0.9,2\n", "0.5,0.5,1.0\n", "0,1,7\n0,1,7\n"):
        ds = _cli_data.load_dataset(str(_write(tmp_path / "rare.csv", first + rows)))
        assert ds.feature_names is None and len(ds.y) == 40 + first.count("\n")
    big = _cli_data.load_dataset(str(_write(tmp_path / "big.csv", "a,y\n" + "".join(
        f"{i},{9007199254740992 + i % 2}\n" for i in range(20)))))  # beyond 2^53: read exactly
    assert sorted(set(big.y.tolist())) == [9007199254740992, 9007199254740993]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_evaluate_round_trips_a_label_column_whose_name_reads_as_a_number(tmp_path):
    """The header name "0" of the label column used to be read back as column index 0."""
    X, y = make_blobs(80, 2, n_features=2, seed=4)
    data = tmp_path / "numbered.csv"
    data.write_text("f0,f1,0\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X, y)))
    model = tmp_path / "m.npz"
    run = cli_run("train", "--data", str(data), "--epochs", "3", "--out", str(model))
    assert_ok(run)
    evaluation = cli_run("evaluate", "--model", str(model))
    assert_ok(evaluation)
    assert evaluation.figures() == run.figures()


def test_evaluate_says_what_it_judges_when_the_data_changed_or_are_gone(tmp_path):
    X, y = make_blobs(80, 2, n_features=3, seed=5)
    data = tmp_path / "d.npz"
    np.savez(data, X=X, y=y)
    model = tmp_path / "m.npz"
    assert_ok(cli_run("train", "--data", str(data), "--epochs", "2", "--out", str(model)))
    np.savez(data, X=X[:-1], y=y[:-1])  # one row fewer: no longer the training data
    run = cli_run("evaluate", "--model", str(model))
    assert_ok(run)
    assert run.value("samples") == "79 (all rows)"
    assert run.value("note") == ("judging all rows, which include rows the model was trained on: these data "
                                 "have changed since training")
    data.unlink()
    assert_one_error_line(cli_run("evaluate", "--model", str(model)), "evaluate",
                          f"the data {model} was trained on ({data}) no longer exist; give them with --data")
    assert_one_error_line(cli_run("evaluate", "--model", str(tmp_path)), "evaluate",
                          f"--model: '{tmp_path}' is a folder")


def test_evaluate_refuses_features_beyond_the_models_range(three_feature_model, tmp_path):
    """A feature beyond float32 turned the probabilities into NaN, counted as class 0."""
    X, y = make_blobs(20, 2, n_features=3, seed=6)
    X[3, 1] = 1e39
    path = tmp_path / "big.npz"
    np.savez(path, X=X, y=y)
    run = cli_run("evaluate", "--model", str(three_feature_model), "--data", str(path))
    assert_one_error_line(run, "evaluate", "sample 3 (0-based, of the rows judged), feature 1: ")
    assert "is beyond the range of the model's float32 inputs" in run.err
    assert "accuracy" not in run.out


def _write_idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    path.write_bytes(header + arr.astype(np.uint8).tobytes())


def _mnist_files(folder: Path, prefix: str, n: int, side: int = 28, *, labels: bool = True) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(exist_ok=True)
    _write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, side, side)))
    if labels:
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)


@pytest.mark.parametrize("case, message", [
    ("train images without labels", "has train-images-idx3-ubyte but not the rest of the MNIST train set"),
    ("t10k images without labels", "has t10k-images-idx3-ubyte but not the rest of the MNIST test set"),
    ("sizes differ", "the MNIST training and test images in {f} differ in size (196 and 784 pixels)"),
    ("no images", "load_mnist: {f}/t10k-images-idx3-ubyte holds no images"),
])
def test_broken_mnist_folders_are_refused(tmp_path, case, message):
    """A set missing its labels used to be skipped silently (training on the other files alone);
    sizes that differ failed only after training; an empty file gave a reshape error."""
    folder = tmp_path / "mnist"
    if case == "train images without labels":
        _mnist_files(folder, "train", 50, labels=False)
        _mnist_files(folder, "t10k", 50)
    elif case == "t10k images without labels":
        _mnist_files(folder, "train", 50)
        _mnist_files(folder, "t10k", 50, labels=False)
    elif case == "sizes differ":
        _mnist_files(folder, "train", 50, side=14)
        _mnist_files(folder, "t10k", 50)
    else:
        _mnist_files(folder, "t10k", 0)
    run = cli_run("train", "--data", str(folder), "--epochs", "1")
    assert_one_error_line(run, "train", message.format(f=folder))


def test_mnist_parts_all_and_test(tmp_path):
    """With training and t10k files, --part all judges both, --part test (and auto) the t10k
    files; the training files alone have no test part when the model was tested on t10k."""
    folder = tmp_path / "mnist"
    _mnist_files(folder, "train", 300)
    _mnist_files(folder, "t10k", 100)
    model = tmp_path / "m.npz"
    assert_ok(cli_run("train", "--data", str(folder), "--hidden", "8", "--epochs", "1", "--out", str(model)))
    for part, samples in (("all", "400 (all rows: the MNIST training and test files)"),
                          ("test", "100 (the MNIST test files)"), ("auto", "100 (the MNIST test files)")):
        run = cli_run("evaluate", "--model", str(model), "--part", part)
        assert_ok(run)
        assert run.value("samples") == samples
    alone = tmp_path / "alone"
    _mnist_files(alone, "t10k", 300)  # the same digits as the training files, as test files
    run = cli_run("evaluate", "--model", str(model), "--data", str(alone), "--part", "test")
    assert_one_error_line(run, "evaluate", "was tested on separate test files, so these data (its training "
                                           "files) have no test part")


def test_labels_unknown_to_the_model(three_feature_model, tmp_path):
    X, _ = make_blobs(10, 2, n_features=3, seed=2)
    path = tmp_path / "labels.npz"
    np.savez(path, X=X, y=np.full(10, 7))
    run = cli_run("evaluate", "--model", str(three_feature_model), "--data", str(path))
    assert_one_error_line(run, "evaluate", "has label(s) 7 that are not among the model's classes (0, 1)")


def test_errors_from_a_real_process(tmp_path):
    result = run_python("mlpcore", {}, "train", "--data", str(tmp_path / "nope.csv"), module=True)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"mlpcore train: error: --data: no such file or folder: '{tmp_path / 'nope.csv'}'\n"
    result = run_python("mlpcore", {}, "evaluate", "--model", str(tmp_path / "nope.npz"), module=True)
    assert result.returncode == 2
    assert result.stderr == f"mlpcore evaluate: error: load: no such model file: '{tmp_path / 'nope.npz'}'\n"


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
def test_closed_stdout_still_saves_the_model(tmp_path, buffered):
    # `mlpcore train --out m.npz | head -1`: the reader goes away after the first line.
    env = child_env({"PYTHONUNBUFFERED": None if buffered else "1"})
    model_path = tmp_path / "m.npz"
    argv = [sys.executable, "-m", "mlpcore", "train", "--epochs", "20", "--out", str(model_path)]
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith("data:")
        proc.stdout.close()
        stderr = proc.stderr.read()
        code = proc.wait(timeout=120)
    assert code in (0, 141), stderr  # 141 = 128 + SIGPIPE, when the closed pipe showed
    assert stderr == ""  # neither a traceback nor "Exception ignored ... BrokenPipeError"
    assert mlpcore.load(model_path).layer_sizes == (2, 128, 64, 3)


def test_ctrl_c_exits_130(monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_cli_data, "load_dataset", interrupted)
    run = cli_run("train")
    assert run.code == 130
    assert run.err == "mlpcore train: interrupted\n"


def test_threads_option_is_restored():
    before = mlpcore.get_num_threads()
    run = cli_run("train", "--epochs", "1", "--threads", "1")
    assert_ok(run)
    assert mlpcore.get_num_threads() == before


def test_python_dash_m_train_without_a_terminal_prints_no_progress():
    result = run_python("mlpcore", {}, "train", "--epochs", "5", module=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # progress lines only on a terminal
    assert "samples:        200 (the test part)" in result.stdout


# --------------------------------------------------------------------------- #
# bench
# --------------------------------------------------------------------------- #


def test_bench_forwards_to_the_benchmark():
    # The smallest run of the train family: mlpcore alone, one measurement per case.
    run = cli_run("bench", "--only", "train", "--quick", "--settle", "0", "--no-progress", "--no-torch",
                  "--no-sklearn", "--repeats", "1")
    assert run.code == 0, run.err
    assert "Training: mlpcore vs PyTorch vs scikit-learn" in run.out
    assert "torch:        left out (--no-torch)" in run.out
    table = [line for line in run.out.splitlines() if line.startswith("| ")]
    from mlpcore import benchmark

    assert len(table) == 1 + len(benchmark.TRAIN_CASES)  # header and one row per case


def test_bench_usage_error():
    run = cli_run("bench", "--only", "nope")
    assert run.code == 2
    # One line, as the other subcommands' errors (no usage block).
    assert run.err == ("mlpcore bench: error: argument --only: unknown benchmark 'nope' (choose from gemm, train, "
                       "estimators) (see 'mlpcore bench --help')\n")
