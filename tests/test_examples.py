"""Every script in examples/ runs as it is with --fast and reports what it should."""

import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import mnist_dir

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
MNIST = mnist_dir()


def run_example(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(path), "--fast", *args],
        check=False, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )


@pytest.mark.skipif(not EXAMPLES, reason="examples/ is not beside the tests (installed package run)")
def test_mnist_baselines():
    if not any(MNIST.glob("t10k-images*")):
        pytest.skip(f"real MNIST test set not found in {MNIST} (set MLPCORE_MNIST_DIR)")
    result = run_example(ROOT / "examples" / "mnist_baselines.py", "--data", str(MNIST))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    accuracies = [float(line.split("test accuracy ")[1].split()[0]) for line in out.splitlines()
                  if "test accuracy" in line]
    assert len(accuracies) == 2
    assert accuracies[0] > 0.7 and accuracies[1] > 0.85  # nearest mean, 1-NN on 2,000 digits
    assert "McNemar" in out


@pytest.mark.skipif(not EXAMPLES, reason="examples/ is not beside the tests (installed package run)")
def test_mnist_baselines_reports_a_missing_folder(tmp_path):
    result = run_example(ROOT / "examples" / "mnist_baselines.py", "--data", str(tmp_path))
    assert result.returncode == 2
    assert "mnist_baselines:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not EXAMPLES, reason="examples/ is not beside the tests (installed package run)")
def test_mnist_training(tmp_path):
    if not any(MNIST.glob("t10k-images*")):
        pytest.skip(f"real MNIST test set not found in {MNIST} (set MLPCORE_MNIST_DIR)")
    saved = tmp_path / "mlp.npz"
    result = run_example(ROOT / "examples" / "mnist_training.py", "--data", str(MNIST), "--save", str(saved))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    accuracies = [float(line.split("test accuracy ")[1].split(",")[0]) for line in out.splitlines()
                  if "test accuracy" in line]
    assert len(accuracies) == 2
    assert accuracies[0] > 0.8 and accuracies[1] > 0.85  # softmax regression, MLP on 2,000 digits
    assert "McNemar" in out
    import mlpcore

    assert mlpcore.load(saved).layer_sizes == (784, 256, 128, 10)


@pytest.mark.skipif(not EXAMPLES, reason="examples/ is not beside the tests (installed package run)")
def test_mnist_training_reports_a_missing_folder(tmp_path):
    result = run_example(ROOT / "examples" / "mnist_training.py", "--data", str(tmp_path))
    assert result.returncode == 2
    assert "mnist_training:" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- #
# The lecture's examples: each runs with --fast, prints its key numbers and writes its figures.
# --------------------------------------------------------------------------- #

needs_examples = pytest.mark.skipif(not EXAMPLES, reason="examples/ is not beside the tests (installed package run)")
LECTURE_EXAMPLES = ("mnist_softmax_regression", "mnist_mlp_early_stopping", "spiral_capacity", "regularization",
                    "evaluation_statistics")
MNIST_EXAMPLES = ("mnist_softmax_regression", "mnist_mlp_early_stopping", "evaluation_statistics")


def skip_without_mnist() -> None:
    if not any(MNIST.glob("t10k-images*")):
        pytest.skip(f"real MNIST test set not found in {MNIST} (set MLPCORE_MNIST_DIR)")


def run_lecture_example(name: str, out: Path, *args: str) -> str:
    """Run examples/<name>.py --fast --out OUT; return its stdout after checking it succeeded."""
    pytest.importorskip("matplotlib")
    if name in MNIST_EXAMPLES:
        skip_without_mnist()
        args = ("--data", str(MNIST), *args)
    result = run_example(ROOT / "examples" / f"{name}.py", "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def number_after(text: str, label: str) -> float:
    """The number that follows the first occurrence of ``label`` in ``text``."""
    assert label in text, f"{label!r} not in the output:\n{text}"
    return float(text.split(label, 1)[1].split()[0].strip(",();:"))


def assert_pngs(folder: Path, *names: str) -> None:
    """Each file is a readable, non-blank PNG image of a sensible size."""
    import matplotlib.image

    for name in names:
        path = folder / name
        assert path.is_file(), f"{name} was not written"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG file"
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and image.shape[0] >= 200 and image.shape[1] >= 200, (name, image.shape)
        assert image[..., :3].std() > 0.05, f"{name} is blank"


@needs_examples
def test_mnist_softmax_regression(tmp_path):
    out = run_lecture_example("mnist_softmax_regression", tmp_path)
    assert "1600 train, 200 validation, 200 test" in out
    table = [line.split() for line in out.splitlines() if line.strip() and line.split()[0].isdigit()]
    assert [int(row[0]) for row in table] == [1, 2, 3, 4, 5]  # --fast: 5 epochs
    train_loss = [float(row[1]) for row in table]
    assert train_loss == sorted(train_loss, reverse=True)  # convex problem, small steps: loss falls every epoch
    accuracy = number_after(out, "test accuracy")
    assert 0.8 < accuracy <= 1.0
    assert number_after(out, "(error") == pytest.approx(1 - accuracy, abs=1e-4)
    assert "most frequent confusions" in out
    assert_pngs(tmp_path, "learning_curves.png", "confusion_matrix.png", "weights.png", "test_digits.png")
    if accuracy < 1.0:
        assert_pngs(tmp_path, "mistakes.png")


@needs_examples
def test_mnist_mlp_early_stopping(tmp_path):
    out = run_lecture_example("mnist_mlp_early_stopping", tmp_path)
    early, full = out.split("without early stopping:")
    early_epochs = int(number_after(early, "on the validation loss):"))
    best = int(number_after(early, "best epoch"))
    full_epochs = int(full.split()[0])
    assert full_epochs == 25  # --fast budget
    if "stopped early" in early:
        # EarlyStopping(patience=4) stops after 4 epochs without a better validation loss.
        assert early_epochs == best + 4 < full_epochs
    else:
        assert early_epochs == full_epochs
    assert f"identical to the run above for its first {early_epochs} epochs: yes" in full
    assert number_after(early, "test accuracy") > 0.8
    assert number_after(full, "test accuracy") > 0.8
    assert_pngs(tmp_path, "learning_curves.png", "full_run.png")


@needs_examples
def test_spiral_capacity(tmp_path):
    out = run_lecture_example("spiral_capacity", tmp_path)
    table = {}
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] in ("3", "6", "20"):
            # hidden, then "mean (min-max)" for train, validation and test accuracy
            table[int(cells[0])] = [float(cells[i]) for i in (1, 3, 5)]
    assert sorted(table) == [3, 6, 20]
    for accuracies in table.values():
        assert all(0.0 <= a <= 1.0 for a in accuracies)
    # Capacity: 3 units cannot follow the spiral, 20 can (the lecture's point).
    assert table[20][0] > table[3][0] + 0.1
    assert table[20][1] > table[3][1]
    assert table[20][0] > 0.9
    assert "reproduce the sweep's rows exactly: yes" in out
    assert_pngs(tmp_path, "decision_boundaries.png", "capacity.png")


