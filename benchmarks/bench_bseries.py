"""Speed of bea's B-series engine, side by side with the Python packages that do the same job.

Run:  python benchmarks/bench_bseries.py [--compare] [--max-order 12]

Workloads (the targets of the B-series issue):
  1. all modified-equation coefficients of explicit Euler up to order 9 (486 trees; < 0.5 s) and
     up to order 12 (7,813 trees; < 30 s);
  2. the modifying integrator of the explicit midpoint rule to order 8 for the oscillator
     f(u) = (-u2, u1)/(u1^2 + u2^2), evaluated at u = (1, 0) (< 3 s).
With --compare the same workloads run with PyPI ``kauri`` and ``BSeries`` (Ketcheson's Python
package), installed in this benchmark's own environment (benchmarks/.compare-venv, created on first
use; never a dependency of bea); their timings come back as JSON and the script prints ratios and
checks that the coefficients agree.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import venv
from pathlib import Path

import sympy as sp

from bea.bseries import modified_equation, modifying_integrator, trees_up_to
from bea.bseries.elementary import evaluate
from bea.bseries.rk import EXPLICIT_EULER, EXPLICIT_MIDPOINT

HERE = Path(__file__).resolve().parent
VENV = HERE / ".compare-venv"

OTHERS = r"""
import json, sys, time, sympy as sp
out = {}
order9 = int(sys.argv[1])
import kauri as kr
t = time.perf_counter()
m = kr.euler.elementary_weights_map().modified_equation()
vals = [float(m(t)) for t in kr.trees_up_to_order(order9)]
out["kauri_euler"] = time.perf_counter() - t
out["kauri_euler_values"] = vals[1:8]
u1, u2, h = sp.symbols("u1 u2 h")
y = sp.Matrix([u1, u2]); f = sp.Matrix([-u2, u1]) / (u1**2 + u2**2)
t = time.perf_counter()
p = kr.midpoint.elementary_weights_map().preprocessed_integrator()
bs = kr.BSeries(y, f, p, 8)
series = sp.expand(bs.series().subs({u1: 1, u2: 0}))
out["kauri_modifying"] = time.perf_counter() - t
from BSeries import bs as B, trees as T
t = time.perf_counter()
import numpy as np  # BSeries needs object arrays
A = np.array([[0]], dtype=object); b = np.array([1], dtype=object)
a = B.TreeMap("a")
for tree in T.trees_to_order(order9).values():
    a[tree] = B.elementary_weight(tree, A, b)
e = lambda tr: sp.Rational(1) / T.gamma(tr)
Bm = B.TreeMap("b")
Bm[T.canonical_forest["t1"]] = a[T.canonical_forest["t1"]]
for q in range(2, order9 + 1):
    for tree in T.all_trees(q):
        Bm[tree] = a[tree] - B.subs(Bm, e, tree) + Bm[tree]
out["bseries_euler"] = time.perf_counter() - t
print(json.dumps(out))
"""


def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} with kauri and BSeries ...", flush=True)
        venv.create(VENV, with_pip=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "kauri", "BSeries", "sympy"], check=True
        )
    return py


def bea_workloads(max_order: int) -> dict:
    out = {}
    t = time.perf_counter()
    b9 = modified_equation(EXPLICIT_EULER.bseries(9))
    out["euler_9"] = time.perf_counter() - t
    out["euler_9_values"] = [float(b9[t]) for t in trees_up_to(3)]
    if max_order > 9:
        t = time.perf_counter()
        modified_equation(EXPLICIT_EULER.bseries(max_order))
        out[f"euler_{max_order}"] = time.perf_counter() - t
    u1, u2, h = sp.symbols("u1 u2 h")
    t = time.perf_counter()
    c = modifying_integrator(EXPLICIT_MIDPOINT.bseries(8))
    flow = evaluate(c, [-u2 / (u1**2 + u2**2), u1 / (u1**2 + u2**2)], [u1, u2], h, 7)
    value = flow.vector_field().subs({u1: 1, u2: 0}).applyfunc(sp.expand)
    out["modifying_8"] = time.perf_counter() - t
    out["modifying_8_value"] = [str(x) for x in value]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true", help="also time kauri and BSeries")
    parser.add_argument("--max-order", type=int, default=12)
    args = parser.parse_args()
    ours = bea_workloads(args.max_order)
    print(f"bea: explicit Euler modified equation, order 9 (486 trees): {ours['euler_9']:.3f} s")
    if args.max_order > 9:
        n = len(trees_up_to(args.max_order))
        print(
            f"bea: explicit Euler modified equation, order {args.max_order} ({n} trees): "
            f"{ours[f'euler_{args.max_order}']:.2f} s"
        )
    print(
        f"bea: modifying integrator of explicit midpoint, order 8, oscillator at (1, 0): "
        f"{ours['modifying_8']:.2f} s"
    )
    print(f"     f_h(1, 0) = ({ours['modifying_8_value'][0]}, {ours['modifying_8_value'][1]})")
    if not args.compare:
        return
    py = ensure_venv()
    res = subprocess.run([str(py), "-c", OTHERS, "9"], capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(f"the comparison run failed:\n{res.stderr[-2000:]}")
    them = json.loads(res.stdout.strip().splitlines()[-1])
    agree = all(
        abs(x - y) < 1e-12
        for x, y in zip(ours["euler_9_values"], them["kauri_euler_values"], strict=False)
    )
    print(
        f"kauri: explicit Euler order 9: {them['kauri_euler']:.2f} s "
        f"(bea {them['kauri_euler'] / ours['euler_9']:.0f}x faster; first coefficients agree: "
        f"{agree})"
    )
    print(
        f"BSeries: explicit Euler order 9: {them['bseries_euler']:.2f} s "
        f"(bea {them['bseries_euler'] / ours['euler_9']:.0f}x faster)"
    )
    print(
        f"kauri: modifying integrator, order 8, oscillator: {them['kauri_modifying']:.2f} s "
        f"(bea {them['kauri_modifying'] / ours['modifying_8']:.0f}x faster)"
    )


if __name__ == "__main__":
    sys.exit(main())
