"""Timing of bea's symbolic engine against a straightforward Taylor matching, in one process.

Run:  python benchmarks/bench_derive.py [--max-order 8] [--baseline-max-order 5] [--ml-only]
                                        [--pure-python-too]

For each order K it derives the modified flow of gradient descent to order K (and, separately,
the gradient test of every term) on
  * the paper's two-parameter model E = (y - a b x)^2 / 2 with x and y left symbolic, and
  * a 3-parameter non-polynomial loss E = log(1 + exp(-(a x + b))) + c^2 sin(a) / 2.
"+ gradient tests" is the time to find the first term that is not a gradient field (after the
derivation); the baseline is checked to agree with bea at a random rational point (50 digits).
The baseline is the textbook route: at each order, expand the Lie series of the field found so far
with plain sympy expressions and read off the next term from the residual of the step map.

A second table times what a user of ordinary ML losses waits for (issue targets in brackets):
``modified_loss`` at order 1 and the gradient test at order 2 on a logistic regression (2 weights,
2 samples) [< 1 s], a 2-2-1 tanh MLP (9 weights, 3 samples) [< 5 s] and a linear regression with
10 weights and symbolic data [< 5 s; order 2 < 20 s], and ``bea derive`` end to end in a fresh
process, GD and Adam with numeric hyper-parameters on the paper's model [< 5 s].

The header says which rationals sympy runs on ("gmpy" with bea's gmpy2 dependency, "python"
without it); ``--pure-python-too`` runs the ML table a second time in a child process with
``SYMPY_GROUND_TYPES=python``, the arithmetic of an install without gmpy2.
"""

from __future__ import annotations

import argparse
import math
import time

import sympy as sp

import bea

a, b, c, x, y, h = sp.symbols("a b c x y h")
LOSSES = {
    "two-parameter (x, y symbolic)": ((y - a * b * x) ** 2 / 2, [a, b]),
    "3-parameter logistic+sin": (
        sp.log(1 + sp.exp(-(a * x + b))) + c**2 * sp.sin(a) / 2,
        [a, b, c],
    ),
}


def _truncate(expr, degree):
    poly = sp.Poly(sp.expand(expr), h)
    return sum((cf * h**m for (m,), cf in poly.terms() if m <= degree), sp.Integer(0))


def baseline(loss, params, order):
    """Term-by-term Taylor matching with plain sympy expressions (no reuse, no ring)."""
    state = sp.Matrix(params)
    grad = sp.Matrix([sp.diff(loss, p) for p in params])
    step = state - h * grad
    terms = [-grad]
    for n in range(1, order + 1):
        field = sum((h**j * terms[j] for j in range(n)), sp.zeros(len(params), 1))
        phi = state.copy()
        Y = field
        for k in range(1, n + 2):
            phi += h**k / math.factorial(k) * Y
            Y = Y.jacobian(params) * field
        power = n + 1
        terms.append((step - phi).applyfunc(lambda e, k=power: sp.expand(e).coeff(h, k)))
    return terms


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def _agree(base, flow, params) -> bool:
    """Compare the two derivations at a random rational point, to 50 significant digits."""
    point = {p: sp.Rational(3 + i, 7) for i, p in enumerate(params)} | {x: 2, y: sp.Rational(3, 5)}
    return all(
        abs(sp.N((u - v).subs(point), 50)) < 1e-40
        for bt, ft in zip(base, flow.terms, strict=True)
        for u, v in zip(bt, ft, strict=True)
    )


def ml_table() -> None:
    """modified_loss and the gradient test on ordinary ML losses, and the CLI end to end."""
    import subprocess
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_ml_losses import LOSSES as ML

    print(
        f"\n{'loss':<20} {'order':>5} {'derive [s]':>11} {'gradient test [s]':>18} "
        f"{'modified_loss [s]':>18}",
        flush=True,
    )
    for name, make in ML.items():
        for K in (1, 2):
            loss, params = make()
            t_flow, flow = timed(bea.modified_flow, loss, params, K)
            t_grad, first = timed(flow.first_non_gradient)
            top = K if first is None else first - 1
            t_loss, _ = timed(flow.modified_loss, top)  # logistic o2: V_2 is a ray integral
            print(f"{name:<20} {K:>5} {t_flow:11.2f} {t_grad:18.2f} {t_loss:18.2f}", flush=True)
    for label, argv in [
        ("bea derive, gd", ["(y - a*b*x)**2/2", "--params", "a", "b", "--order", "2"]),
        (
            "bea derive, adam",
            [
                "(y - a*b*x)**2/2",
                "--params",
                "a",
                "b",
                "--method",
                "adam",
                "--beta",
                "0.9",
                "--beta2",
                "0.999",
                "--eps",
                "0.00000001",
            ],
        ),
    ]:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bea", "derive", *argv], capture_output=True, check=True
        )
        print(
            f"{label:<20} end to end (fresh process) {time.perf_counter() - start:6.2f} s",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-order", type=int, default=8)
    parser.add_argument(
        "--baseline-max-order",
        type=int,
        nargs=2,
        default=[5, 3],
        metavar=("TWO_PARAM", "NON_POLY"),
        help="highest order at which to run the (slow) baseline, per loss",
    )
    parser.add_argument("--ml-only", action="store_true", help="only the ML-loss table")
    parser.add_argument(
        "--pure-python-too",
        action="store_true",
        help="then run the ML table again with SYMPY_GROUND_TYPES=python",
    )
    args = parser.parse_args()
    from sympy.external.gmpy import GROUND_TYPES

    print(f"bea {bea.__version__}, sympy {sp.__version__}, rationals: {GROUND_TYPES}", flush=True)
    if args.pure_python_too:
        import os
        import subprocess
        import sys

        ml_table()
        env = {**os.environ, "SYMPY_GROUND_TYPES": "python"}
        subprocess.run([sys.executable, __file__, "--ml-only"], env=env, check=True)
        return
    if args.ml_only:
        ml_table()
        return
    for (name, (loss, params)), base_max in zip(
        LOSSES.items(), args.baseline_max_order, strict=True
    ):
        print(f"\n{name}: E = {loss}")
        print(
            f"{'order':>5} {'bea derive [s]':>15} {'+ gradient tests [s]':>21} "
            f"{'baseline [s]':>13} {'speed-up':>9}",
            flush=True,
        )
        for K in range(1, args.max_order + 1):
            t_bea, flow = timed(bea.modified_flow, loss, params, K)
            t_grad, _ = timed(flow.first_non_gradient)
            if K <= base_max:
                t_base, base = timed(baseline, loss, params, K)
                assert _agree(base, flow, params), "baseline and bea disagree"
                base_s, ratio = f"{t_base:13.3f}", f"{t_base / t_bea:8.0f}x"
            else:
                base_s, ratio = f"{'-':>13}", f"{'-':>9}"
            print(f"{K:>5} {t_bea:15.3f} {t_grad:21.3f} {base_s} {ratio}", flush=True)
    ml_table()


if __name__ == "__main__":
    main()
