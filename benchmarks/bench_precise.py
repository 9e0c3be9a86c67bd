"""Local errors beyond float64 (``bea.verify_local``) against float64 ``bea.verify``, in one process.

Run:  python benchmarks/bench_precise.py [--digits 40] [--max-order 8]

Gradient descent on the paper's model E = (0.6 − ab)²/2 from (1.5, 0.8), local errors at
h = 1/32 … 1/256 (4 step sizes). For each order p it prints the local slope measured in float64 by
``bea.verify`` (which drops errors at its resolution floor, so high orders have no slope) and in
``--digits`` decimal digits by ``bea.verify_local`` (expected p + 2), and the wall time of each.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import sympy as sp

import bea
from bea.optim import GD


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=40)
    parser.add_argument("--max-order", type=int, default=8)
    args = parser.parse_args()
    a, b, h = sp.symbols("a b h")
    E = (sp.Rational(3, 5) - a * b) ** 2 / 2
    K = args.max_order
    t0 = time.perf_counter()
    flow = bea.modified_flow(E, [a, b], K)
    t_derive = time.perf_counter() - t0
    steps = np.array([1 / 32, 1 / 64, 1 / 128, 1 / 256])
    t0 = time.perf_counter()
    f64 = bea.verify(E, [a, b], [[1.5, 0.8]], orders=range(K + 1), steps=steps, horizon=0.5)
    t_f64 = time.perf_counter() - t0
    t0 = time.perf_counter()
    hi = bea.verify_local(
        flow, GD().step_map(E, (a, b), h), [[1.5, 0.8]], steps=steps, digits=args.digits
    )
    t_hi = time.perf_counter() - t0
    print(f"bea {bea.__version__}; derivation to order {K}: {t_derive:.2f} s")
    print(f"{'p':>3} {'float64 slope':>14} {f'{args.digits} digits slope':>17} {'expected':>9}")
    for p in range(K + 1):
        s64 = f64.local_slopes[p]
        shown = "-" if math.isnan(s64) else f"{s64:.2f}"
        print(f"{p:>3} {shown:>14} {hi.local_slopes[p]:17.2f} {p + 2:>9}")
    print(
        f"wall time: float64 verify (local and global errors) {t_f64:.2f} s, "
        f"{args.digits}-digit local errors {t_hi:.2f} s ({t_hi / t_f64:.0f}x)"
    )


if __name__ == "__main__":
    main()
