"""Training loops with bea.optim's semantics, jitted and chunked, with metrics along the way.

Every optimizer is one update rule on a state (θ, …); :func:`train` runs ``evaluate_every`` steps
at a time in one jitted ``lax.scan`` whose learning rate, μ and seed are traced arguments (one
compilation serves a whole learning-rate sweep), evaluates the metrics between chunks, stops at the
first non-finite or exploding loss (reported, never silently NaN) and keeps the best iterate by a
stated rule.

=============  ===========================================================================
optimizer      update (h the learning rate, g = ∇E(θ), or the mini-batch gradient for SGD)
=============  ===========================================================================
gd             θ ← θ − h g;  with ``egr=μ``: θ ← θ − h (g + (2μ/m)∇²E g)  (EGR, one HVP)
sgd            θ ← θ − h ĝ_k over shuffled mini-batches (a new permutation every epoch)
heavy-ball     θ_{n+1} = θ_n − h g(θ_n) + β(θ_n − θ_{n−1})
adam           m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − h m/√(v + ε)  (bea.optim.Adam: no
               bias correction, ε inside the root; m₀ = v₀ = 0)
=============  ===========================================================================
"""

from __future__ import annotations

import functools
import time as _time
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..io import dumps, jsonable
from .backend import deep_versions, require, scope
from .differentials import lambda_max
from .problem import Problem

__all__ = ["OPTIMIZERS", "TrainResult", "train"]

OPTIMIZERS = ("gd", "sgd", "heavy-ball", "adam")
#: A run counts as diverged when its loss exceeds this multiple of the initial loss.
BLOW_UP = 1e6
MAX_TRAIN_STEPS = 10_000_000
#: Power-iteration steps (HVPs, twice) behind the ``sharpness`` metric.
SHARPNESS_ITERATIONS = 50


