"""The stochastic modified equation of SGD: derivation time, weak orders, and what the control
variates save.

Run:  python benchmarks/bench_sme.py [--paths N] [--quick]

1. Derivation: ``bea.stochastic_modified_equation`` on the paper's model with four examples and
   on a 16-weight logistic regression with eight examples (seconds).
2. Variance: the Monte Carlo standard error of the order-2 weak error at h = 0.025 with the
   control variates (linearised copies with exact moments) against plain Monte Carlo, same paths,
   same seed, in the same process; the ratio squared is the factor in paths saved.
3. Weak orders: the first two moments of SGD with replacement after N = 1/h steps against the SDE
   of weak order 1 and 2, h = 0.05 … 0.00625 (float64). Expected slopes 1 and 2.
4. The same with random reshuffling (batches of 1 and 2; 20,000 paths): the equations are
   deterministic; expected slopes 1 and 2.
"""

from __future__ import annotations

import argparse
import time

import sympy as sp

import bea

XS = (0.5, 1.0, 1.5, 2.0)
YS = (1.0, 0.2, 1.4, 0.6)
START = (1.2, 0.8)


def paper_model() -> bea.StochasticModifiedEquation:
    """Four examples (x_k, y_k) of the paper's model ½(y − abx)²."""
    return bea.stochastic_modified_equation(
        [f"({y} - a*b*{x})**2/2" for x, y in zip(XS, YS, strict=True)], ["a", "b"]
    )


def logistic(n_weights: int = 16, n_examples: int = 8) -> tuple[float, int]:
    """Time of the SME of a logistic regression; returns (seconds, terms in Σ)."""
    w = sp.symbols(f"w0:{n_weights}")
    losses = []
    for k in range(n_examples):
        z = sum(((i * 7 + k * 3) % 5 - 2) * wi / 4 for i, wi in enumerate(w))
        losses.append(sp.log(1 + sp.exp(-(1 if k % 2 else -1) * z)))
    start = time.perf_counter()
    sme = bea.stochastic_modified_equation(losses, list(w))
    return time.perf_counter() - start, sum(len(sp.Add.make_args(e)) for e in sme.covariance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="20,000 paths, three step sizes")
    args = parser.parse_args()
    paths = 20_000 if args.quick else args.paths

    start = time.perf_counter()
    sme = paper_model()
    print(f"derive, paper's model, 4 examples:        {time.perf_counter() - start:6.2f} s")
    seconds, terms = logistic()
    print(f"derive, logistic, 16 weights, 8 examples: {seconds:6.2f} s ({terms} terms in Sigma)")

    timing = {}
    runs = {}
    for cv in (True, False):
        start = time.perf_counter()
        runs[cv] = bea.verify_weak(
            sme, START, steps=[0.025], paths=paths, substeps=2, control_variate=cv
        )
        timing[cv] = time.perf_counter() - start
    with_cv, plain = runs[True].stderr[2][0], runs[False].stderr[2][0]
    print(
        f"\nstandard error at h = 0.025, {paths} paths: {with_cv:.2e} with control variates, "
        f"{plain:.2e} plain ({timing[True]:.1f} s against {timing[False]:.1f} s): "
        f"ratio {plain / with_cv:.1f}, {(plain / with_cv) ** 2:.0f}x fewer paths for the same error"
    )
    diff = abs(runs[True].sde[2][0] - runs[False].sde[2][0]).max()
    print(
        f"the two estimates of the SDE's moments differ by at most {diff:.2e} "
        f"(plain Monte Carlo's standard error of the weak error: {plain:.2e})"
    )

    steps = [0.05, 0.025, 0.0125] if args.quick else [0.05, 0.025, 0.0125, 0.00625]
    start = time.perf_counter()
    v = bea.verify_weak(sme, START, steps=steps, paths=paths, substeps=2)
    print(f"\nweak orders, paper's model, start {START}, {time.perf_counter() - start:.0f} s")
    print(v.summary())

    for batch in (1, 2):  # random reshuffling: a deterministic equation, SGD's variance O(h³)
        shuffled = bea.stochastic_modified_equation(
            [f"({y} - a*b*{x})**2/2" for x, y in zip(XS, YS, strict=True)],
            ["a", "b"],
            sampling="shuffle",
            batch_size=batch,
        )
        start = time.perf_counter()
        v = bea.verify_weak(shuffled, START, steps=steps, paths=20_000, substeps=2)
        print(f"\nshuffling, batches of {batch}, {time.perf_counter() - start:.0f} s")
        print(v.summary())


if __name__ == "__main__":
    main()
