"""A Section-5 sweep run serially and on a local Dask cluster: wall time, speed-up, per-run cost.

Run:  python benchmarks/bench_study.py [--runs 16] [--width 32] [--workers 2]

Workload: full-batch GD on a tanh MLP [64, w, w, 10] over scikit-learn's digits (1,200 training
images), float32, equal physical time T = 200 at learning rates 0.15 … 2.5 and two seeds, each run
evaluated ~40 times with robustness at σ = 0.1 (5 draws) — the runs of ``bea deep study``. The
baseline is the same configs run serially in this process (``executor="serial"``), each into a
fresh folder; a third row runs the same serial sweep in a process pinned to one core (the
per-core baseline of the pinned workers). Target on 2 cores: local Dask ≥ 1.6× faster than
serial. Dask's time includes starting and stopping the cluster and each worker's first
compilation. Note that an unpinned serial process already runs XLA on every core.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from bea.deep.sweep import run_sweep, train_config


def _pinned_serial(configs, queue):
    from bea.deep.backend import pin_to_core

    pin_to_core(0)
    with tempfile.TemporaryDirectory() as folder:
        tic = time.perf_counter()
        run_sweep(configs, folder, progress=False)
        queue.put(time.perf_counter() - tic)


if __name__ == "__main__":  # spawned workers import this module: keep the work behind the guard
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    rates = np.geomspace(0.15, 2.5, max(args.runs // 2, 1))
    configs = [
        train_config([64, args.width, args.width, 10], float(h), seed=s, noise=(0.1,))
        for h in rates
        for s in (0, 1)
    ][: args.runs]
    results = {}
    for executor in ("serial", "local"):
        with tempfile.TemporaryDirectory() as folder:
            tic = time.perf_counter()
            sweep = run_sweep(
                configs, folder, executor=executor, workers=args.workers, progress=False
            )
            wall = time.perf_counter() - tic
        per_run = [r["wall_time_s"] for r in sweep.results]
        results[executor] = (wall, [r["best_metrics"] for r in sweep.results])
        print(
            f"{executor:>6}: {len(configs)} runs in {wall:6.1f} s; per run median "
            f"{np.median(per_run):.2f} s (first {per_run[0]:.2f} s, max {max(per_run):.2f} s)"
        )
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_pinned_serial, args=(configs, queue))
    proc.start()
    pinned = queue.get()
    proc.join()
    print(f"serial on one pinned core: {len(configs)} runs in {pinned:6.1f} s")
    speedup = results["serial"][0] / results["local"][0]
    print(f"speed-up of local Dask over serial: {speedup:.2f}x (target >= 1.6x on 2 cores)")
    print(f"speed-up of local Dask over serial on one core: {pinned / results['local'][0]:.2f}x")
    same = results["serial"][1] == results["local"][1]
    print(
        "best-iterate metrics identical across executors:"
        f" {same} (float32; an unpinned serial process may differ in the last bits)"
    )
