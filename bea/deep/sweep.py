"""Sweeps of training runs: one task per run, in this process, a spawned process pool or Dask.

A run is a plain dict, a *config* (:func:`train_config`, :func:`edge_config`), handed to
:func:`run_one`: a module-level function that a worker imports by name. It loads its data itself,
builds the problem (cached per process, so a worker compiles once per architecture: the learning
rate, μ and the seed are traced), runs, and returns a small JSON-able dict stamped with the
versions of bea, JAX and jaxlib. :func:`run_sweep` hands the configs to an executor and writes
each result atomically as ``<key>.json`` (``key`` = a hash of the config) the moment it arrives,
so an interrupted sweep keeps every finished run and a rerun computes only what is missing.

=====================  =========================================================================
executor               where the runs go
=====================  =========================================================================
``"serial"``           this process, one after another
``"process"``          a process pool started with *spawn* (never fork: forking after JAX has
                       started deadlocks), one worker per core, each pinned to its core (JAX
                       ignores thread limits)
``"local"``            a Dask ``LocalCluster`` on this machine: one single-threaded worker per
                       core, spawned and pinned (needs ``pip install 'bea[dask]'``)
``"tcp://host:8786"``  an existing Dask scheduler (workers started with ``dask worker ADDRESS
                       --nthreads 1``; every worker needs ``bea[deep]``), or a
                       ``distributed.Client``
=====================  =========================================================================

Results do not depend on the executor: every run is seeded by its config alone.

Scripts that use ``"process"`` or ``"local"`` must guard their entry point with
``if __name__ == "__main__":`` — spawned workers import the main module.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time as _time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..io import atomic_write, dumps, jsonable, prepare_folder
from .backend import deep_versions, pin_to_core, scope
from .data import dataset, from_npz
from .differentials import top_eigenvalue
from .problem import mlp, problem
from .train import train

__all__ = [
    "EXECUTORS",
    "SweepResult",
    "config_key",
    "dask_client",
    "edge_config",
    "run_one",
    "run_sweep",
    "train_config",
]

#: Executors by name (a ``tcp://`` address or a ``distributed.Client`` also works).
EXECUTORS = ("serial", "process", "local")
#: What to run when Dask is missing.
INSTALL_DASK = "pip install 'bea[dask]'"
#: Evaluations along a run (the chunk length is rounded to a power of two so that one
#: compilation serves many learning rates).
EVALUATIONS = 40


# ---------------------------------------------------------------------------- configs
def _data_spec(data) -> dict:
    """``"digits"`` or a path to an ``.npz`` file → the config's data entry (files by hash)."""
    if data in (None, "digits"):
        return {"data": "digits"}
    path = Path(os.fspath(data)).expanduser().resolve()
    if not path.is_file():
        raise InputError(f"data file {data} does not exist (give 'digits' or an .npz file)")
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    return {"data": f"npz:{path}", "data_sha1": digest}


