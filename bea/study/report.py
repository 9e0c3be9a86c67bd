"""``bea reproduce``: derive, verify, draw, and report which of the paper's claims hold.

The report states each claim of Barrett & Dherin (ICLR 2021) that bea checks on the two-parameter
model, the number measured, what was expected and whether it passed, in ``report.md`` and in a
self-contained ``report.html`` (figures inline). Every number comes from bea's own derivations and
runs; nothing is typed in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import sympy as sp

from ..derive import modified_flow, modified_loss
from ..io import OutputFolder, dumps, versions
from ..models import TwoParameter
from ..numeric import compile_expressions, iterate
from ..optim import GD
from ..regularization import igr
from ..reporting import (
    Claim,
    Formula,
    Section,
    claims_text,
    plain,
    render_html,
    render_markdown,
)
from .experiments import STAGES, Settings, StudyResults, check_size, run
from .figures import FIGURES, STALE, FigureSet, Progress, draw

__all__ = [
    "Claim",
    "Report",
    "Section",
    "render_html",
    "render_markdown",
    "reproduce",
    "section4",
    "section4_report",
]

#: Tolerance on measured convergence orders.
SLOPE_TOL = 0.15


@dataclass(frozen=True)
class Report:
    """The outcome of :func:`reproduce`.

    Attributes
    ----------
    out : pathlib.Path
    claims : tuple of Claim
    figures : FigureSet
    notes : tuple of str
        Observations that are not pass/fail claims.

    Examples
    --------
    >>> from pathlib import Path
    >>> from bea.study import FigureSet
    >>> claim = Claim("k", "a claim", "a paper", "3.01", "3", True)
    >>> r = Report(Path("out"), (claim,), FigureSet(Path("out"), (), {}), ())
    >>> print(r)
    PASS  a claim: 3.01
    1 of 1 claims pass; report in out/report.md
    """

    out: Path
    claims: tuple[Claim, ...]
    figures: FigureSet
    notes: tuple[str, ...]
    options: dict | None = None
    sections: tuple = ()

    @property
    def passed(self) -> bool:
        """Whether every claim passed."""
        return all(c.passed for c in self.claims)

    def to_dict(self) -> dict:
        """Claims and notes as plain data."""
        if not self.sections:
            return {
                "versions": versions(),
                "options": self.options or {},
                "passed": self.passed,
                "claims": [c.to_dict() for c in self.claims],
                "notes": list(self.notes),
            }
        stamped = versions()
        for sec in self.sections:
            stamped.update(sec.versions)
        return {
            "versions": stamped,
            "options": self.options or {},
            "passed": self.passed,
            "claims": [{**c.to_dict(), "section": s.key} for s in self.sections for c in s.claims],
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON."""
        return dumps(self.to_dict())

    def __str__(self) -> str:
        return claims_text(self.claims, self.out / "report.md")


def _slopes(kind: str, slopes: dict[int, float], shift: int, orders) -> tuple[str, bool]:
    text = ", ".join(f"p={p}: {slopes[p]:.2f}" for p in orders)
    ok = all(abs(slopes[p] - (p + shift)) <= SLOPE_TOL for p in orders)
    return text, ok


