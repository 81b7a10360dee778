"""Every script in examples/ runs as it is with --fast and reports what it should."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
MNIST = Path(os.environ.get("MLPCORE_MNIST_DIR", ROOT.parent / "shared" / "data" / "mnist"))


def run_example(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(path), "--fast", *args],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
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
