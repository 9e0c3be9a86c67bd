"""The derivation-speed targets of the optimizer issue, each against its target and, for Adam,
against gradient descent on the same loss and order in the same process.

Run:  python benchmarks/bench_optimizers.py

Cases (targets on 2 cores, exact arithmetic):
  * modified_loss of log(1 + e^(-ab)) + (a² + b²)/10 + sin(a)/3 at order 1   [< 2 s]
  * Adam at order 1 on two parameters, numeric hyper-parameters              [< 1 s]
  * Adam at order 1 on two parameters, symbolic β₁, β₂, ε                   [< 5 s]
  * Adam at order 2 on one parameter                                         [< 10 s]
  * logistic regression with 16 weights at order 3                           [< 5 s]
Each case runs first, cold, in a fresh child process (no cache shared between cases); the GD
reference runs after it in the same child.
"""

from __future__ import annotations

import json
import subprocess
import sys

CASES = {
    "non-polynomial modified_loss, order 1": (
        "import sympy as sp, bea; a, b = sp.symbols('a b');"
        "E = sp.log(1 + sp.exp(-a*b)) + (a**2 + b**2)/10 + sp.sin(a)/3;"
        "run = lambda m: bea.modified_loss(E, [a, b], 1, method=m)",
        2.0,
    ),
    "Adam order 1, 2 parameters, numeric": (
        "import sympy as sp, bea; from bea.optim import Adam; a, b = sp.symbols('a b');"
        "E = (a*b - sp.Rational(3, 5))**2/2;"
        "run = lambda m: bea.modified_flow(E, [a, b], 1, method=m);"
        "M = Adam(sp.Rational(9, 10), sp.Rational(999, 1000), sp.Rational(1, 10**8))",
        1.0,
    ),
    "Adam order 1, 2 parameters, symbolic": (
        "import sympy as sp, bea; from bea.optim import Adam; a, b = sp.symbols('a b');"
        "E = (a*b - sp.Rational(3, 5))**2/2;"
        "run = lambda m: bea.modified_flow(E, [a, b], 1, method=m); M = Adam()",
        5.0,
    ),
    "Adam order 2, 1 parameter": (
        "import sympy as sp, bea; from bea.optim import Adam; t = sp.Symbol('t');"
        "E = t**4/4 + t**2/2; run = lambda m: bea.modified_flow(E, [t], 2, method=m);"
        "M = Adam(sp.Rational(9, 10), sp.Rational(999, 1000), sp.Rational(1, 10))",
        10.0,
    ),
    "logistic regression, 16 weights, order 3": (
        "import sympy as sp, bea; w = sp.symbols('w0:16');"
        "z = sum(((i * 7) % 5 - 2) * wi / 4 for i, wi in enumerate(w));"
        "E = sp.log(1 + sp.exp(-z)) + sum(wi**2 for wi in w)/20;"
        "run = lambda m: bea.modified_flow(E, list(w), 3, method=m)",
        5.0,
    ),
}

CHILD = """
import json, sys, time
{setup}
M = globals().get("M")
start = time.perf_counter(); run(M or "gd"); case = time.perf_counter() - start
gd = None
if M is not None:  # the reference: GD on the same loss and order, after the case (warm)
    start = time.perf_counter(); run("gd"); gd = time.perf_counter() - start
print(json.dumps([case, gd]))
"""


def main() -> int:
    """Print each case's time, its target and the GD reference; exit 1 if a target is missed."""
    print(f"{'case':44s} {'time s':>8s} {'target':>7s} {'GD same loss s':>15s}")
    missed = 0
    for name, (setup, target) in CASES.items():
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(setup=setup)],
            capture_output=True,
            text=True,
            check=True,
        )
        case, gd = json.loads(out.stdout.strip().splitlines()[-1])
        missed += case >= target
        reference = "(is GD)" if gd is None else f"{gd:.2f}"
        print(f"{name:44s} {case:8.2f} {target:7.1f} {reference:>15s}")
    print("all targets met" if not missed else f"{missed} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
