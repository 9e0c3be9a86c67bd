"""Speed of bea.verify against the straightforward per-trajectory solve_ivp loop, in one process.

Run:  python benchmarks/bench_verify.py [--points 1000] [--steps 16] [--baseline-pairs 48]

Workload: the paper's two-parameter model, 1,000 starting points around (2.8, 3.5), 16 step sizes,
truncation orders 0..3, local and global errors (horizon T = 1). The baseline integrates each
(order, step size, point) modified flow with its own solve_ivp(DOP853) call and iterates gradient
descent point by point; it is timed on a random subset of (step size, point) pairs and scaled to
the full workload (its cost is linear in the number of pairs). Target: < 20 s, >= 30x.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

import bea
from bea.models import TwoParameter
from bea.numeric import compile_expressions, compile_step
from bea.optim import GD


def baseline_pair(fields, phi, point, h, horizon):
    """Per-trajectory reference: 4 orders x (local + global) solves and plain GD loops."""
    n = int(round(horizon / h))
    y = point.copy()
    one = phi(y[None], np.array([h]))[0]
    for _ in range(n):
        y = phi(y[None], np.array([h]))[0]
    errs = []
    for F in fields:

        def rhs(_t, u, F=F):
            return F(u[None], np.array([h]))[0]

        loc = solve_ivp(rhs, (0, h), point, method="DOP853", rtol=1e-13, atol=1e-16).y[:, -1]
        glo = solve_ivp(rhs, (0, horizon), point, method="DOP853", rtol=1e-13, atol=1e-16).y[:, -1]
        errs.append((np.linalg.norm(one - loc), np.linalg.norm(y - glo)))
    return errs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--baseline-pairs", type=int, default=48)
    args = parser.parse_args()
    rng = np.random.default_rng(20210312)
    model = TwoParameter()
    points = np.array(model.start) + rng.uniform(-0.5, 0.5, size=(args.points, 2))
    orders = (0, 1, 2, 3)

    t0 = time.perf_counter()
    result = bea.verify(model.loss, model.params, points, orders=orders, n_steps=args.steps)
    t_bea = time.perf_counter() - t0
    n_h = result.steps.size
    print(
        f"bea.verify: {args.points} points x {n_h} step sizes x orders 0..3 "
        f"(local + global, T = 1): {t_bea:.2f} s",
        flush=True,
    )
    print("  local slopes :", {p: round(s, 3) for p, s in result.local_slopes.items()})
    print("  global slopes:", {p: round(s, 3) for p, s in result.global_slopes.items()})

    # baseline, same derivation, per-trajectory solves
    h = sp.Symbol("h")
    flow = bea.modified_flow(model.loss, model.params, order=3)
    fields = [compile_expressions(list(flow.vector_field(p)), flow.state, flow.h) for p in orders]
    phi = compile_step(GD().step_map(model.loss, model.params, h))
    pairs = [(rng.integers(n_h), rng.integers(args.points)) for _ in range(args.baseline_pairs)]
    t0 = time.perf_counter()
    for i, k in pairs:
        errs = baseline_pair(fields, phi, points[k], result.steps[i], result.horizon)
        for slot, p in enumerate(orders):  # same numbers as the batched run
            assert np.isclose(errs[slot][0], result.local_errors[p][i, k], rtol=1e-3, atol=1e-14)
    t_pairs = time.perf_counter() - t0
    t_base = t_pairs / len(pairs) * n_h * args.points
    print(
        f"per-trajectory solve_ivp loop: {t_pairs:.2f} s for {len(pairs)} pairs "
        f"-> {t_base:.0f} s for all {n_h * args.points} pairs (scaled)"
    )
    print(f"speed-up: {t_base / t_bea:.0f}x  (target >= 30x; bea target < 20 s)")


if __name__ == "__main__":
    main()
