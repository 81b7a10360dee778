"""The ``mlpcore`` command line: ``python -m mlpcore``, the console script and cli.main."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from _helpers import run_python

import mlpcore
from mlpcore import cli

VERSION_LINE = f"mlpcore {mlpcore.__version__}"
SUPPORTED = ", ".join(mlpcore.supported_simd_levels())


def info_lines(stdout: str, size: int, simd: str, threads: int) -> None:
    lines = stdout.splitlines()
    assert len(lines) == 5, stdout
    assert lines[0] == VERSION_LINE
    assert lines[1] == f"simd level: {simd} (supported: {SUPPORTED})"
    assert lines[2] == f"threads: {threads}"
    assert re.fullmatch(rf"matmul {size}x{size}x{size} float32: \d+\.\d\d ms \(\d+\.\d GFLOP/s\)", lines[3]), lines[3]
    assert re.fullmatch(r"subcommands: .+", lines[4]), lines[4]


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
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [os.path.dirname(os.path.dirname(mlpcore.__file__)), env.get("PYTHONPATH")] if p
    )
    result = subprocess.run([script, "--version"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == VERSION_LINE + "\n"


def test_help():
    result = run_python("mlpcore", {}, "--help", module=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mlpcore")
    assert "--size" in result.stdout and "--version" in result.stdout


@pytest.mark.parametrize("size,message", [
    ("0", "--size must be a positive integer (got 0)"),
    ("-5", "--size must be a positive integer (got -5)"),
    ("big", "argument --size: invalid int value: 'big'"),
], ids=["zero", "negative", "not-an-int"])
def test_bad_size_is_a_usage_error(size, message):
    result = run_python("mlpcore", {}, "--size", size, module=True)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: mlpcore")
    assert result.stderr.strip().endswith("mlpcore: error: " + message)


def test_unknown_argument_is_a_usage_error():
    result = run_python("mlpcore", {}, "--frobnicate", module=True)
    assert result.returncode == 2
    assert "unrecognized arguments: --frobnicate" in result.stderr


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
