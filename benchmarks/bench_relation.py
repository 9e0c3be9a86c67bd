"""The relation route (heavy ball, Nesterov, proximal point, Adam, RMSProp) in the exact ring,
against the same recurrence on general sympy expressions (the route before it moved into the
ring, kept in ``relation_sympy.py``), in one process.

Run:  python benchmarks/bench_relation.py [--skip-slow]

For each case it times ``bea.modified_flow`` with each implementation, checks that both give the
same terms at random rational points (40 digits), and prints the speed-up. ``--skip-slow`` leaves
out the baseline runs that take minutes (Adam at order 2 on the paper's model, 803 s; at order 3 on
one parameter, 123 s).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import sympy as sp

import bea
import bea.optim as bo
import bea.routes as routes

sys.path.insert(0, str(Path(__file__).resolve().parent))
import relation_sympy  # noqa: E402

a, b, t, beta = sp.symbols("a b t beta")
R = sp.Rational
MODEL = (R(3, 5) - a * b) ** 2 / 2
QUARTIC = t**4 / 4 + t**2 / 2
ADAM = bo.Adam(R(9, 10), R(999, 1000), R(1, 10**8))
# name, loss, parameters, method, order, and whether the baseline takes minutes (or, as text, the
# time it was seen not to finish in: then it is never run)
CASES = [
    ("heavy ball, beta = 1/2", MODEL, [a, b], bo.HeavyBall(R(1, 2)), 3, False),
    ("heavy ball, beta symbolic", MODEL, [a, b], bo.HeavyBall(beta), 2, False),
    ("Nesterov, beta = 1/2", MODEL + a**4 / 4, [a, b], bo.Nesterov(R(1, 2)), 2, False),
    (
        "proximal point, logistic",
        sp.log(1 + sp.exp(-a * b)) + (a**2 + b**2) / 10,
        [a, b],
        bo.ProximalPoint(),
        2,
        False,
    ),
    ("RMSProp, 1 parameter", QUARTIC, [t], bo.RMSProp(R(3, 4), R(1, 10)), 2, False),
    ("Adam, paper's model", MODEL, [a, b], ADAM, 1, False),
    ("Adam, paper's model", MODEL, [a, b], ADAM, 2, True),
    ("Adam, 1 parameter", QUARTIC, [t], bo.Adam(R(1, 2), R(3, 4), R(1, 10)), 1, False),
    ("Adam, 1 parameter", QUARTIC, [t], bo.Adam(R(1, 2), R(3, 4), R(1, 10)), 2, False),
    ("Adam, 1 parameter", QUARTIC, [t], bo.Adam(R(1, 2), R(3, 4), R(1, 10)), 3, True),
]


def derive(implementation, loss, params, method, order):
    """``bea.modified_flow`` with the relation route's implementation swapped in."""
    saved = routes.relation_modified_equation
    routes.relation_modified_equation = implementation
    try:
        start = time.perf_counter()
        flow = bea.modified_flow(loss, params, order, method=method)
        return time.perf_counter() - start, flow
    finally:
        routes.relation_modified_equation = saved


def same(f, g, rng) -> bool:
    """f and g have equal terms at three random rational points (40 digits)."""
    syms = sorted({s for tm in f.terms for e in tm for s in e.free_symbols}, key=str)
    for _ in range(3):
        point = {s: R(int(rng.integers(3, 17)), 10) for s in syms}
        for tf, tg in zip(f.terms, g.terms, strict=True):
            for u, v in zip(tf, tg, strict=True):
                if abs(sp.N((u - v).xreplace(point), 40)) > 1e-30:
                    return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-slow", action="store_true", help="no minutes-long baselines")
    args = parser.parse_args()
    print(f"bea {bea.__version__}, sympy {sp.__version__}; exact arithmetic, times in s")
    print(f"{'case':<28} {'order':>5} {'ring':>8} {'sympy':>8} {'speed-up':>9}  agree", flush=True)
    rng = np.random.default_rng(0)
    for name, loss, params, method, order, slow in CASES:
        t_ring, flow = derive(routes.relation_modified_equation, loss, params, method, order)
        if isinstance(slow, str) or (slow and args.skip_slow):
            base_s = slow if isinstance(slow, str) else "-"
            print(f"{name:<28} {order:>5} {t_ring:8.2f} {base_s:>8} {'-':>9}  -", flush=True)
            continue
        t_base, base = derive(
            relation_sympy.relation_modified_equation, loss, params, method, order
        )
        ok = same(flow, base, rng)
        print(
            f"{name:<28} {order:>5} {t_ring:8.2f} {t_base:8.2f} {t_base / t_ring:8.0f}x  "
            f"{'yes' if ok else 'NO'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
