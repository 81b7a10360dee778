"""Shared argument checks.

Every check takes the name of the public function (``func``) and of the
argument (``name``) so that error messages read like
``"accuracy: y_true and y_pred must have the same length (got 5 and 4)"``.
Wrong types raise :class:`TypeError`, wrong values or shapes :class:`ValueError`.
"""

from __future__ import annotations

import contextlib
import numbers
import signal
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "DeferredInterrupts",
    "as_float_array",
    "as_label_array",
    "as_parameter_error",
    "as_rng",
    "attributes_kept_on_error",
    "c_array",
    "check_choice",
    "check_finite",
    "check_float",
    "check_int",
    "check_same_length",
    "check_size",
    "describe",
    "is_integer",
    "label_kind",
    "numeric_pandas_as_numpy",
    "one_fit_at_a_time",
    "power_of_two_below",
    "same_integer_type",
    "show",
]


@contextlib.contextmanager
def attributes_kept_on_error(obj: Any) -> Iterator[None]:
    """On an exception, put back ``obj``'s attributes as they were on entry (a fit that fails
    leaves the estimator as it was). Lists are copied, since fits append to them; other values
    are kept by reference, so arrays that are changed in place must be saved by the caller."""
    saved = {k: (list(v) if isinstance(v, list) else v) for k, v in obj.__dict__.items()}
    try:
        yield
    except Exception:
        obj.__dict__.clear()
        obj.__dict__.update(saved)
        raise


# Objects being trained, by id: (thread ident, nesting depth) of the thread training each. By
# identity, not hash and ==: an estimator subclass may define __eq__ (unhashable, or equal to
# its clone); an entry lives only while its object is being trained, so the id stays its own.
_TRAINING: dict[int, tuple[int, int]] = {}
_TRAINING_GUARD = threading.Lock()


@contextlib.contextmanager
def one_fit_at_a_time(obj: Any, func: str) -> Iterator[None]:
    """Refuse to train ``obj`` while another thread trains it. The C++ epoch releases the GIL and
    updates the weights in place, so two threads training one model would silently interleave
    their steps (and an estimator's attributes their fits). The thread already training it may
    enter again (a callback that trains the same model)."""
    me, key = threading.get_ident(), id(obj)
    depth = None
    try:
        with _TRAINING_GUARD:
            owner, held = _TRAINING.get(key, (me, 0))
            if owner != me:
                raise RuntimeError(
                    f"{func}: this {type(obj).__name__} is being trained by another thread; train a model from "
                    "one thread at a time (copy.deepcopy or sklearn.base.clone it to train copies in parallel)")
            _TRAINING[key] = (me, held + 1)
            depth = held
        yield
    finally:
        if depth is not None:
            with _TRAINING_GUARD:
                if depth == 0:
                    del _TRAINING[key]
                else:
                    _TRAINING[key] = (me, depth)


