"""Data sets for the command line: the built-in spiral, MNIST IDX folders, ``.npz`` and CSV files.

:func:`load_dataset` turns the ``--data`` argument into a :class:`Dataset`: features as a 2-D
float array and class labels (integers or strings), plus what the report and the model file
need to know about where they came from. Errors are ValueError or FileNotFoundError with a
message that names the file (and the line of a CSV file) and says what was expected; the
command line prints it as it is.
"""

from __future__ import annotations

import csv
import hashlib
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import data

__all__ = ["SPIRAL", "Dataset", "encode_labels", "fingerprint", "load_dataset", "parse_label_column"]

#: The built-in data set: three interleaved spiral arms of 1.75 turns in the unit disc. The
#: noise is below make_spiral's default 0.05, where the arms overlap near the centre and even a
#: well-fitted classifier stays under 90% test accuracy; at 0.03 the default MLP reaches 95-98%.
SPIRAL = {"n_samples": 2000, "n_classes": 3, "turns": 1.75, "noise": 0.03}

_MNIST_SUBSETS = ("train", "test")
# Float labels must convert to int64 (CSV text integers are read exactly, not through floats).
_INT64_LIMIT = 2.0**63
_CSV_DELIMITERS = {".csv": ",", ".tsv": "\t"}


@dataclass
class Dataset:
    """Features and labels of one ``--data`` argument.

    ``X`` has one row per sample (float64, or float32 for MNIST); ``y`` holds the class labels
    (int64 or str). ``y_text`` keeps a CSV file's labels as written, so that labels such as
    ``1`` and ``2`` can be matched against a model whose classes are strings. ``test`` is a
    separate test set (the MNIST ``t10k`` files beside the training files), else None and the
    test part is split off ``X``. ``standardise`` says whether the features are standardised
    with statistics of the training part (not for MNIST, whose pixels are already in [0, 1]).
    """

    X: np.ndarray
    y: np.ndarray
    source: str  # "spiral", "mnist", "npz" or "csv"
    description: str
    path: str = ""  # absolute path of the file or folder ("" for the spiral)
    standardise: bool = True
    y_text: np.ndarray | None = None
    test: tuple[np.ndarray, np.ndarray] | None = None
    feature_names: list[str] | None = None
    label_name: str = ""  # the CSV label column as it was found (a header name or an index)
    notes: list[str] = field(default_factory=list)


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}" + ("" if n == 1 else "s")


def parse_label_column(text: str | None) -> str | int:
    """``--label-column``: an integer (negative counts from the end) or a column name."""
    if text is None:
        return -1
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        if not stripped:
            raise ValueError("--label-column must be a column name or an index such as -1 (got '')") from None
        return stripped


