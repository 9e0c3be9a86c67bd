"""Regenerate the verification figures of the documentation pages (docs/_static/*.png).

Run:  python docs/make_figures.py

The six figures of the two-parameter tutorial (and the index page) are those of ``bea figures``,
copied byte for byte. Each other figure is ``bea.verify``/``bea.verify_flow`` of one optimizer
family, drawn by ``Verification.plot``; with
the ``deep`` and ``dask`` extras, the Section-5 page's figures and claims table come from the full
``bea deep study`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import sympy as sp

import bea
from bea.bseries.rk import EXPLICIT_EULER
from bea.models import TwoParameter
from bea.optim import GD, SGD, Adam, AdamW, Game, HeavyBall, ProximalPoint
from bea.plots.output import save_figure
from bea.study import FIGURES

matplotlib.use("Agg")
STATIC = Path(__file__).resolve().parent / "_static"
a, b, h = sp.symbols("a b h")
LOSS = (a * b - sp.Rational(3, 5)) ** 2 / 2
POINTS = [[1.5, 0.8], [0.5, 2.0]]


def main() -> None:
    _two_parameter()
    figs = {}
    m = TwoParameter()  # getting-started's first figure: bea verify --model two-parameter
    figs["first_figure"] = bea.verify(m.loss, m.params, m.start, orders=(0, 1, 2, 3)).plot()
    figs["verify_heavy_ball"] = bea.verify(
        LOSS, [a, b], POINTS, orders=(0, 1, 2, 3), method=HeavyBall(sp.Rational(1, 2))
    ).plot()
    figs["verify_proximal_point"] = bea.verify(
        LOSS + a**4 / 4, [a, b], POINTS, orders=(0, 1, 2, 3), method=ProximalPoint()
    ).plot()
    c1 = LOSS + a**2 / 4
    c2 = LOSS - a**2 / 4 + b**3 / 3
    figs["verify_sgd_epoch"] = bea.verify(
        (c1 + c2) / 2, [a, b], POINTS, orders=(0, 1, 2), method=SGD([c1, c2], shuffle=False)
    ).plot()
    figs["verify_adam"] = bea.verify(
        "t**4/4 + t**2/2",
        ["t"],
        [[0.8], [-1.2]],
        orders=(0, 1, 2, 3),
        method=Adam(sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 10)),
        steps=np.geomspace(0.002, 0.03, 10),
    ).plot()
    x, y = sp.symbols("x y")
    game = Game(x * y + x**2 / 2, -x * y + y**2 / 4, [x], [y], 2, alternating=True)
    figs["verify_game_alternating"] = bea.verify_flow(
        game.flow(h, 3),
        game.step_map(h),
        [[0.5, 0.3], [-0.4, 0.8]],
        orders=(0, 1, 2, 3),
        steps=0.004 * 1.3 ** np.arange(10),
    ).plot()
    u, v = sp.symbols("u v")
    f = [u * (v - 2), v * (1 - u)]
    figs["bseries_lotka_volterra"] = bea.verify_flow(
        bea.modified_equation(EXPLICIT_EULER, [u, v], h, 3, field=f),
        EXPLICIT_EULER.step_map(f, [u, v], h),
        [[1.0, 1.5], [2.0, 3.0]],
        orders=(0, 1, 2, 3),
        steps=np.geomspace(0.0025, 0.04, 12),
    ).plot()
    figs.update(variant_figures())
    figs["modified_hamiltonian_energy"] = _energy_figure()
    figs["verify_sme"] = sme_figure()
    try:  # the neural-network figures need the optional extra bea[deep]
        import bea.deep as bd
    except bea.InputError as err:
        print("skipped the bea.deep figures:", err)
    else:
        mlp = bd.problem("digits", bd.mlp([64, 16, 10]), n_train=300)
        figs["deep_theorem_3_1"] = bd.verify(mlp, orders=(0, 1, 2, 3)).plot()
        run = bd.train(mlp.with_dtype("float32"), "gd", 0.5, time=150.0, evaluate_every=10)
        figs["deep_rig_along_training"] = _rig_figure(run)
        _section5()
    for name, fig in figs.items():
        print("wrote", save_figure(fig, STATIC / f"{name}.png"))


def variant_figures() -> dict:
    """Adam with ε outside the root, and gradient descent with a learning-rate schedule."""
    outside = Adam(sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 10), eps_outside=True)
    figs = {
        "verify_adam_eps_outside": bea.verify(
            "t**4/4 + t**2/2",
            ["t"],
            [[0.8], [-1.2]],
            orders=(0, 1, 2, 3),
            method=outside,
            steps=np.geomspace(0.002, 0.03, 10),
        ).plot()
    }
    figs["verify_adamw"] = bea.verify(
        LOSS + a**4 / 4,
        [a, b],
        [[0.8, -0.3]],
        orders=(0, 1, 2),
        method=AdamW(sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 10), sp.Rational(1, 5)),
    ).plot()
    figs["adam_transient"] = bea.bias_correction_transient(
        "t**4/4 + t**2/2",
        ["t"],
        [0.8],
        Adam(sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 10)),
        steps=[0.02, 0.01, 0.005],
        n=40,
    ).plot()
    t = sp.Symbol("t")
    flow, step = GD(schedule=1 / (1 + t)).flow_and_step(LOSS, (a, b), h, 3)
    figs["verify_schedule"] = bea.verify_flow(
        flow,
        step,
        [[1.2, 0.7, 0.0], [0.4, 1.5, 0.5]],
        orders=(0, 1, 2, 3),
        steps=np.geomspace(0.004, 0.05, 10),
    ).plot()
    return figs


def sme_figure(paths: int = 200_000):
    """SGD with replacement on four examples of the paper's model against its stochastic modified
    equations of weak order 1 and 2 (float64; about 3 minutes; the same run as
    ``benchmarks/bench_sme.py``)."""
    xs, ys = (0.5, 1.0, 1.5, 2.0), (1.0, 0.2, 1.4, 0.6)
    sme = bea.stochastic_modified_equation(
        [f"({y} - a*b*{x})**2/2" for x, y in zip(xs, ys, strict=True)], ["a", "b"]
    )
    steps = [0.05, 0.025, 0.0125, 0.00625]
    return bea.verify_weak(sme, (1.2, 0.8), steps=steps, paths=paths, substeps=2).plot()


def _energy_figure(step: float = 0.2, steps: int = 20_000):
    """Symplectic Euler on the pendulum H = p²/2 − cos q (float64): the energy error of H, H̃₁ and
    H̃₂ along one long trajectory, beside explicit Euler's drifting energy."""
    import matplotlib.pyplot as plt

    q, p = sp.symbols("q p")
    H = p**2 / 2 - sp.cos(q)
    flow = bea.hamiltonian_flow(H, [q], [p], 2, "symplectic-euler")
    energies = {
        "H": H,
        "H̃ to O(h)": flow.modified_hamiltonian(1, hamiltonian=H),
        "H̃ to O(h²)": flow.modified_hamiltonian(2, hamiltonian=H),
    }
    qs, ps = np.empty(steps + 1), np.empty(steps + 1)
    qe, pe = np.empty(steps + 1), np.empty(steps + 1)
    qs[0] = qe[0] = 1.0
    ps[0] = pe[0] = 0.0
    for n in range(steps):  # one trajectory: each step needs the last
        ps[n + 1] = ps[n] - step * np.sin(qs[n])
        qs[n + 1] = qs[n] + step * ps[n + 1]
        qe[n + 1] = qe[n] + step * pe[n]
        pe[n + 1] = pe[n] - step * np.sin(qe[n])
    t = step * np.arange(steps + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    for (label, E), style in zip(energies.items(), ["-", "--", ":"], strict=True):
        f = sp.lambdify((q, p, h), E, "numpy")
        err = np.abs(f(qs, ps, step) - f(qs[0], ps[0], step))[1:].reshape(-1, 100).max(axis=1)
        ax1.semilogy(t[100::100], err, style, lw=1.5, label=label)
    ax1.set(
        xlabel="time t = nh",
        ylabel="max |energy − energy(0)| per 20 time units",
        title=f"symplectic Euler, pendulum, h = {step}",
        ylim=(1e-5, 1),
    )
    ax1.legend(loc="lower right", fontsize=8)
    f = sp.lambdify((q, p), H, "numpy")
    ax2.plot(t, f(qe, pe) - f(qe[0], pe[0]), lw=1, color="C3", label="H")
    ax2.legend(loc="lower right", fontsize=8)
    ax2.set(xlabel="time t = nh", ylabel="H(t) − H(0)", title=f"explicit Euler, h = {step}")
    return fig


def _two_parameter() -> None:
    """The figures of ``bea figures`` (about a minute on 2 cores)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        bea.figures(out)
        for name in FIGURES:
            shutil.copyfile(Path(out) / f"{name}.png", STATIC / f"{name}.png")
            print("wrote", STATIC / f"{name}.png")


def _section5() -> None:
    """The full Section-5 study: its figures and a claims table for docs/section5.rst."""
    import shutil
    import tempfile

    from bea.deep.report import study

    with tempfile.TemporaryDirectory() as out:
        report = study(out, executor="local")
        for name in ("s5_rig_vs_lambda", "s5_robustness", "s5_egr", "s5_rig_along_training"):
            shutil.copyfile(Path(out) / f"{name}.png", STATIC / f"{name}.png")
            print("wrote", STATIC / f"{name}.png")
        s = report.summary
        lines = [
            f".. list-table:: Section-5 claims measured by ``bea deep study`` ({s['data']}, "
            f"{s['precision']}, {len(s['settings']['seeds'])} seeds, {s['runs']} runs in "
            f"{s['wall_time_s']:.0f} s on the '{s['executor']}' executor)",
            "   :header-rows: 1",
            "   :widths: 8 40 52",
            "",
            "   * - result",
            "     - claim",
            "     - measured",
        ]
        for c in report.claims:
            lines += [
                f"   * - {'PASS' if c.passed else 'FAIL'}",
                f"     - {c.statement}",
                f"     - {c.measured}",
            ]
        lines += ["", "Notes of that run: " + " ".join(s["notes"]), ""]
        (STATIC / "section5_results.inc").write_text("\n".join(lines), encoding="utf-8")


def _rig_figure(run):
    import matplotlib.pyplot as plt

    hist = run.history
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    ax1.semilogy(hist["time"], hist["loss"], label="loss E")
    ax1.semilogy(hist["time"], hist["r_ig"], label="R_IG = |∇E|²/m")
    ax1.set_xlabel("time t = n h")
    ax1.set_title("64-16-10 tanh MLP on digits, GD h = 0.5 (float32)")
    ax1.legend()
    ax2.plot(hist["time"], hist["train_accuracy"], label="train")
    ax2.plot(hist["time"], hist["test_accuracy"], label="test")
    ax2.axvline(hist["time"][run.best], color="grey", ls=":", label="best iterate")
    ax2.set_xlabel("time t = n h")
    ax2.set_ylabel("accuracy")
    ax2.legend()
    return fig


if __name__ == "__main__":
    main()