class DeferredInterrupts:
    """Ctrl-C (SIGINT) held inside a ``with`` block, raised as KeyboardInterrupt at a
    :meth:`checkpoint` or when the block ends.

    An epoch runs in C++ without the GIL, so Python sees a Ctrl-C only when the call returns:
    raised at that instant it would skip the bookkeeping that must follow every epoch (the
    divergence check and weight restore, the optimiser's step count, the epoch counters). A
    training loop holds Ctrl-C for all its epochs and calls :meth:`checkpoint` where an epoch and
    its records are complete. One handler for the whole loop, not one per epoch: installing and
    restoring a handler costs 60-130 us after an epoch has evicted the interpreter's caches
    (measured), 1-2% of a small network's epoch. Only in the main thread and with Python's
    default handler: a program's own SIGINT handler is left alone, also one that a callback
    installs inside :meth:`released`. If the block raises, its exception wins and a held Ctrl-C
    is dropped.
    """

    def __init__(self) -> None:
        self._held: list[int] = []
        self._previous: Any = None
        self._active = False
        self._handler = self._hold  # one bound method, so that `is` finds it installed

    def _hold(self, signum: int, frame: Any) -> None:
        self._held.append(signum)

    def __enter__(self) -> Self:
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._active = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._active:
            self._active = False
            if signal.getsignal(signal.SIGINT) is self._handler:
                signal.signal(signal.SIGINT, self._previous)
        if self._held and exc_type is None:
            self._held.clear()
            raise KeyboardInterrupt

    def checkpoint(self) -> None:
        """Raise KeyboardInterrupt here if Ctrl-C was pressed since the block began."""
        if self._held:
            self._held.clear()
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Python's own Ctrl-C handling for a block (user callbacks, which may be slow or loop),
        after a :meth:`checkpoint`; holding again after it, unless the block installed a SIGINT
        handler of its own, which is then left in place."""
        if not self._active:
            self.checkpoint()
            yield
            return
        # Handler first, then the check: a Ctrl-C before the swap was held and raises here,
        # one after it raises in the block; none waits for the next checkpoint.
        signal.signal(signal.SIGINT, self._previous)
        self.checkpoint()
        try:
            yield
        finally:
            if signal.getsignal(signal.SIGINT) is self._previous:
                signal.signal(signal.SIGINT, self._handler)
            else:
                self._active = False


@contextlib.contextmanager
def as_parameter_error() -> Iterator[None]:
    """A scikit-learn estimator's bad hyper-parameter raised as scikit-learn raises it:
    ``InvalidParameterError``, both a ValueError and a TypeError, so code written for either
    (``except ValueError`` around a grid search) catches it; the message is kept."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        from sklearn.utils._param_validation import InvalidParameterError

        if isinstance(exc, InvalidParameterError):
            raise
        raise InvalidParameterError(str(exc)) from None


def c_array(x: Any, dtype: Any = None) -> np.ndarray:
    """``x`` as a C-contiguous, aligned ndarray (of ``dtype``): ``x`` itself when it is one, else a
    copy. ``np.ascontiguousarray`` keeps a misaligned view (``np.frombuffer`` at an odd byte
    offset) as it is, and the C++ core refuses those (its kernels load whole elements)."""
    arr = np.asarray(x, dtype=dtype, order="C")  # 0-d stays 0-d (np.ascontiguousarray makes it 1-D)
    return arr if arr.flags.aligned else arr.copy()


def numeric_pandas_as_numpy(x: Any) -> Any:
    """A pandas DataFrame or Series whose columns are all numbers, some of them in pandas'
    nullable dtypes (``Int64``, ``Float32``, ``boolean``, as ``convert_dtypes()`` and
    ``read_csv(dtype_backend="numpy_nullable")`` give them), as a numpy array of their common
    numpy dtype; a missing value (``pd.NA``) becomes NaN, so finiteness checks refuse it by name.
    ``np.asarray`` would give an array of Python objects instead. Anything else is returned as
    it is: plain numpy columns convert as they are, and other columns (strings, categories) are
    left for the caller to refuse."""
    if type(x).__module__.split(".")[0] != "pandas" or not hasattr(x, "to_numpy"):
        return x
    dtypes = list(x.dtypes) if getattr(x, "ndim", 1) == 2 else [x.dtype]
    if all(isinstance(d, np.dtype) for d in dtypes):
        return x
    numpy_dtypes = [d if isinstance(d, np.dtype) else getattr(d, "numpy_dtype", None) for d in dtypes]
    if any(not isinstance(d, np.dtype) or d.kind not in "biuf" for d in numpy_dtypes):
        return x
    dtype = np.result_type(*numpy_dtypes)
    if bool(np.asarray(x.isna()).any()):
        return x.to_numpy(dtype=dtype if dtype.kind == "f" else np.float64, na_value=np.nan)
    return x.to_numpy(dtype=dtype)


def power_of_two_below(magnitude: Any) -> Any:
    """The power of two at or below each (positive, finite) ``magnitude``: a unit to divide data
    by exactly, so that sums of squares stay within float range near its limits."""
    return 2.0 ** np.floor(np.log2(magnitude))


def show(value: Any) -> str:
    """``repr`` of a value, with numpy scalars shown as plain Python values."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def describe(value: Any) -> str:
    """Short ``type value`` description of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        return f"array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def check_int(
    value: Any,
    name: str,
    func: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Return ``value`` as a Python int, checking ``minimum <= value <= maximum``.

    Booleans and floats are rejected with TypeError (``3.0`` is not a count).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an integer (got {describe(value)})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum} (got {value})")
    if maximum is not None and value > maximum:
        raise ValueError(f"{func}: {name} must be <= {maximum} (got {value})")
    return value