def load_dataset(spec: str | None, *, label_column: str | int = -1, seed: int = 0) -> Dataset:
    """The data named by ``--data``: None or ``"spiral"`` (unless such a file exists) for the
    built-in spiral (generated with ``seed``), an MNIST IDX folder, a ``.npz`` file with arrays
    ``X`` and ``y``, or a ``.csv`` / ``.tsv`` file whose ``label_column`` holds the labels."""
    if spec is None or (spec == "spiral" and not os.path.exists(spec)):
        if label_column != -1:
            raise ValueError("--label-column applies to CSV files; the built-in spiral has its labels")
        return _spiral(seed)
    if not spec.strip():
        raise ValueError("--data: empty path; give a file or folder (or leave --data out for the spiral)")
    path = Path(spec).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"--data: no such file or folder: {spec!r}")
    if path.is_dir():
        if label_column != -1:
            raise ValueError(f"--label-column applies to CSV files; {spec} is a folder of MNIST IDX files")
        return _mnist(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if label_column != -1:
            raise ValueError(f"--label-column applies to CSV files; {spec} is a .npz file (labels are its array 'y')")
        return _npz(path)
    if suffix in _CSV_DELIMITERS:
        return _csv(path, _CSV_DELIMITERS[suffix], label_column)
    raise ValueError(
        f"--data: {spec} is neither a folder of MNIST IDX files nor a .npz, .csv or .tsv file "
        f"(suffix {suffix or 'none'!r})"
    )


def _spiral(seed: int) -> Dataset:
    X, y = data.make_spiral(
        SPIRAL["n_samples"], SPIRAL["n_classes"], turns=SPIRAL["turns"], noise=SPIRAL["noise"], seed=seed
    )
    description = (
        f"built-in spiral ({SPIRAL['n_samples']:,} points, 2 features, {SPIRAL['n_classes']} arms of "
        f"{SPIRAL['turns']} turns, noise {SPIRAL['noise']}, seed {seed})"
    )
    return Dataset(X, y, "spiral", description)


def _mnist(path: Path) -> Dataset:
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for subset in _MNIST_SUBSETS:
        try:
            found[subset] = data.load_mnist(path, subset=subset)
        except FileNotFoundError as exc:
            # Images without labels (or the reverse) are a broken set, not an absent one: going
            # on would silently train or test on the other files alone.
            prefix = "train" if subset == "train" else "t10k"
            present = sorted(p.name for p in path.glob(f"{prefix}-*") if "idx" in p.name)
            if present:
                raise FileNotFoundError(
                    f"--data: {path} has {', '.join(present)} but not the rest of the MNIST {subset} set ({exc})"
                ) from None
            continue
    if not found:
        raise FileNotFoundError(
            f"--data: the folder {path} holds no MNIST IDX files (looked for train-images-idx3-ubyte, "
            "t10k-images-idx3-ubyte and their labels, optionally .gz)"
        )
    absolute = str(path.resolve())
    if "train" in found:
        X, y = found["train"]
        test = found.get("test")
        if test is not None and test[0].shape[1] != X.shape[1]:
            raise ValueError(
                f"--data: the MNIST training and test images in {path} differ in size ({X.shape[1]} and "
                f"{test[0].shape[1]} pixels)"
            )
        what = "training files" + (f" ({len(y):,} digits) and test files ({len(test[1]):,})" if test else f" ({len(y):,} digits)")
        return Dataset(X, y, "mnist", f"MNIST {what} from {path}", absolute, standardise=False, test=test)
    X, y = found["test"]
    return Dataset(
        X, y, "mnist", f"MNIST test files from {path} ({len(y):,} digits; no training files there)",
        absolute, standardise=False,
    )


def _npz(path: Path) -> Dataset:
    if not zipfile.is_zipfile(path):  # np.load would try to unpickle it, and say so
        raise ValueError(f"{path} is not a .npz archive (not a zip file)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = set(archive.files)
            missing = [key for key in ("X", "y") if key not in names]
            if missing:
                raise ValueError(
                    f"{path} must hold arrays named 'X' (features) and 'y' (labels); missing "
                    f"{', '.join(repr(m) for m in missing)} (it has {sorted(names) or 'none'})"
                )
            X, y = archive["X"], archive["y"]
    except ValueError as exc:
        message = str(exc)
        if "allow_pickle" in message:
            message = f"{path} holds Python objects; store X and y as numeric (or string label) arrays"
        elif not message.startswith(str(path)):
            message = f"{path} is not a readable .npz archive ({message})"
        raise ValueError(message) from None
    except (OSError, EOFError) as exc:  # not a zip file, truncated
        raise ValueError(f"{path} is not a readable .npz archive ({exc})") from None
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: X must be numeric (got dtype {X.dtype})")
    if X.ndim < 2:
        raise ValueError(f"{path}: X must have one row per sample, shape (n, features) (got shape {X.shape})")
    if y.ndim != 1:
        raise ValueError(f"{path}: y must be 1-D, one label per row of X (got shape {y.shape})")
    if len(X) != len(y):
        raise ValueError(f"{path}: X and y must have the same number of rows (got {len(X)} and {len(y)})")
    if len(y) == 0:
        raise ValueError(f"{path}: X and y are empty")
    if X.ndim > 2:  # images and the like: one flat feature vector per sample
        X = X.reshape(len(X), -1)
    if X.shape[1] == 0:
        raise ValueError(f"{path}: X has no features (shape {X.shape})")
    X = X.astype(np.float64) if X.dtype.kind != "f" else X
    _check_finite_features(X, str(path))
    y = _labels(y, str(path))
    description = f"{path} ({_count(len(y), 'row')}, {_count(X.shape[1], 'feature')})"
    return Dataset(X, y, "npz", description, str(path.resolve()))


def _check_finite_features(X: np.ndarray, where: str, rows: list[int] | None = None) -> None:
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        at = f"line {rows[row]}" if rows is not None else f"row {row}"
        raise ValueError(f"{where}, {at}: feature {col} is {X[row, col]} (features must be finite numbers)")


def _labels(y: np.ndarray, where: str) -> np.ndarray:
    """Class labels as int64 (whole numbers, booleans) or str; continuous values are refused."""
    if y.dtype.kind == "b":
        return y.astype(np.int64)
    if y.dtype.kind in "iu":
        if y.dtype.kind == "u" and y.size and int(y.max()) > np.iinfo(np.int64).max:
            raise ValueError(f"{where}: labels above {np.iinfo(np.int64).max} (int64's range) are not supported "
                             f"(got {int(y.max())}); store them as strings")
        return y.astype(np.int64)
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValueError(f"{where}: the labels contain NaN or infinite values")
        if y.size and float(np.abs(y).max()) >= _INT64_LIMIT:
            raise ValueError(
                f"{where}: labels beyond int64's range (e.g. {float(np.abs(y).max()):g}) are not supported; "
                "store them as integers or strings"
            )
        if not np.all(y == np.round(y)):
            example = y[np.flatnonzero(y != np.round(y))[0]]
            raise ValueError(
                f"{where}: the labels are continuous (e.g. {example:g}); the command line trains "
                "classifiers, so labels must be classes (integers or strings). For regression use "
                "the Python API: mlpcore.MLP(..., output='identity')"
            )
        return y.astype(np.int64)
    if y.dtype.kind in "US":
        return np.char.strip(y.astype(str))
    raise ValueError(f"{where}: labels must be integers or strings (got dtype {y.dtype})")


# --------------------------------------------------------------------------- #
# CSV
# --------------------------------------------------------------------------- #


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric_labels(cells: np.ndarray, path: Path, lines: list[int]) -> np.ndarray:
    """Numeric label cells: integers read exactly as int64 (through float64, labels above 2^53
    would merge), anything else as float64 (checked as whole numbers by _labels)."""
    try:
        values = [int(cell) for cell in cells]
    except ValueError:
        return cells.astype(np.float64)
    info = np.iinfo(np.int64)
    for i, v in enumerate(values):
        if not info.min <= v <= info.max:
            raise ValueError(f"{path}, line {lines[i]}: the label {cells[i]} is beyond int64's range; "
                             "labels must be integers within it, or text")
    return np.array(values, dtype=np.int64)


def _read_rows(path: Path, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Non-blank rows (cells stripped) and their line numbers; ragged rows are an error."""
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            start = 1
            for row in reader:
                if any("\n" in cell or "\r" in cell for cell in row):
                    raise ValueError(
                        f"{path}, line {start}: a quoted field runs on to line {reader.line_num} (an unmatched "
                        'quote character "?); fields must not span lines'
                    )
                if any(cell.strip() for cell in row):
                    cells = [cell.strip() for cell in row]
                    if rows and len(cells) != len(rows[0]):
                        raise ValueError(
                            f"{path}, line {start}: {len(cells)} fields, expected {len(rows[0])} "
                            f"as in line {lines[0]}"
                        )
                    rows.append(cells)
                    lines.append(start)
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise ValueError(f"{path}, line {reader.line_num}: {exc}") from None
    if not rows:
        raise ValueError(f"{path} is empty (no rows)")
    return rows, lines


def _has_header(rows: list[list[str]]) -> bool:
    """The first row is a header when one of its cells is not a number while the cell below it
    is (a feature column under its name); a file of one row is a header only if all of it is text."""
    first = rows[0]
    if len(rows) == 1:
        return not any(_is_number(cell) for cell in first)
    below = rows[1]
    return any(not _is_number(a) and _is_number(b) for a, b in zip(first, below))


def _refuse_numeric_header(body: list[list[str]], lines: list[int], col: int, path: Path) -> None:
    """A header that numbers its columns (0,1,target over yes/no labels; 0,1,2 over integer
    labels) cannot be told from data by the cells' types. It is recognised by its feature
    cells, the column numbers 0, 1, ... (or 1, 2, ...) in order, together with a label that
    occurs on no other line; reading it as data would add a bogus class, so it is refused with
    how to make the header recognisable. (A real first sample of that shape is unlikely, and
    the message says how to keep it.)"""
    first = body[0]
    features = [cell for j, cell in enumerate(first) if j != col]
    numbered = any(features == [str(j + start) for j in range(len(features))] for start in (0, 1))
    if not numbered or len(body) < 3:
        return
    label = first[col]
    if sum(row[col] == label for row in body) == 1:
        raise ValueError(
            f"{path}, line {lines[0]}: it numbers the columns ({', '.join(first)}) and its label {label!r} "
            "occurs on no other line: it looks like a header whose names read as numbers. Give the columns "
            "names that are not numbers (such as x0, x1, label), or move the line if it is a sample"
        )


def _resolve_column(label_column: str | int, header: list[str] | None, width: int, path: Path) -> int:
    if isinstance(label_column, int):
        if not -width <= label_column < width:
            raise ValueError(
                f"--label-column {label_column} is out of range: {path} has {width} columns "
                f"(indices 0 to {width - 1}, or -1 to -{width} from the end)"
            )
        return label_column % width
    if header is None:
        raise ValueError(
            f"--label-column {label_column!r} is a name, but {path} has no header row; give the "
            "column's index (0-based, negative from the end)"
        )
    if header.count(label_column) > 1:
        raise ValueError(f"--label-column {label_column!r}: {path} has several columns of that name")
    if label_column not in header:
        raise ValueError(f"--label-column {label_column!r} is not a column of {path} (columns: {', '.join(header)})")
    return header.index(label_column)


def _csv(path: Path, delimiter: str, label_column: str | int) -> Dataset:
    rows, lines = _read_rows(path, delimiter)
    width = len(rows[0])
    if width < 2:
        raise ValueError(f"{path} has a single column; it needs at least one feature column and a label column")
    header = rows[0] if _has_header(rows) else None
    body, body_lines = (rows[1:], lines[1:]) if header is not None else (rows, lines)
    if not body:
        raise ValueError(f"{path} has a header row but no data rows")
    if header is not None:
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise ValueError(f"{path}: the header names several columns {', '.join(repr(n) for n in repeated)}; "
                             "give every column its own name (columns are matched by name later)")
    col = _resolve_column(label_column, header, width, path)
    if header is None:
        _refuse_numeric_header(body, body_lines, col, path)
    names = header if header is not None else [f"column {j}" for j in range(width)]
    cells = np.array(body, dtype=str)
    text_labels = cells[:, col]
    features = np.delete(cells, col, axis=1)
    feature_cols = [j for j in range(width) if j != col]
    X = np.empty(features.shape, dtype=np.float64)
    for k, j in enumerate(feature_cols):
        try:
            X[:, k] = features[:, k].astype(np.float64)
        except ValueError:
            bad = next((i for i, cell in enumerate(features[:, k]) if not _is_number(cell)), 0)
            where = f"column {names[j]!r}" if header is not None else f"column {j}"
            raise ValueError(
                f"{path}, line {body_lines[bad]}, {where}: {str(features[bad, k])!r} is not a number (feature "
                f"columns must be numeric; the labels are in column {names[col]!r}, choose another with "
                "--label-column)"
            ) from None
    _check_finite_features(X, str(path), body_lines)
    if any(cell == "" for cell in text_labels):
        bad = next(i for i, cell in enumerate(text_labels) if cell == "")
        raise ValueError(f"{path}, line {body_lines[bad]}: the label (column {names[col]!r}) is empty")
    numeric = all(_is_number(cell) for cell in text_labels)
    y = _labels(_numeric_labels(text_labels, path, body_lines) if numeric else text_labels, str(path))
    where = f"column {names[col]!r}" if header is not None else f"column {col} (no header row)"
    description = f"{path} ({_count(len(y), 'row')}, {_count(X.shape[1], 'feature')}, labels in {where})"
    return Dataset(
        X, y, "csv", description, str(path.resolve()), y_text=text_labels,
        feature_names=[names[j] for j in feature_cols] if header is not None else None,
        label_name=names[col] if header is not None else str(col),
    )


# --------------------------------------------------------------------------- #
# Labels and identity
# --------------------------------------------------------------------------- #


def encode_labels(y: np.ndarray, classes: np.ndarray | None = None, *, where: str = "the data") -> tuple[np.ndarray, np.ndarray]:
    """``(classes, codes)``: the sorted distinct labels (or the given ``classes``) and each
    label's index among them; a label that is not among given classes is an error."""
    if classes is None:
        classes, codes = np.unique(y, return_inverse=True)
        return classes, codes.astype(np.int64).reshape(-1)
    order = np.argsort(classes, kind="stable")
    pos = np.searchsorted(classes, y, sorter=order)
    pos = np.minimum(pos, len(classes) - 1)
    codes = order[pos]
    unknown = classes[codes] != y
    if unknown.any():
        bad = np.unique(y[unknown])
        shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        known = ", ".join(repr(c.item()) for c in classes[:12]) + (", ..." if len(classes) > 12 else "")
        raise ValueError(f"{where} has label(s) {shown}{more} that are not among the model's classes ({known})")
    return classes, codes.astype(np.int64)


def fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the features and labels as loaded (shape, dtype and bytes): tells whether a
    data set is the one a model was trained on, so its test part can be split off again."""
    digest = hashlib.sha256()
    for arr in (np.ascontiguousarray(X), np.ascontiguousarray(y)):
        digest.update(f"{arr.dtype.str}{arr.shape}".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()