def train_config(
    widths: Sequence[int],
    lr: float,
    *,
    seed: int = 0,
    egr: float = 0.0,
    time: float = 200.0,
    data="digits",
    act: str = "tanh",
    dtype: str = "float32",
    noise: Sequence[float] = (),
    draws: int = 5,
    evaluations: int = EVALUATIONS,
    max_steps: int = 20_000,
    train_accuracy: float = 1.0,
) -> dict:
    """The config of one full-batch GD run (on E + μR_IG with ``egr=μ``) for :func:`run_one`.

    Parameters
    ----------
    widths : sequence of int
        The MLP's widths (input and output sizes included).
    lr : float
        Learning rate h.
    seed : int
        Seeds the initial weights and the noise draws.
    egr : float
        μ of explicit gradient regularization (0: plain GD).
    time : float
        Physical training time T = h·N (N = round(T/h) steps, at most ``max_steps``).
    data : str or path
        ``"digits"`` or an ``.npz`` file (see :func:`bea.deep.data.from_npz`; identified by the
        hash of its bytes, so a changed file is a new run).
    act, dtype : str
    noise : sequence of float
        σ of the Gaussian parameter noise for robustness (at the best iterate).
    draws : int
        Noise draws per σ.
    evaluations : int
        About how many times the metrics are evaluated along the run.
    max_steps : int
    train_accuracy : float
        The best-iterate rule's training-accuracy threshold.

    Returns
    -------
    dict
        Plain JSON data; :func:`config_key` names it.

    Examples
    --------
    >>> c = train_config([64, 16, 10], 0.5, seed=1, noise=(0.1,))
    >>> c["kind"], c["steps"], c["evaluate_every"]
    ('train', 400, 8)
    """
    model = mlp(list(widths), act)
    lr, time = float(lr), float(time)
    if not (math.isfinite(lr) and lr > 0) or not (math.isfinite(time) and time > 0):
        raise InputError(f"the learning rate and the time must be positive, got {lr}, {time}")
    if not (math.isfinite(egr) and egr >= 0):
        raise InputError(f"egr (μ) must be ≥ 0, got {egr}")
    steps = max(int(round(time / lr)), 1)
    if steps > max_steps:
        steps = int(max_steps)
    every = 2 ** max(int(round(math.log2(max(steps / evaluations, 1)))), 0)
    return {
        "kind": "train",
        **_data_spec(data),
        "widths": list(model.widths),
        "act": model.act,
        "dtype": str(dtype),
        "optimizer": "gd",
        "lr": lr,
        "egr": float(egr),
        "seed": int(seed),
        "time": time,
        "steps": steps,
        "evaluate_every": min(every, steps),
        "noise": [float(s) for s in noise],
        "draws": int(draws),
        "train_accuracy": float(train_accuracy),
    }


def edge_config(
    widths: Sequence[int], *, seed: int = 0, data="digits", act: str = "tanh", dtype="float32"
) -> dict:
    """The config of a stability-edge measurement: λ_max of the Hessian at the seeded start.

    Examples
    --------
    >>> edge_config([64, 16, 10])["kind"]
    'edge'
    """
    model = mlp(list(widths), act)
    return {
        "kind": "edge",
        **_data_spec(data),
        "widths": list(model.widths),
        "act": model.act,
        "dtype": str(dtype),
        "seed": int(seed),
    }