@needs_examples
def test_regularization(tmp_path):
    out = run_lecture_example("regularization", tmp_path)
    names = ("none", "L2", "L1", "dropout", "input noise", "max-norm", "early stopping")
    table = {}
    for line in out.splitlines():
        for name in names:
            if line.startswith(f"{name} ") and name not in table:
                # the last six cells: train acc, val acc, test acc, gap, val loss, epochs
                table[name] = [float(c) for c in line.split()[-6:]]
    assert list(table) == list(names)
    for train, val, test, gap, val_loss, epochs in table.values():
        assert all(0.0 <= a <= 1.0 for a in (train, val, test))
        assert gap == pytest.approx(train - test, abs=1.5e-3)
        assert val_loss > 0
        assert 1 <= epochs <= 300  # --fast budget
    # Unregularised, the oversized network fits its 150 noisy points best and generalises worst.
    assert table["none"][0] == max(row[0] for row in table.values())
    assert table["none"][3] == max(row[3] for row in table.values())
    assert table["none"][3] > 0.1
    assert table["early stopping"][5] < 300
    assert all(table[name][5] == 300 for name in names if name != "early stopping")
    assert "reproduce the sweep's rows exactly: yes" in out
    assert_pngs(tmp_path, "regularization.png", "decision_boundaries.png")


@needs_examples
def test_evaluation_statistics(tmp_path):
    out = run_lecture_example("evaluation_statistics", tmp_path)
    positive_rate = number_after(out, "positive rate")
    for model in ("softmax regression", "MLP 784-128-10"):
        part = out.split(f"  {model}: AUROC")[1]
        auroc, ap = float(part.split()[0].rstrip(",")), number_after(part, "AP")
        assert 0.9 < auroc <= 1.0
        assert positive_rate < ap <= 1.0
    losses = next(line for line in out.splitlines() if "per-digit losses" in line)
    r, rho = number_after(losses, "Pearson r"), number_after(losses, "Spearman rho")
    assert 0.0 < r <= 1.0 and 0.0 <= rho <= 1.0
    counts = {}
    for line in out.splitlines():
        if "pixels tested; significant:" in line or "McNemar per digit class" in line:
            key = line.split(":")[0].strip()
            tail = line.split("significant:")[1]
            counts[key] = [int(number_after(tail, label)) for label in ("p < 0.05", "BH q < 0.05", "Bonferroni")]
    assert set(counts) == {"true labels", "shuffled labels", "McNemar per digit class"}
    for uncorrected, bh, bonferroni in counts.values():
        # Bonferroni's rejections are a subset of BH's, which are a subset of the uncorrected ones.
        assert bonferroni <= bh <= uncorrected
    # With real labels some pixels tell a 3 from a 5 even after correction.
    assert counts["true labels"][2] > 0
    assert_pngs(tmp_path, "roc.png", "precision_recall.png", "loss_correlation.png", "pixel_tests.png")


@needs_examples
@pytest.mark.parametrize("name", MNIST_EXAMPLES)
def test_lecture_example_reports_a_missing_data_folder(name, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "figures"
    result = run_example(ROOT / "examples" / f"{name}.py", "--data", str(tmp_path), "--out", str(out))
    assert result.returncode == 2
    assert f"{name}: error:" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()  # nothing is written before the data are there


@needs_examples
@pytest.mark.parametrize("name", LECTURE_EXAMPLES)
def test_lecture_example_rejects_a_negative_seed(name, tmp_path):
    result = run_example(ROOT / "examples" / f"{name}.py", "--seed", "-1", "--out", str(tmp_path / "figures"))
    assert result.returncode == 2
    assert f"{name}: error: argument --seed: must be >= 0" in result.stderr
    assert "Traceback" not in result.stderr