def _symbolic_claims(model: TwoParameter) -> list[Claim]:
    h = sp.Symbol("h")
    a, b = model.params
    E = model.symbolic_loss
    reg = igr(E, model.params)
    derived = modified_loss(E, model.params, order=1)
    ok_loss = sp.expand(derived - (E + reg.lam * reg.R)) == 0
    ok_closed = sp.expand(derived - model.symbolic_modified_loss(h)) == 0
    step = GD().step_map(E, model.params, h).step
    ratio = sp.factor(sp.cancel((step[0] ** 2 - step[1] ** 2) / (a**2 - b**2)))
    flow = modified_flow(model.loss, model.params, order=2)
    first = flow.first_non_gradient()
    x, E = sp.Symbol("x"), sp.Symbol("E")
    half_h = sp.Mul(sp.Rational(1, 2), h, evaluate=False)
    expected_loss = sp.Add(E, sp.Mul(half_h, x**2, a**2 + b**2, E, evaluate=False), evaluate=False)
    a1, b1 = sp.Symbol("a′"), sp.Symbol("b′")  # a, b after one step
    factor = model.symbolic_imbalance_factor(h)
    return [
        Claim(
            "modified-loss",
            "To first order GD follows the gradient flow of E + λ R_IG with λ = hm/4",
            "Barrett & Dherin, eqs. (2)-(3), Theorem 3.1",
            Formula.of(sp.factor(derived), sp.Symbol("Ẽ"), after=" (derived)"),
            Formula.of(
                expected_loss, text="E + (h/2)·x²(a² + b²)·E", after=" (m = 2)", order="none"
            ),
            bool(ok_loss and ok_closed),
        ),
        Claim(
            "imbalance-factor",
            "One GD step multiplies a² − b² by 1 − h²x²r², r = y − abx (GD drains the imbalance)",
            "bea (two-parameter model, Section 4)",
            Formula.of(ratio, (a1**2 - b1**2) / (a**2 - b**2), after=" (derived)"),
            Formula.of(factor),
            bool(sp.simplify(ratio - factor) == 0),
        ),
        Claim(
            "no-loss-at-order-2",
            "The order-2 modified field is not a gradient, so no modified loss exists at h²",
            "bea (beyond the paper)",
            f"first non-gradient order: {first}",
            "2",
            first == 2,
        ),
    ]


def _numeric_claims(results: StudyResults) -> tuple[list[Claim], list[str]]:
    model, v = results.model, results.verification
    claims, notes = [], []
    t31, ok31 = _slopes("local", v.local_slopes, 2, (0, 1))
    claims.append(
        Claim(
            "theorem-3.1",
            "Local error of GD is O(h²) against gradient flow and O(h³) against the modified flow",
            "Barrett & Dherin, Theorem 3.1",
            f"local-error slopes {t31}",
            f"2 and 3 (±{SLOPE_TOL})",
            ok31,
        )
    )
    hi, okhi = _slopes("local", v.local_slopes, 2, (2, 3))
    gl, okgl = _slopes("global", v.global_slopes, 1, (0, 1, 2, 3))
    claims.append(
        Claim(
            "higher-orders",
            "Higher-order modified flows: local error O(h^(p+2)), global error O(h^(p+1))",
            "bea (beyond the paper)",
            f"local {hi}; global {gl}",
            f"local 4, 5; global 1, 2, 3, 4 (±{SLOPE_TOL})",
            okhi and okgl,
        )
    )
    flat_parts, flat_ok, pred_parts, pred_ok, egr_parts, egr_ok = [], True, [], True, [], True
    for name, sw in results.sweeps.items():
        start = tuple(sw.start)
        reg = results.regularized[name]
        gf_sharp = float(model.sharpness(sw.gradient_flow_end))
        ok = (sw.steps <= sw.stability_limit) & (sw.status == "converged")
        rows = np.flatnonzero(ok)
        sharp = model.sharpness(sw.gd_end[rows])
        flat_ok &= bool(len(sharp) > 2 and np.all(np.diff(sharp) < 0))
        flat_ok &= bool(len(sharp) > 0 and sharp[0] < gf_sharp)
        flat_parts.append(
            f"from {start}: {sharp[0]:.3g} → {sharp[-1]:.3g} as h grows "
            f"(gradient flow {gf_sharp:.4g})"
        )
        i0 = rows[0]
        gd0 = float(model.sharpness(sw.gd_end[i0]))
        errs = [abs(gf_sharp - gd0)]
        errs += [
            abs(float(model.sharpness(sw.flow_end[k, i0])) - gd0) for k in range(len(sw.orders))
        ]
        pred_ok &= bool(np.all(np.diff(errs) < 0))
        pred_parts.append(
            f"from {start} at h = {sw.steps[i0]:.3g}: " + ", ".join(f"{e:.1e}" for e in errs)
        )
        gd_min = float(np.min(sharp))
        egr_min = float(np.min(model.sharpness(reg.end)))
        egr_ok &= egr_min < gd_min
        egr_parts.append(f"from {start}: {egr_min:.3g} (explicit) vs {gd_min:.3g} (stable GD)")
        beyond = np.flatnonzero((sw.steps > sw.stability_limit) & (sw.status == "converged"))
        if beyond.size:
            k = beyond[np.argmin(model.sharpness(sw.gd_end[beyond]))]
            notes.append(
                f"From {start}, GD above the linear stability limit at the start "
                f"(h > {sw.stability_limit:.3g}) still converges for some h and can end "
                f"flatter still (sharpness {float(model.sharpness(sw.gd_end[k])):.3g} at "
                f"h = {sw.steps[k]:.3g}). Such runs are outside the regime of backward error "
                "analysis, and bea makes no prediction for them."
            )
        lost = sw.status != "converged"
        if lost.any():
            kinds, counts = np.unique(sw.status[lost], return_counts=True)
            what = ", ".join(
                f"{n} {'still moving at the end' if k == 'not converged' else k}"
                for k, n in zip(kinds, counts, strict=True)
            )
            lo, hi_ = float(sw.steps[lost].min()), float(sw.steps[lost].max())
            notes.append(
                f"From {start}, GD did not converge for {int(lost.sum())} of the "
                f"{sw.steps.size} learning rates ({what}), all in [{lo:.3g}, {hi_:.3g}]"
                + (
                    ", above the stability limit at the start."
                    if lo > sw.stability_limit
                    else "; some of them are below the stability limit at the start."
                )
            )
    claims.append(
        Claim(
            "flatter-minima",
            "Larger learning rates lead GD to flatter minima",
            "Barrett & Dherin, Prediction 2.2",
            "; ".join(flat_parts),
            "sharpness decreasing in h, below gradient flow's",
            flat_ok,
        )
    )
    claims.append(
        Claim(
            "predicted-limit",
            "Modified flows predict where GD ends, better with each order",
            "bea (beyond the paper)",
            "|sharpness error| of gradient flow, orders 1, 2, 3 " + "; ".join(pred_parts),
            "errors decreasing with the order",
            pred_ok,
        )
    )
    claims.append(_rig_claim(results))
    claims.append(
        Claim(
            "explicit-regularization",
            "Explicit gradient regularization reaches flatter minima than any GD run that is stable",
            "Barrett & Dherin, Section 1 (explicit regularizer)",
            "smallest sharpness: " + "; ".join(egr_parts),
            "explicit < stable GD",
            bool(egr_ok),
        )
    )
    claims.append(_curl_claim(results))
    return claims, notes


