"""Offline datasets for :mod:`bea.deep`: nothing is downloaded, every split is fixed and seeded.

* ``"digits"`` — scikit-learn's bundled 8×8 handwritten digits (1,797 × 64, 10 classes, shipped in
  the scikit-learn wheel): a fixed permutation (seed 0) splits it into 1,200 training and 597 test
  images; features are standardised with the training mean and standard deviation.
* ``"teacher"`` — a teacher–student regression: Gaussian inputs, targets from a fixed random
  tanh network (the teacher), so the true function is known.
* :func:`from_npz` — a user's own arrays ``x_train, y_train, x_test, y_test`` in one ``.npz`` file
  (read without pickle: nothing in the file is executed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["DATASETS", "Dataset", "dataset", "digits", "from_npz", "teacher_student"]

#: Size of the digits training split (the rest, 597 images, is the test split).
DIGITS_TRAIN = 1200


@dataclass(frozen=True)
class Dataset:
    """Full-batch train and test arrays.

    Attributes
    ----------
    x_train, y_train, x_test, y_test : numpy.ndarray
        Inputs (n, d) as float64; targets as int labels (classification) or float (n, k).
    task : str
        ``"classification"`` (cross-entropy, accuracy) or ``"regression"`` (mean squared error).
    name : str
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    name: str

    @property
    def n_inputs(self) -> int:
        """Number of input features."""
        return int(self.x_train.shape[1])

    @property
    def n_outputs(self) -> int:
        """Number of classes (classification) or target dimensions (regression)."""
        if self.task == "classification":
            return int(max(self.y_train.max(), self.y_test.max()) + 1)
        return int(self.y_train.shape[1])


def _count(n, what: str, maximum: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise InputError(f"{what} must be a whole number, got {n!r}")
    if not 1 <= n <= maximum:
        raise InputError(f"{what} must be between 1 and {maximum:,}, got {n}")
    return int(n)


def digits(n_train: int = DIGITS_TRAIN, n_test: int | None = None) -> Dataset:
    """scikit-learn's digits with bea's fixed split (first ``n_train`` of the 1,200 training images).

    Examples
    --------
    >>> d = digits(300)
    >>> d.x_train.shape, d.x_test.shape, d.n_outputs
    ((300, 64), (597, 64), 10)
    >>> bool(abs(digits().x_train.mean()) < 1e-12)
    True
    """
    from sklearn.datasets import load_digits

    n_train = _count(n_train, "n_train", DIGITS_TRAIN)
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order].astype(np.float64), y[order].astype(np.int32)
    xtr, ytr, xte, yte = x[:DIGITS_TRAIN], y[:DIGITS_TRAIN], x[DIGITS_TRAIN:], y[DIGITS_TRAIN:]
    mean, std = xtr.mean(axis=0), xtr.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    if n_test is not None:
        n_test = _count(n_test, "n_test", len(yte))
        xte, yte = xte[:n_test], yte[:n_test]
    return Dataset(xtr[:n_train], ytr[:n_train], xte, yte, "classification", "digits")


def teacher_student(
    n_train: int = 256, n_test: int = 256, inputs: int = 8, hidden: int = 16, seed: int = 0
) -> Dataset:
    """Regression on the outputs of a fixed random one-hidden-layer tanh network (the teacher).

    Examples
    --------
    >>> d = teacher_student(64, 32, inputs=3)
    >>> d.x_train.shape, d.y_train.shape, d.task
    ((64, 3), (64, 1), 'regression')
    """
    n_train = _count(n_train, "n_train", 10**6)
    n_test = _count(n_test, "n_test", 10**6)
    inputs = _count(inputs, "inputs", 10**4)
    hidden = _count(hidden, "hidden", 10**4)
    rng = np.random.default_rng(seed)
    w1 = rng.normal(size=(inputs, hidden)) / np.sqrt(inputs)
    w2 = rng.normal(size=(hidden, 1)) / np.sqrt(hidden)
    x = rng.normal(size=(n_train + n_test, inputs))
    y = np.tanh(x @ w1) @ w2
    return Dataset(
        x[:n_train], y[:n_train], x[n_train:], y[n_train:], "regression", "teacher-student"
    )


