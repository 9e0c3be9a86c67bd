"""Problems for :mod:`bea.deep`: a loss E(θ) on a flat parameter vector θ ∈ ℝᵐ, full batch.

A :class:`Problem` holds the loss as a JAX function of (θ, batch), the training and (optional) test
batches, a starting point θ₀ and the precision. Built-in models are smooth MLPs (:func:`mlp`);
any model written as ``loss(params, batch)`` over a pytree of parameters becomes a problem with
:meth:`Problem.from_loss` (the pytree is flattened with ``jax.flatten_util.ravel_pytree``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .backend import require, scope
from .data import Dataset, dataset

__all__ = ["ACTIVATIONS", "MLP", "Problem", "mlp", "problem"]

#: Smooth activations (the expansion needs a smooth loss); ``"relu"`` is accepted with a warning.
ACTIVATIONS = ("tanh", "softplus", "gelu", "relu")
DTYPES = ("float64", "float32")


def _activation(name: str):
    jax = require()
    return {
        "tanh": jax.numpy.tanh,
        "softplus": jax.nn.softplus,
        "gelu": jax.nn.gelu,
        "relu": jax.nn.relu,
    }[name]


@dataclass(frozen=True)
class MLP:
    """A fully connected network: affine layers of the given widths, an activation between them.

    Attributes
    ----------
    widths : tuple of int
        Input size, hidden widths, output size (at least two entries).
    act : str
        One of :data:`ACTIVATIONS`.
    """

    widths: tuple[int, ...]
    act: str = "tanh"

    def n_params(self) -> int:
        """Number of weights and biases."""
        return sum((a + 1) * b for a, b in zip(self.widths[:-1], self.widths[1:], strict=True))

    def init(self, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        """LeCun-normal weights (variance 1/fan-in) and zero biases, seeded (NumPy, float64)."""
        rng = np.random.default_rng(seed)
        return [
            (rng.normal(size=(a, b)) / np.sqrt(a), np.zeros(b))
            for a, b in zip(self.widths[:-1], self.widths[1:], strict=True)
        ]

    def apply(self, params, x):
        """The network's outputs (logits) at inputs ``x`` of shape (n, widths[0])."""
        act = _activation(self.act)
        for i, (w, b) in enumerate(params):
            x = x @ w + b
            if i < len(params) - 1:
                x = act(x)
        return x


def mlp(widths: Sequence[int], act: str = "tanh") -> MLP:
    """A smooth MLP (see :class:`MLP`).

    Examples
    --------
    >>> mlp([64, 16, 10]).n_params()
    1210
    """
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence):
        raise InputError(f"widths must be a list of whole numbers, got {widths!r}")
    ws = []
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, int | np.integer) or not 1 <= w <= 100_000:
            raise InputError(f"each width must be a whole number in [1, 100000], got {w!r}")
        ws.append(int(w))
    if len(ws) < 2:
        raise InputError("an MLP needs at least an input and an output width")
    if act not in ACTIVATIONS:
        raise InputError(f"unknown activation {act!r}; choose from {', '.join(ACTIVATIONS)}")
    if act == "relu":
        warnings.warn(
            "relu is not smooth: backward error analysis assumes a smooth loss, and steps that "
            "cross a kink break the expansion (use tanh, softplus or gelu)",
            stacklevel=2,
        )
    return MLP(tuple(ws), act)


def _cross_entropy(logits, labels):
    jnp = require().numpy
    logz = require().scipy.special.logsumexp(logits, axis=-1)
    picked = jnp.take_along_axis(logits, labels[:, None], axis=-1)[:, 0]
    return jnp.mean(logz - picked)


def _mse(out, target):
    jnp = require().numpy
    return 0.5 * jnp.mean(jnp.sum((out - target) ** 2, axis=-1))