def _rig_claim(results: StudyResults) -> Claim:
    rig = results.rig
    levels = (1e-2, 1e-6)
    table = []
    for E, ratio in zip(rig.loss, rig.ratio, strict=True):
        row = []
        for level in levels:  # first crossing of the level, interpolated in log E
            k = int(np.argmax(E < level))
            t = (np.log(level) - np.log(E[k - 1])) / (np.log(E[k]) - np.log(E[k - 1]))
            row.append(ratio[k - 1] + t * (ratio[k] - ratio[k - 1]))
        table.append(row)
    table = np.array(table)  # (n_h, n_levels)
    ok = bool(np.all(np.diff(table, axis=0) < 0))
    hs = ", ".join(f"{h:.3g}" for h in rig.steps)
    measured = "; ".join(
        f"at E = {lv:g}: " + ", ".join(f"{x:.3g}" for x in table[:, j])
        for j, lv in enumerate(levels)
    )
    return Claim(
        "rig-along-path",
        "GD with a larger learning rate has smaller R_IG/E at equal loss",
        "Barrett & Dherin, Prediction 2.1",
        f"R_IG/E for h = {hs}: {measured}",
        "decreasing in h at each loss level",
        ok,
    )


def _curl_claim(results: StudyResults) -> Claim:
    model, c = results.model, results.curl
    curl = compile_expressions([c.expr], model.params)
    t = np.linspace(-3, 3, 61)
    t = t[t != 0]
    on = np.concatenate(
        [np.stack([t, t], -1), np.stack([t, -t], -1), np.stack([t, model.valley(t)], -1)]
    )
    off = np.random.default_rng(0).uniform(-3, 3, (200, 2))
    zero = float(np.abs(curl(on)).max())
    nonzero = float(np.abs(curl(off)).min())
    return Claim(
        "curl-zero-set",
        "The order-2 obstruction vanishes exactly on a = ±b and on the valley of minima",
        "bea (beyond the paper)",
        Formula.of(
            c.expr,
            sp.Function("curl")(sp.Symbol("f_2")),
            text=f"curl f₂ = {plain(c.expr)}",
            after=f"; max |curl| on those curves {zero:.1e}, min off them {nonzero:.1e}",
        ),
        "0 on the curves, non-zero elsewhere",
        zero < 1e-9 and nonzero > 0,
    )