#: Arrays a data file must hold.
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def from_npz(path) -> Dataset:
    """A user's dataset from an ``.npz`` file with arrays ``x_train, y_train, x_test, y_test``.

    Inputs are 2-D (n, d) arrays of numbers (used as given: standardise them yourself). Integer
    1-D targets make a classification task (labels 0 … k−1), 2-D float targets a regression task.
    The file is read with ``allow_pickle=False``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> rng = np.random.default_rng(0)
    >>> np.savez(f, x_train=rng.normal(size=(20, 3)), y_train=np.arange(20) % 2,
    ...          x_test=rng.normal(size=(8, 3)), y_test=np.arange(8) % 2)
    >>> d = from_npz(f)
    >>> d.task, d.n_inputs, d.n_outputs, d.name
    ('classification', 3, 2, 'd.npz')
    """
    import os
    import zipfile

    name = os.path.basename(os.fspath(path))
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in NPZ_KEYS if k not in f.files]
            if missing:
                raise InputError(
                    f"{name} lacks the arrays {', '.join(missing)} (it needs {', '.join(NPZ_KEYS)})"
                )
            arrays = {k: np.asarray(f[k]) for k in NPZ_KEYS}
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"data file {path} does not exist") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise InputError(f"cannot read {path} as an .npz of arrays: {err}") from None
    x_train, y_train, x_test, y_test = (arrays[k] for k in NPZ_KEYS)
    for key in ("x_train", "x_test"):
        a = arrays[key]
        if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1 or not np.issubdtype(a.dtype, np.number):
            raise InputError(f"{key} in {name} must be a non-empty 2-D array of numbers")
        if not np.all(np.isfinite(a)):
            raise InputError(f"{key} in {name} holds NaN or infinite values")
    if x_train.shape[1] != x_test.shape[1]:
        raise InputError(f"x_train and x_test in {name} have different numbers of features")
    for x, y, key in ((x_train, y_train, "y_train"), (x_test, y_test, "y_test")):
        if len(y) != len(x):
            raise InputError(f"{key} in {name} has {len(y)} rows, its inputs {len(x)}")
    if np.issubdtype(y_train.dtype, np.integer) and np.issubdtype(y_test.dtype, np.integer):
        if y_train.ndim != 1 or y_test.ndim != 1:
            raise InputError(f"integer labels in {name} must be 1-D")
        if min(y_train.min(), y_test.min()) < 0:
            raise InputError(f"labels in {name} must be 0, 1, …, k−1")
        task = "classification"
        y_train, y_test = y_train.astype(np.int32), y_test.astype(np.int32)
    elif np.issubdtype(y_train.dtype, np.floating) and y_train.ndim == 2 and y_test.ndim == 2:
        if y_train.shape[1] != y_test.shape[1] or not (
            np.all(np.isfinite(y_train)) and np.all(np.isfinite(y_test))
        ):
            raise InputError(f"regression targets in {name} must be finite, of equal width")
        task = "regression"
    else:
        raise InputError(
            f"targets in {name} must be 1-D integer labels (classification) or 2-D floats "
            "(regression)"
        )
    return Dataset(
        x_train.astype(np.float64),
        y_train,
        x_test.astype(np.float64),
        y_test,
        task,
        name,
    )


#: Built-in datasets by name.
DATASETS = {"digits": digits, "teacher": teacher_student}


def dataset(name: str, **options) -> Dataset:
    """A built-in dataset by name (see :data:`DATASETS`).

    Examples
    --------
    >>> dataset("digits", n_train=100).x_train.shape
    (100, 64)
    """
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    return DATASETS[name](**options)
