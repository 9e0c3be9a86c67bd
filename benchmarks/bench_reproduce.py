"""Wall time of the main job (bea reproduce) by stage, and the batched learning-rate sweep against
a per-learning-rate loop, in one process.

Run:  python benchmarks/bench_reproduce.py [--quick] [--baseline-rates 4]

Target: the full ``bea reproduce`` in under 3 minutes on 2 cores. The baseline runs the far-start
sweep one learning rate at a time (the same iteration, unbatched) on a subset of the rates and
scales linearly to all of them.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from bea.models import TwoParameter
from bea.study import experiments as study
from bea.study import figures, reproduce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--baseline-rates", type=int, default=4)
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    m = TwoParameter()
    settings = study.Settings(quick=args.quick)

    t0 = time.perf_counter()
    stamps = []
    with tempfile.TemporaryDirectory() as out:
        figures(out, quick=args.quick, stage=lambda s: stamps.append((s, time.perf_counter())))
        stamps.append(("end", time.perf_counter()))
        for (name, t), (_, t_next) in zip(stamps, stamps[1:], strict=False):
            print(f"  {name:<26s} {t_next - t:6.1f} s")
        t1 = time.perf_counter()
        report = reproduce(out, quick=args.quick)
        t2 = time.perf_counter()
    print(
        f"bea figures: {t1 - t0:.1f} s; bea reproduce (figures + report): {t2 - t1:.1f} s; "
        f"claims passed: {report.passed}"
    )

    limit = float(m.stability_limit(np.array(m.far_start)))
    steps = limit * np.linspace(*settings.sweep_range, settings.n_sweep)
    horizon = settings.horizon(True)
    t = time.perf_counter()
    batched, _ = study.gd_end_points(m, m.far_start, steps, horizon)
    t_batched = time.perf_counter() - t
    pick = np.linspace(0, steps.size - 1, args.baseline_rates).round().astype(int)
    t = time.perf_counter()
    for i in pick:  # the baseline: one learning rate at a time
        one, _ = study.gd_end_points(m, m.far_start, steps[i : i + 1], horizon)
        assert np.allclose(one[0], batched[i], equal_nan=True)
    t_loop = (time.perf_counter() - t) * steps.size / pick.size
    print(
        f"far-start GD sweep, {steps.size} learning rates: batched {t_batched:.1f} s, "
        f"one rate at a time {t_loop:.1f} s (scaled from {pick.size}); "
        f"ratio {t_loop / t_batched:.1f}x"
    )


if __name__ == "__main__":
    main()