def _imbalance_run_claim(model: TwoParameter) -> Claim:
    h = 0.04
    res = iterate(lambda Y, H: model.gd_step(Y, H), np.array(model.start), [h], 100, record=True)
    traj = res.trajectory[:, 0, 0]
    c = model.imbalance(traj)
    factor = 1 - h**2 * model.x**2 * model.residual(traj[:-1]) ** 2
    dev = float(np.max(np.abs(c[1:] - factor * c[:-1]) / np.abs(c[:-1])))
    return Claim(
        "imbalance-run",
        "Along a GD run the imbalance shrinks by exactly that factor at every step",
        "bea (two-parameter model)",
        f"largest relative deviation over 100 steps at h = {h}: {dev:.1e}",
        "rounding only (< 1e-12)",
        dev < 1e-12,
    )


def _figure_names(fs: FigureSet):
    return [name for name in FIGURES if f"{name}.png" in fs.files]


_CAPTIONS = {
    "trajectories": "Gradient flow, GD at two learning rates and the modified flows of orders 1 "
    "and 3; the insets zoom on where the runs end: GD follows the modified flow, not gradient "
    "flow.",
    "error_vs_h": "Local and global error of GD against the modified flow truncated at order p "
    "(Theorem 3.1 and its higher-order analogues).",
    "flatness_vs_h": "Where GD ends against h: sharpness and imbalance of its limit, gradient "
    "flow's closed form, and the modified flows' predictions (up to the stability limit).",
    "rig_along_path": "R_IG/E along GD paths (Prediction 2.1), against time and at equal loss.",
    "explicit_regularization": "Gradient flow on E + μR_IG against GD at its implicit rate "
    "λ = h/2: explicit regularization goes beyond what stable GD reaches.",
    "curl_order2": "Curl of the order-2 modified field: non-zero except on a = ±b and on the "
    "valley, so no modified loss exists at order h².",
}


def section4(report: Report) -> Section:
    """The two-parameter study of a :func:`reproduce` report as a report :class:`Section`."""
    fs = report.figures
    model = fs.summary["model"]
    return Section(
        "§4",
        "Section 4: the two-parameter model",
        f"Model E(a, b) = (y − abx)²/2 with x = {model['x']}, y = {model['y']} (the paper's "
        "two-parameter model): exact derivations by bea and float64 runs of GD and the modified "
        "flows.",
        report.claims,
        report.notes,
        tuple((n, _CAPTIONS[n], fs.images[n]) for n in _figure_names(fs)),
    )


def _header(quick: bool, command: str = "bea reproduce") -> str:
    cmd = command + (" --quick" if quick else "")
    return f"bea {versions()['bea']}; command `{cmd}`."