@dataclass(frozen=True, eq=False)
class Problem:
    """A full-batch loss E(θ) on flat parameters θ ∈ ℝᵐ.

    Attributes
    ----------
    batch_loss : callable
        ``batch_loss(theta, batch)`` → scalar, a JAX function.
    train, test : tuple of arrays or None
        The training batch (E is ``batch_loss(θ, train)``) and an optional test batch.
    theta0 : numpy.ndarray, shape (m,)
        Starting point, in ``dtype``.
    dtype : str
        ``"float64"`` (verification) or ``"float32"`` (training speed).
    predict : callable or None
        ``predict(theta, x)`` → outputs (logits), for accuracies.
    unravel : callable or None
        Flat θ → the model's parameter pytree.
    task : str
        ``"classification"``, ``"regression"`` or ``"custom"``.
    name : str

    Examples
    --------
    >>> p = problem("digits", mlp([64, 8, 10]), n_train=100)
    >>> p.m, p.dtype
    (610, 'float64')
    >>> 2.0 < p.loss(p.theta0) < 3.0
    True
    """

    batch_loss: Callable
    train: tuple
    theta0: np.ndarray
    dtype: str = "float64"
    test: tuple | None = None
    predict: Callable | None = None
    unravel: Callable | None = None
    task: str = "custom"
    name: str = "problem"

    @property
    def m(self) -> int:
        """Number of parameters."""
        return int(self.theta0.size)

    def energy(self, theta):
        """E(θ) as a JAX expression (for use inside JAX transformations)."""
        return self.batch_loss(theta, self.train)

    def loss(self, theta) -> float:
        """E(θ) on the training batch, as a float."""
        with scope():
            return float(self._jitted_loss(self.cast(theta)))

    def gradient(self, theta) -> np.ndarray:
        """∇E(θ) as a NumPy array."""
        with scope():
            return np.asarray(self._jitted_grad(self.cast(theta)))

    @functools.cached_property
    def _jitted_loss(self):
        return require().jit(self.energy)

    @functools.cached_property
    def _jitted_grad(self):
        jax = require()
        return jax.jit(jax.grad(self.energy))

    def cast(self, theta):
        """θ as a JAX array of the problem's dtype and shape (m,); refuses other shapes."""
        jnp = require().numpy
        arr = np.asarray(theta)
        if arr.shape != (self.m,):
            raise InputError(f"θ must have shape ({self.m},), got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InputError("θ must be finite")
        return jnp.asarray(arr, dtype=self.dtype)

    def with_dtype(self, dtype: str) -> Problem:
        """The same problem in another precision."""
        dtype = _check_dtype(dtype)
        cast = _cast_tree(dtype)
        return Problem(
            self.batch_loss,
            cast(self.train),
            self.theta0.astype(dtype),
            dtype,
            None if self.test is None else cast(self.test),
            self.predict,
            self.unravel,
            self.task,
            self.name,
        )

    def accuracy(self, theta, split: str = "train") -> float:
        """Fraction of correctly classified examples (classification problems only)."""
        if self.task != "classification" or self.predict is None:
            raise InputError("accuracy needs a classification problem with a predict function")
        batch = self.train if split == "train" else self.test
        if batch is None:
            raise InputError(f"this problem has no {split} batch")
        with scope():
            out = np.asarray(self.predict(self.cast(theta), batch[0]))
        return float(np.mean(out.argmax(axis=-1) == np.asarray(batch[1])))

    @classmethod
    def from_loss(
        cls,
        loss: Callable,
        params,
        batch,
        test=None,
        *,
        predict: Callable | None = None,
        dtype: str = "float64",
        name: str = "user model",
    ) -> Problem:
        """A problem from any model written as ``loss(params, batch)`` over a pytree of params.

        Parameters
        ----------
        loss : callable
            ``loss(params, batch)`` → scalar, written with ``jax.numpy``.
        params : pytree
            Starting parameters (dicts, lists, tuples of arrays).
        batch : pytree of arrays
            The full training batch.
        test : pytree of arrays, optional
            A test batch.
        predict : callable, optional
            ``predict(params, inputs)`` → class scores; with it, and batches ``(x, labels)``, the
            problem is a classification problem (accuracies in training).
        dtype : str
            ``"float64"`` or ``"float32"``.
        name : str

        Examples
        --------
        >>> import jax.numpy as jnp
        >>> def loss(p, batch):
        ...     x, y = batch
        ...     return 0.5 * jnp.mean((x @ p["w"] + p["b"] - y) ** 2)
        >>> x = np.linspace(0, 1, 8)[:, None]
        >>> prob = Problem.from_loss(loss, {"w": np.ones(1), "b": np.zeros(1)}, (x, 2 * x[:, 0]))
        >>> prob.m, round(prob.loss(prob.theta0), 6)
        (2, 0.178571)
        """
        if not callable(loss):
            raise InputError("loss must be a function loss(params, batch)")
        dtype = _check_dtype(dtype)
        jax = require()
        from jax.flatten_util import ravel_pytree

        with scope():
            try:
                flat, unravel = ravel_pytree(_cast_tree(dtype)(params))
            except TypeError as err:
                raise InputError(f"params must be a pytree of arrays: {err}") from None
            if flat.size == 0:
                raise InputError("the model has no parameters")
            cast = _cast_tree(dtype)
            train, tst = cast(batch), None if test is None else cast(test)

            def batch_loss(theta, b):
                return loss(unravel(theta), b)

            try:
                value = jax.eval_shape(batch_loss, flat, train)
            except Exception as err:  # noqa: BLE001 - user code: report, do not crash
                raise InputError(
                    f"loss(params, batch) failed: {type(err).__name__}: {err}"
                ) from None
            if value.shape != ():
                raise InputError(
                    f"loss(params, batch) must return a scalar, got shape {value.shape}"
                )
        pred = None if predict is None else (lambda theta, x: predict(unravel(theta), x))
        return cls(
            batch_loss,
            train,
            np.asarray(flat),
            dtype,
            tst,
            pred,
            unravel,
            "classification" if predict is not None else "custom",
            name,
        )

    @classmethod
    def from_function(cls, energy: Callable, theta0, *, dtype: str = "float64", name="loss"):
        """A problem from a loss E(θ) of a flat vector (no data), e.g. a two-parameter toy loss.

        Examples
        --------
        >>> import jax.numpy as jnp
        >>> prob = Problem.from_function(lambda t: (0.6 - t[0] * t[1]) ** 2 / 2, [2.8, 3.5])
        >>> round(prob.loss(prob.theta0), 4)
        42.32
        """
        theta0 = np.asarray(theta0, dtype=_check_dtype(dtype))
        if theta0.ndim != 1 or theta0.size == 0:
            raise InputError(f"θ₀ must be a non-empty vector, got shape {theta0.shape}")
        return cls.from_loss(lambda t, _b: energy(t), theta0, (), dtype=dtype, name=name)


def _check_dtype(dtype) -> str:
    dtype = str(np.dtype(dtype)) if dtype in (np.float32, np.float64) else dtype
    if dtype not in DTYPES:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return dtype


def _cast_tree(dtype: str):
    jax = require()

    def cast(tree):
        def leaf(x):
            arr = np.asarray(x)
            if np.issubdtype(arr.dtype, np.floating):
                return arr.astype(dtype)
            return arr

        return jax.tree_util.tree_map(leaf, tree)

    return cast


def problem(
    data: str | Dataset,
    model: MLP,
    *,
    seed: int = 0,
    dtype: str = "float64",
    **data_options,
) -> Problem:
    """A built-in problem: an :class:`MLP` on a dataset of :mod:`bea.deep.data`.

    Classification data use the mean cross-entropy, regression data half the mean squared error.

    Parameters
    ----------
    data : str or Dataset
        ``"digits"``, ``"teacher"`` or a :class:`~bea.deep.data.Dataset`.
    model : MLP
        Its first width must match the inputs, its last the classes (or targets).
    seed : int
        Seeds the initial weights θ₀.
    dtype : str
        ``"float64"`` (default; needed to resolve high-order errors) or ``"float32"``.
    **data_options
        Passed to the dataset (e.g. ``n_train``).

    Examples
    --------
    >>> p = problem("teacher", mlp([8, 4, 1]), n_train=32)
    >>> p.task, p.m
    ('regression', 41)
    """
    dtype = _check_dtype(dtype)
    if not isinstance(model, MLP):
        raise InputError("model must be built with bea.deep.mlp([...])")
    ds = data if isinstance(data, Dataset) else dataset(data, **data_options)
    if model.widths[0] != ds.n_inputs or model.widths[-1] != ds.n_outputs:
        raise InputError(
            f"the MLP maps {model.widths[0]} inputs to {model.widths[-1]} outputs, but "
            f"{ds.name} has {ds.n_inputs} inputs and {ds.n_outputs} outputs"
        )
    criterion = _cross_entropy if ds.task == "classification" else _mse
    with scope():
        base = Problem.from_loss(
            lambda params, batch: criterion(model.apply(params, batch[0]), batch[1]),
            model.init(seed),
            (ds.x_train, ds.y_train),
            (ds.x_test, ds.y_test),
            predict=model.apply if ds.task == "classification" else None,
            dtype=dtype,
            name=f"{ds.name}, MLP {'-'.join(map(str, model.widths))} ({model.act})",
        )
    return Problem(
        base.batch_loss,
        base.train,
        base.theta0,
        dtype,
        base.test,
        base.predict,
        base.unravel,
        ds.task,
        base.name,
    )