def check_float(
    value: Any,
    name: str,
    func: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
) -> float:
    """Return ``value`` as a finite Python float within the given bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a real number (got {describe(value)})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{func}: {name} must be finite (got {value})")
    if minimum is not None and (value < minimum or (value == minimum and not min_inclusive)):
        op = ">=" if min_inclusive else ">"
        raise ValueError(f"{func}: {name} must be {op} {minimum} (got {value})")
    if maximum is not None and (value > maximum or (value == maximum and not max_inclusive)):
        op = "<=" if max_inclusive else "<"
        raise ValueError(f"{func}: {name} must be {op} {maximum} (got {value})")
    return value


def check_choice(value: Any, name: str, func: str, choices: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``choices`` (compared with ``==``)."""
    choices = tuple(choices)
    if not isinstance(value, (str, type(None))) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{func}: {name} must be one of {allowed} (got {value!r})")
    return value


def check_size(value: Any, name: str, func: str) -> float | int:
    """A part size: a fraction in [0, 1) (float) or a count >= 0 (int)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{func}: {name} must be a float fraction or an int count (got {describe(value)})")
    if isinstance(value, numbers.Integral):
        return check_int(value, name, func, minimum=0)
    if isinstance(value, numbers.Real):
        return check_float(value, name, func, minimum=0.0, maximum=1.0, max_inclusive=False)
    raise TypeError(f"{func}: {name} must be a float fraction or an int count (got {describe(value)})")


def as_rng(seed: Any, func: str, name: str = "seed") -> np.random.Generator:
    """A numpy Generator from ``None``, a non-negative int, or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    check_int(seed, name, func, minimum=0)
    return np.random.default_rng(int(seed))


# Native-order float32/float64 in C order are scanned in C++; other float or complex arrays in
# blocks of this many leading-axis entries, so the temporary mask stays small for big inputs.
_SCANNED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_FINITE_CHECK_BLOCK = 4096


def check_finite(arr: np.ndarray, name: str, func: str) -> np.ndarray:
    """Raise ValueError if a numeric array contains NaN or infinity (without a temporary the
    size of the input)."""
    if arr.dtype.kind not in "fc":
        return arr
    if arr.dtype in _SCANNED_DTYPES and arr.flags.c_contiguous and arr.flags.aligned:
        found = _core.find_nonfinite(arr)
    else:
        found = 0
        flat = arr.reshape(1) if arr.ndim == 0 else arr
        for start in range(0, len(flat), _FINITE_CHECK_BLOCK):
            block = flat[start : start + _FINITE_CHECK_BLOCK]
            if not np.isfinite(block).all():
                found = 1 if np.isnan(block).any() else 2
                break
    if found == 1:
        raise ValueError(f"{func}: {name} contains NaN")
    if found == 2:
        raise ValueError(f"{func}: {name} contains infinite values")
    return arr


def _check_ndim(arr: np.ndarray, name: str, func: str, ndim: int | tuple[int, ...] | None) -> None:
    if ndim is None:
        return
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{func}: {name} must be {want} (got {arr.ndim}-D with shape {arr.shape})")


def _objects_as_float64(arr: np.ndarray, name: str, func: str, expected: str) -> np.ndarray:
    """An object array of numbers as float64: TypeError ``{func}: {name} {expected}`` for other
    objects, ValueError for Python integers beyond float64's range."""
    try:
        return arr.astype(np.float64)
    except OverflowError:
        raise ValueError(f"{func}: {name} holds a number beyond float64's range") from None
    except (TypeError, ValueError):
        raise TypeError(f"{func}: {name} {expected} (got {describe(arr)})") from None