def reproduce(
    out: str | os.PathLike = "bea-reproduce",
    *,
    model: TwoParameter | None = None,
    quick: bool = False,
    progress: bool = False,
    force: bool = False,
    more=(),
) -> Report:
    """Derive the modified loss, verify it, make every figure and write the report.

    Parameters
    ----------
    out : path
        Output folder (created if missing): figures and data (see :func:`bea.figures`),
        ``report.md``, ``report.html`` and ``report.json``; what bea promises about the folder
        is in :class:`bea.io.OutputFolder`.
    model : TwoParameter, optional
    quick : bool
        Small sweeps (a smoke run; same files).
    progress : bool
        Show progress on stderr.
    force : bool
        Write into a folder that also holds files bea did not write (never touching them).
    more : sequence
        Further parts of the paper, run into the same folder after Section 4 and reported in the
        same report with one claims table: objects with ``stale`` (the file names a part
        writes, removed when a new run starts) and ``run(folder, quick=, progress=)`` returning
        a :class:`bea.reporting.Section` — e.g. :class:`bea.deep.report.Section5` (Section 5
        on neural networks; what ``bea reproduce`` adds when ``bea[deep]`` is installed).

    Returns
    -------
    Report

    Examples
    --------
    >>> import tempfile, matplotlib; matplotlib.use("Agg")
    >>> report = reproduce(tempfile.mkdtemp(), quick=True)
    >>> report.passed, (report.out / "report.html").exists()
    (True, True)
    """
    more = tuple(more)
    stale = tuple(dict.fromkeys((*STALE, *(n for part in more for n in part.stale))))
    with OutputFolder(out, force=force, stale=stale) as folder:
        report = section4_report(folder, model=model, quick=quick, progress=progress)
        sections = [section4(report)]
        for part in more:
            sections.append(part.run(folder, quick=quick, progress=progress))
        title = "bea reproduce: implicit gradient regularization on the two-parameter model"
        header = _header(quick) + (
            " Scope: Section 4 of Barrett & Dherin (ICLR 2021), the paper's two-parameter model."
            " The paper's Section 5 (deep networks: R_IG, test accuracy, robustness, explicit"
            " regularization) is not in this report; `bea reproduce` adds it when bea[deep] is"
            " installed (pip install 'bea[deep]'), and `bea deep study` runs it alone."
        )
        if more:
            header = _header(quick)
            title = "bea reproduce: implicit gradient regularization, " + ", ".join(
                s.title.split(":")[0] for s in sections
            )
            header += (
                " Barrett & Dherin (ICLR 2021): Section 4 on the paper's two-parameter model, "
                "then " + "; ".join(s.title for s in sections[1:]) + "."
            )
            report = replace(
                report,
                claims=tuple(c for s in sections for c in s.claims),
                notes=tuple(n for s in sections for n in s.notes),
                options={**(report.options or {}), "sections": [s.key for s in sections]},
                sections=tuple(sections),
            )
        folder.write("report.md", render_markdown(title, header, sections))
        folder.write("report.html", render_html(title, header, sections))
        folder.write("report.json", report.to_json())
        return report


def section4_report(
    folder: OutputFolder,
    *,
    model: TwoParameter | None = None,
    quick: bool = False,
    progress: bool = False,
) -> Report:
    """The two-parameter study into an open output folder: derivations, runs, figures and their
    data, and the checked claims — everything of :func:`reproduce` except the report files
    (so that a larger report can include it, see :func:`section4`).

    Examples
    --------
    >>> import tempfile, matplotlib; matplotlib.use("Agg")
    >>> with OutputFolder(tempfile.mkdtemp()) as folder:
    ...     report = section4_report(folder, quick=True)
    >>> len(report.claims), (report.out / "report.md").exists()
    (11, False)
    """
    model = TwoParameter() if model is None else model
    check_size(model, Settings(quick=quick))
    stages = ["derivations", *STAGES, "figures", "report"]
    with Progress(progress, None, stages) as steps:
        steps("derivations")
        claims = _symbolic_claims(model)
        claims.append(_imbalance_run_claim(model))
        results = run(model, Settings(quick=quick), stage=steps)
        steps("figures")
        fs = draw(results, folder)
        steps("report")
        return _report(folder, model, quick, claims, results, fs)


def _report(folder, model, quick, claims, results, fs) -> Report:
    out = folder.path
    more, notes = _numeric_claims(results)
    order = [
        "modified-loss",
        "theorem-3.1",
        "higher-orders",
        "flatter-minima",
        "rig-along-path",
        "explicit-regularization",
        "imbalance-factor",
        "imbalance-run",
        "predicted-limit",
        "no-loss-at-order-2",
        "curl-zero-set",
    ]
    by_key = {c.key: c for c in claims + more}
    options = {"quick": quick, "x": float(model.x), "y": float(model.y), "out": str(out)}
    return Report(out, tuple(by_key[k] for k in order), fs, tuple(notes), options)