@dataclass(frozen=True)
class TrainResult:
    """A training run: metrics along the way, the best iterate, robustness to parameter noise.

    Attributes
    ----------
    history : dict of numpy.ndarray
        ``step``, ``time`` (= step · h), ``loss``, ``r_ig``, ``sharpness`` (if asked), and for
        classification
        ``train_accuracy``, ``test_accuracy``; ``test_loss`` where there is a test batch.
    best : int
        Index into the history of the best iterate.
    best_rule : str
        How it was chosen (and whether the rule's condition was met).
    theta_best, theta_final : numpy.ndarray
    diverged : bool
        The loss became non-finite or exceeded BLOW_UP × its start; the history stops there.
    robustness : dict
        σ → mean test accuracy (or test loss) over noisy copies θ_best + σε.
    settings : dict
    meta : dict
        Versions, precision, wall time.
    """

    history: dict
    best: int
    best_rule: str
    theta_best: np.ndarray
    theta_final: np.ndarray
    diverged: bool
    robustness: dict
    settings: dict
    meta: dict = field(default_factory=dict)

    def best_metrics(self) -> dict:
        """The history's values at the best iterate."""
        return {k: float(v[self.best]) for k, v in self.history.items()}

    def to_dict(self) -> dict:
        """Plain-JSON view (without the parameter vectors)."""
        return jsonable(
            {
                "settings": self.settings,
                "history": self.history,
                "best": self.best,
                "best_rule": self.best_rule,
                "best_metrics": self.best_metrics(),
                "diverged": self.diverged,
                "robustness": {f"{s:g}": v for s, v in self.robustness.items()},
                **self.meta,
            }
        )

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON."""
        return dumps(self.to_dict())

    def __str__(self) -> str:
        b = self.best_metrics()
        parts = [f"{k} {v:.4g}" for k, v in b.items() if k not in ("step",)]
        out = [
            f"{self.settings['optimizer']} on {self.meta.get('problem', 'problem')}: "
            f"h = {self.settings['lr']:g}, {int(self.history['step'][-1])} steps"
            + (" — DIVERGED" if self.diverged else ""),
            f"best iterate (step {int(b['step'])}; {self.best_rule}): " + ", ".join(parts),
        ]
        if self.robustness:
            out.append(
                "robustness: " + ", ".join(f"σ={s:g}: {v:.4g}" for s, v in self.robustness.items())
            )
        return "\n".join(out)


def _positive(x, what, allow_zero=False) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number, got {x!r}") from None
    if not np.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise InputError(f"{what} must be {'≥ 0' if allow_zero else '> 0'} and finite, got {x}")
    return x


def _whole(n, what, lo=1, hi=MAX_TRAIN_STEPS) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not lo <= n <= hi:
        raise InputError(f"{what} must be a whole number in [{lo}, {hi:,}], got {n!r}")
    return int(n)


def _update(problem: Problem, optimizer: str, settings: dict):
    """(init(θ) → state, step(state, h, μ, key) → state) for one optimizer."""
    jax = require()
    jnp = jax.numpy
    grad = jax.grad(problem.energy)
    m = problem.m
    if optimizer == "gd":

        def step(s, h, mu, key):
            theta = s[0]
            g = grad(theta)
            g = g + (2.0 * mu / m) * jax.jvp(grad, (theta,), (g,))[1] if settings["egr"] else g
            return (theta - h * g,)

        return (lambda t: (t,)), step
    if optimizer == "heavy-ball":
        beta = settings["beta"]
        return (lambda t: (t, t)), (
            lambda s, h, mu, key: (s[0] - h * grad(s[0]) + beta * (s[0] - s[1]), s[0])
        )
    if optimizer == "adam":
        b1, b2, eps = settings["beta1"], settings["beta2"], settings["eps"]

        def adam(s, h, mu, key):
            theta, mom, vel = s
            g = grad(theta)
            mom = b1 * mom + (1 - b1) * g
            vel = b2 * vel + (1 - b2) * g**2
            return (theta - h * mom / jnp.sqrt(vel + eps), mom, vel)

        return (lambda t: (t, jnp.zeros_like(t), jnp.zeros_like(t))), adam
    # sgd: step k uses batch k mod n_batches of the epoch's permutation
    size = settings["batch_size"]
    n = jax.tree_util.tree_leaves(problem.train)[0].shape[0]
    n_batches = max(n // size, 1)

    def sgd(s, h, mu, key):
        theta, k = s
        epoch, j = k // n_batches, k % n_batches
        perm = jax.random.permutation(jax.random.fold_in(key, epoch), n)
        idx = jax.lax.dynamic_slice(perm, (j * size,), (size,))
        batch = jax.tree_util.tree_map(lambda a: jnp.take(a, idx, axis=0), problem.train)
        g = jax.grad(problem.batch_loss)(theta, batch)
        return (theta - h * g, k + 1)

    return (lambda t: (t, jnp.zeros((), dtype=jnp.int32))), sgd


def train(
    problem: Problem,
    optimizer: str = "gd",
    lr: float = 0.1,
    *,
    steps: int | None = None,
    time: float | None = None,
    evaluate_every: int = 50,
    egr: float = 0.0,
    beta: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    batch_size: int = 32,
    seed: int = 0,
    start=None,
    train_accuracy: float = 1.0,
    noise_sigmas=(),
    noise_draws: int = 5,
    sharpness: bool = False,
    progress: bool | None = None,
) -> TrainResult:
    """Train ``problem`` with ``optimizer`` at learning rate ``lr`` (see the module table).

    Parameters
    ----------
    problem : Problem
    optimizer : {"gd", "sgd", "heavy-ball", "adam"}
    lr : float
        Learning rate h.
    steps, time : int or float
        Number of steps, or a physical time T (steps = round(T/h)); one of them.
    evaluate_every : int
        Steps between evaluations of the metrics.
    egr : float
        μ of explicit gradient regularization E + μ R_IG (``"gd"`` only; 0: plain GD).
    beta, beta1, beta2, eps : float
        Heavy ball's β; Adam's β₁, β₂, ε.
    batch_size : int
        SGD's mini-batch size.
    seed : int
        SGD's shuffling and the noise draws.
    start : array_like, optional
        θ₀ (default ``problem.theta0``).
    train_accuracy : float
        Best iterate (classification): highest test accuracy among iterates whose training
        accuracy reaches this; if none does, highest test accuracy overall (the rule says so).
        Regression: lowest test loss (training loss without a test batch).
    noise_sigmas : sequence of float
        Robustness: mean test accuracy of θ_best + σε over ``noise_draws`` Gaussian draws ε.
    sharpness : bool
        Also record the top Hessian eigenvalue λ_max at each evaluation (``sharpness``; power
        iteration, 2 × 50 HVPs; GD is stable below h = 2/λ_max).
    progress : bool, optional
        Show a progress bar (default: when the run has more than 20 evaluations).

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> from bea.deep import problem, mlp
    >>> prob = problem("digits", mlp([64, 16, 10]), n_train=300, dtype="float32")
    >>> run = train(prob, "gd", lr=0.5, steps=200, evaluate_every=50, noise_sigmas=(0.05,))
    >>> run.history["step"].tolist()
    [0, 50, 100, 150, 200]
    >>> run.best_metrics()["train_accuracy"] > 0.9
    True
    """
    if not isinstance(problem, Problem):
        raise InputError("train takes a bea.deep Problem (see bea.deep.problem)")
    if optimizer not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    lr = _positive(lr, "the learning rate")
    if (steps is None) == (time is None):
        raise InputError("give either steps or time (steps = time / lr)")
    if steps is None:
        steps = max(int(round(_positive(time, "the time") / lr)), 1)
        if steps > MAX_TRAIN_STEPS:
            raise InputError(f"time / lr gives {steps:,} steps; at most {MAX_TRAIN_STEPS:,}")
    steps = _whole(steps, "steps")
    every = min(_whole(evaluate_every, "evaluate_every"), steps)
    egr = _positive(egr, "egr (μ)", allow_zero=True)
    if egr and optimizer != "gd":
        raise InputError("egr applies to optimizer 'gd'")
    settings = {
        "optimizer": optimizer,
        "lr": lr,
        "steps": steps,
        "evaluate_every": every,
        "egr": egr,
        "seed": int(seed),
        "dtype": problem.dtype,
        "sharpness": bool(sharpness),
    }
    if optimizer == "heavy-ball":
        settings["beta"] = _positive(beta, "beta", allow_zero=True)
        if settings["beta"] >= 1:
            raise InputError(f"beta must be in [0, 1), got {beta}")
    if optimizer == "adam":
        settings.update(
            beta1=_positive(beta1, "beta1", True),
            beta2=_positive(beta2, "beta2", True),
            eps=_positive(eps, "eps"),
        )
        if settings["beta1"] >= 1 or settings["beta2"] >= 1:
            raise InputError("Adam's beta1 and beta2 must be in [0, 1)")
    if optimizer == "sgd":
        n = len(np.asarray(require().tree_util.tree_leaves(problem.train)[0]))
        settings["batch_size"] = _whole(batch_size, "batch_size", 1, n)
    sigmas = tuple(_positive(s, "a noise σ") for s in noise_sigmas)
    draws = _whole(noise_draws, "noise_draws", 1, 1000)
    threshold = _positive(train_accuracy, "train_accuracy", allow_zero=True)
    with scope():
        return _run(
            problem, optimizer, settings, start, steps, every, threshold, sigmas, draws, progress
        )


def _run(problem, optimizer, settings, start, steps, every, threshold, sigmas, draws, progress):
    from tqdm.auto import tqdm

    jax = require()
    jnp = jax.numpy
    tic = _time.perf_counter()
    theta = problem.cast(problem.theta0 if start is None else start)
    static = tuple(
        (k, settings[k]) for k in ("beta", "beta1", "beta2", "eps", "batch_size") if k in settings
    )
    init, chunk = _compiled(problem, optimizer, static, bool(settings["egr"]), every)
    dtype = problem.dtype
    h = jnp.asarray(settings["lr"], dtype=dtype)
    mu = jnp.asarray(settings["egr"], dtype=dtype)
    key = jax.random.PRNGKey(settings["seed"])
    metrics = _metrics(problem, settings["sharpness"])
    state = init(theta)
    history: dict = {}
    record = {"best": None, "best_any": None}
    loss0 = None
    diverged = False
    n_eval = steps // every + (steps % every > 0)
    bar = tqdm(
        total=steps,
        disable=not (progress if progress is not None else n_eval > 20),
        desc=f"{optimizer} h={settings['lr']:g}",
        unit="step",
    )
    done = 0
    while True:
        values = {k: float(v) for k, v in metrics(state[0]).items()}
        if loss0 is None:
            loss0 = values["loss"]
        if not np.isfinite(values["loss"]) or values["loss"] > BLOW_UP * max(abs(loss0), 1e-12):
            diverged = True
            break
        values = {"step": done, "time": done * settings["lr"], **values}
        for k, v in values.items():
            history.setdefault(k, []).append(v)
        _track(record, values, state[0], problem, threshold, len(history["step"]) - 1)
        if done >= steps:
            break
        n = min(every, steps - done)
        state = chunk(state, h, mu, key, n)
        done += n
        bar.update(n)
    bar.close()
    history = {k: np.asarray(v) for k, v in history.items()}
    best, theta_best, rule = _choose(record, problem, threshold)
    robustness = _robustness(problem, theta_best, sigmas, draws, settings["seed"])
    meta = {
        "problem": problem.name,
        "parameters": problem.m,
        "wall_time_s": _time.perf_counter() - tic,
        "versions": deep_versions(),
    }
    return TrainResult(
        history,
        best,
        rule,
        np.asarray(theta_best),
        np.asarray(state[0]),
        diverged,
        robustness,
        settings,
        meta,
    )


@functools.lru_cache(maxsize=32)
def _compiled(problem: Problem, optimizer: str, static: tuple, egr: bool, every: int):
    """(init, chunk) for one problem, optimizer and chunk length; the learning rate, μ and the
    seed are traced arguments of ``chunk``, so a sweep over them compiles once."""
    jax = require()
    jnp = jax.numpy
    init, update = _update(problem, optimizer, {**dict(static), "egr": egr})

    @jax.jit
    def chunk(state, h, mu, key, n):
        def body(s, i):
            new = update(s, h, mu, key)
            return jax.tree_util.tree_map(lambda a, b: jnp.where(i < n, a, b), new, s), None

        return jax.lax.scan(body, state, jnp.arange(every))[0]

    return init, chunk


@functools.lru_cache(maxsize=32)
def _metrics(problem: Problem, sharpness: bool = False):
    jax = require()
    jnp = jax.numpy
    classify = problem.task == "classification" and problem.predict is not None

    @jax.jit
    def metrics(theta):
        loss, g = jax.value_and_grad(problem.energy)(theta)
        out = {"loss": loss, "r_ig": jnp.vdot(g, g) / theta.size}
        if sharpness:
            out["sharpness"] = lambda_max(problem.energy, theta, iterations=SHARPNESS_ITERATIONS)
        if problem.test is not None:
            out["test_loss"] = problem.batch_loss(theta, problem.test)
        if classify:
            for name, batch in (("train_accuracy", problem.train), ("test_accuracy", problem.test)):
                if batch is not None:
                    pred = problem.predict(theta, batch[0]).argmax(axis=-1)
                    out[name] = jnp.mean(pred == batch[1])
        return out

    return metrics


def _score(values, problem):
    if "test_accuracy" in values:
        return values["test_accuracy"]
    return -values.get("test_loss", values["loss"])


def _track(record, values, theta, problem, threshold, index):
    score = _score(values, problem)
    entry = (score, index, theta)
    if record["best_any"] is None or score > record["best_any"][0]:
        record["best_any"] = entry
    if values.get("train_accuracy", 1.0) >= threshold and (
        record["best"] is None or score > record["best"][0]
    ):
        record["best"] = entry


def _choose(record, problem, threshold):
    classify = problem.task == "classification" and problem.test is not None
    if not classify:
        what = "lowest test loss" if problem.test is not None else "lowest training loss"
        _, i, theta = record["best_any"]
        return i, theta, what
    if record["best"] is not None:
        _, i, theta = record["best"]
        return i, theta, f"highest test accuracy with train accuracy ≥ {threshold:g}"
    _, i, theta = record["best_any"]
    return i, theta, f"highest test accuracy (no iterate reached train accuracy {threshold:g})"


def _robustness(problem, theta, sigmas, draws, seed) -> dict:
    if not sigmas:
        return {}
    jax = require()
    jnp = jax.numpy
    classify = problem.task == "classification" and problem.test is not None
    batch = problem.test if problem.test is not None else problem.train

    @jax.jit
    def score(t):
        if classify:
            return jnp.mean(problem.predict(t, batch[0]).argmax(axis=-1) == batch[1])
        return problem.batch_loss(t, batch)

    rng = np.random.default_rng(seed)
    out = {}
    for sigma in sigmas:
        noise = rng.normal(size=(draws, theta.size)).astype(problem.dtype)
        vals = [float(score(theta + sigma * jnp.asarray(e))) for e in noise]
        out[sigma] = float(np.mean(vals))
    return out