def is_integer(value: Any) -> bool:
    """Whether ``value`` is a Python or numpy integer (bools are not)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _objects_as_integers(arr: np.ndarray) -> np.ndarray:
    """Python integers as int64 or uint64 when one of them holds them all, else as they are
    (Python integers compare exactly; as float64, 2**64 and 2**64 + 1 were one label)."""
    for dtype in (np.int64, np.uint64):
        try:
            return arr.astype(dtype)
        except OverflowError:
            continue
    return arr


def same_integer_type(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Signed and unsigned integer labels as one integer type that holds all their values (numpy
    would promote int64 with uint64 to float64, merging labels beyond 2**53), else as Python
    integers. Other arrays are returned as they are."""
    kinds = {a.dtype.kind for a in arrays}
    if not {"i", "u"} <= kinds or not kinds <= {"i", "u", "b"}:
        return arrays
    filled = [a for a in arrays if a.size]
    low = min(int(a.min()) for a in filled) if filled else 0
    high = max(int(a.max()) for a in filled) if filled else 0
    for dtype in (np.int64, np.uint64):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return tuple(a.astype(dtype) for a in arrays)
    return tuple(a.astype(object) for a in arrays)


def as_float_array(
    x: Any,
    name: str,
    func: str,
    *,
    ndim: int | tuple[int, ...] | None = 1,
    allow_empty: bool = False,
    finite: bool = True,
) -> np.ndarray:
    """Convert to a float64 array, checking dimension, emptiness and finiteness."""
    try:
        arr = np.asarray(numeric_pandas_as_numpy(x))
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{func}: {name} could not be converted to an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        if arr.dtype.kind == "O":
            arr = _objects_as_float64(arr, name, func, "must be numeric")
        else:
            raise TypeError(f"{func}: {name} must be numeric (got {describe(arr)})")
    arr = arr.astype(np.float64, copy=False)
    _check_ndim(arr, name, func, ndim)
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{func}: {name} is empty")
    if finite:
        check_finite(arr, name, func)
    return arr


def as_label_array(y: Any, name: str, func: str, *, allow_empty: bool = False) -> np.ndarray:
    """Convert class labels to a 1-D array (integers, booleans or strings).

    Float labels are accepted only if every value is a whole number (so that
    predicted probabilities passed by mistake raise a clear ValueError).
    """
    try:
        arr = np.asarray(numeric_pandas_as_numpy(y))
        if arr.dtype.kind == "f" and arr.ndim == 1 and isinstance(y, (list, tuple)) and y and all(map(is_integer, y)):
            # A list of Python integers beyond int64 (or of negatives with values beyond 2**63)
            # becomes float64, merging labels: keep them exact.
            arr = _objects_as_integers(np.asarray(y, dtype=object))
    except Exception as exc:
        raise ValueError(f"{func}: {name} could not be converted to an array ({exc})") from None
    _check_ndim(arr, name, func, 1)
    if arr.dtype.kind == "O":
        if all(isinstance(v, str) for v in arr):
            arr = arr.astype(str)
        elif arr.size and all(map(is_integer, arr)):
            arr = _objects_as_integers(arr)
        else:
            arr = _objects_as_float64(arr, name, func, "must hold numbers or strings, not a mix")
    if arr.dtype.kind not in "biufUSO":  # O: Python integers beyond 64-bit types
        raise TypeError(f"{func}: {name} must hold class labels (got {describe(arr)})")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{func}: {name} is empty")
    if arr.dtype.kind == "f":
        check_finite(arr, name, func)
        if not np.all(arr == np.round(arr)):
            raise ValueError(
                f"{func}: {name} must hold class labels, but it contains non-integer "
                "values (continuous scores or probabilities? threshold them first)"
            )
    return arr


def label_kind(labels: np.ndarray) -> str:
    """'numbers', 'strings' or 'bytes' (of an :func:`as_label_array` result): labels of different
    kinds never compare equal (b'a' is not 'a'), so mixing them would count every prediction wrong."""
    return {"U": "strings", "S": "bytes"}.get(labels.dtype.kind, "numbers")


def check_same_length(func: str, **arrays: np.ndarray) -> int:
    """Check that all arrays have the same length along axis 0; return it."""
    names = list(arrays)
    lengths = [len(a) for a in arrays.values()]
    if len(set(lengths)) > 1:
        if len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = ", ".join(names[:-1]) + f" and {names[-1]}"
        got = " and ".join(str(n) for n in lengths) if len(names) == 2 else ", ".join(map(str, lengths))
        raise ValueError(f"{func}: {who} must have the same length (got {got})")
    return lengths[0]