def config_key(config: dict) -> str:
    """A short stable name of a config (hash of its canonical JSON); its result file's name.

    Examples
    --------
    >>> config_key({"a": 1, "b": [2.0]}) == config_key({"b": [2.0], "a": 1})
    True
    >>> len(config_key({"a": 1}))
    16
    """
    text = json.dumps(jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------- one run
_PROBLEMS: dict = {}


def _problem(config: dict):
    """The problem of a config, built once per process (seed-0 start; seeds pass ``start``)."""
    ident = (config["data"], config.get("data_sha1"), tuple(config["widths"]), config["act"])
    ident += (config["dtype"],)
    if ident not in _PROBLEMS:
        spec = config["data"]
        if spec.startswith("npz:"):
            ds = from_npz(spec[4:])
            if "data_sha1" in config:
                digest = hashlib.sha1(Path(spec[4:]).read_bytes()).hexdigest()
                if digest != config["data_sha1"]:
                    raise InputError(f"{spec[4:]} changed since the sweep was planned")
        else:
            ds = dataset(spec)
        model = mlp(config["widths"], config["act"])
        _PROBLEMS[ident] = (problem(ds, model, dtype=config["dtype"]), model)
    return _PROBLEMS[ident]


def _start(prob, model, seed: int):
    from jax.flatten_util import ravel_pytree

    flat = ravel_pytree([tuple(layer) for layer in model.init(seed)])[0]
    return prob.cast(flat)


def run_one(config: dict) -> dict:
    """Run one config (:func:`train_config` or :func:`edge_config`) and summarise it as JSON data.

    A module-level function, so that workers import it by name; everything it needs comes from
    the config. A ``"train"`` run returns its history (step, time, loss, R_IG, accuracies), the
    best iterate (max test accuracy among iterates at the threshold training accuracy, flagged
    when none reaches it), R_IG and λ = hm/4 there, the robustness to parameter noise, whether
    it diverged; an ``"edge"`` run returns λ_max and 2/λ_max. Both carry the versions of bea,
    JAX and jaxlib and the wall time.

    Examples
    --------
    >>> r = run_one(train_config([64, 8, 10], 1.0, time=20.0, noise=(0.1,), draws=2))
    >>> sorted(r["best_metrics"])[:3], r["parameters"], r["lambda"]
    (['loss', 'r_ig', 'step'], 610, 152.5)
    """
    tic = _time.perf_counter()
    kind = config.get("kind")
    if kind not in ("train", "edge"):
        raise InputError(f"unknown run kind {kind!r} (train or edge)")
    prob, model = _problem(config)
    out: dict = {"key": config_key(config), "config": config, "parameters": prob.m}
    with scope():
        start = _start(prob, model, config["seed"])
        if kind == "edge":
            lam = top_eigenvalue(prob.energy, start)
            out.update(lambda_max=lam, edge=2.0 / lam if lam > 0 else None)
        else:
            run = train(
                prob,
                config["optimizer"],
                config["lr"],
                steps=config["steps"],
                evaluate_every=config["evaluate_every"],
                egr=config["egr"],
                seed=config["seed"],
                start=start,
                train_accuracy=config["train_accuracy"],
                noise_sigmas=tuple(config["noise"]),
                noise_draws=config["draws"],
                progress=False,
            )
            out.update(
                {
                    "lambda": config["lr"] * prob.m / 4,
                    "history": run.history,
                    "best": run.best,
                    "best_rule": run.best_rule,
                    "rule_met": "no iterate" not in run.best_rule,
                    "best_metrics": run.best_metrics(),
                    "robustness": {f"{s:g}": v for s, v in run.robustness.items()},
                    "diverged": run.diverged,
                }
            )
    out["versions"] = deep_versions()
    out["wall_time_s"] = _time.perf_counter() - tic
    return jsonable(out)


# ---------------------------------------------------------------------------- the sweep
@dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` returns.

    Attributes
    ----------
    results : tuple of dict
        One result per config, in the order of the configs.
    computed, reused : int
        Runs computed now, and runs found finished in the folder.
    folder : pathlib.Path
    wall_time_s : float
    """

    results: tuple
    computed: int
    reused: int
    folder: Path
    wall_time_s: float


def _read(path: Path, config: dict) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("config") != jsonable(config):
        return None
    return data


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


def run_sweep(
    configs: Iterable[dict],
    out,
    *,
    executor="serial",
    workers: int | None = None,
    progress: bool = True,
) -> SweepResult:
    """Run every config whose result is not yet in ``out``; write each result as it arrives.

    Parameters
    ----------
    configs : iterable of dict
        From :func:`train_config` / :func:`edge_config` (duplicates run once).
    out : path
        Folder of result files ``<config_key>.json`` (created).
    executor : str or distributed.Client
        ``"serial"``, ``"process"``, ``"local"``, a ``tcp://`` scheduler address, or a Dask
        client (see the module table).
    workers : int, optional
        Workers for ``"process"`` and ``"local"`` (default: one per core).
    progress : bool
        A progress bar counting finished runs.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> configs = [train_config([64, 8, 10], h, time=10.0) for h in (0.5, 1.0)]
    >>> first = run_sweep(configs, folder, progress=False)
    >>> again = run_sweep(configs, folder, progress=False)
    >>> (first.computed, first.reused), (again.computed, again.reused)
    ((2, 0), (0, 2))
    >>> again.results == first.results
    True
    """
    from tqdm.auto import tqdm

    tic = _time.perf_counter()
    configs = [jsonable(c) for c in configs]
    for c in configs:
        if not isinstance(c, dict) or c.get("kind") not in ("train", "edge"):
            raise InputError("a sweep takes configs made by train_config or edge_config")
    folder = prepare_folder(out)
    for p in folder.iterdir():  # temporary files of an interrupted sweep
        if p.name.startswith(".") and p.name.endswith(".tmp") and p.is_file():
            p.unlink(missing_ok=True)
    keys = [config_key(c) for c in configs]
    done: dict[str, dict] = {}
    for key, c in zip(keys, configs, strict=True):
        if key not in done:
            found = _read(folder / f"{key}.json", c)
            if found is not None:
                done[key] = found
    reused = len(done)
    todo = list({k: c for k, c in zip(keys, configs, strict=True) if k not in done}.values())
    bar = tqdm(
        total=len(done) + len(todo), initial=reused, disable=not progress, desc="runs", unit="run"
    )

    def finish(result: dict) -> None:
        atomic_write(folder / f"{result['key']}.json", dumps(result))
        done[result["key"]] = result
        bar.update(1)

    try:
        if todo:
            _execute(todo, finish, executor, workers)
    finally:
        bar.close()
    return SweepResult(
        tuple(done[k] for k in keys), len(todo), reused, folder, _time.perf_counter() - tic
    )


def _execute(todo: list, finish, executor, workers) -> None:
    if isinstance(executor, str) and executor == "serial":
        for c in todo:
            finish(run_one(c))
        return
    n = _cores() if workers is None else int(workers)
    if n < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    if isinstance(executor, str) and executor == "process":
        _process_pool(todo, finish, min(n, len(todo)))
        return
    if isinstance(executor, str) and executor != "local" and "://" not in executor:
        raise InputError(
            f"unknown executor {executor!r}: choose serial, process, local or a scheduler "
            "address tcp://host:8786"
        )
    _dask(todo, finish, executor, n)


def _pin_next(counter) -> None:
    """Process-pool initializer: pin each new worker to the next core."""
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    pin_to_core(index)


def _process_pool(todo, finish, n) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("spawn")  # never fork: fork after JAX starts deadlocks
    counter = ctx.Value("i", 0)
    with ProcessPoolExecutor(n, mp_context=ctx, initializer=_pin_next, initargs=(counter,)) as pool:
        pending = {pool.submit(run_one, c) for c in todo}
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for f in finished:
                    finish(f.result())
        except BaseException:
            for f in pending:
                f.cancel()
            raise


def _pin_dask_worker(dask_worker=None):
    """Pin a LocalCluster worker (named 0, 1, …) to its own core."""
    name = getattr(dask_worker, "name", None)
    if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
        return pin_to_core(int(name))
    return None


def dask_client(executor="local", workers: int | None = None):
    """A context manager yielding a Dask client: a pinned ``LocalCluster`` (``"local"``), a
    scheduler address (``"tcp://host:8786"``) or a given ``distributed.Client`` (left open).

    Hand the client to :func:`run_sweep` to run several sweeps on one cluster.

    Examples
    --------
    >>> with dask_client("local", workers=1) as client:  # doctest: +SKIP
    ...     run_sweep(configs, "runs", executor=client)
    """
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError(f"the Dask executors need Dask: {INSTALL_DASK}") from None
    import contextlib
    import logging

    n = _cores() if workers is None else int(workers)
    if n < 1:
        raise InputError(f"workers must be at least 1, got {workers}")

    @contextlib.contextmanager
    def session():
        if isinstance(executor, Client):
            yield executor
            return
        if not isinstance(executor, str) or (executor != "local" and "://" not in executor):
            raise InputError(
                f"executor must be 'local', a scheduler address tcp://host:8786 or a Dask "
                f"client, not {executor!r}"
            )
        if executor != "local":
            try:
                client = Client(executor, timeout="20s")
            except OSError as err:
                raise InputError(f"cannot reach the Dask scheduler at {executor}: {err}") from None
            with client:
                yield client
            return
        with (
            dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}),
            LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            client.wait_for_workers(n)  # before pinning: a late worker would be missed
            client.run(_pin_dask_worker)
            yield client

    return session()


def _dask(todo, finish, executor, n) -> None:
    from distributed import as_completed

    with dask_client(executor, n) as client:
        futures = client.map(run_one, todo, pure=False)
        try:
            for future in as_completed(futures):
                finish(future.result())
        except BaseException:
            client.cancel(futures)
            raise
