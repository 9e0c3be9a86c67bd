"""``bea deep study`` and the whole paper in ``bea reproduce``: the Section-5 study's figures,
data and claims, alone or after Section 4 in one report with one claims table.

Files (beside the Section-4 files of :func:`bea.study.reproduce` in :func:`reproduce`):

* ``runs/<key>.json`` — one file per run, written atomically as each finishes (a rerun reuses
  them: an interrupted study resumes);
* ``s5_*.png`` / ``.pdf`` — the figures; ``s5_runs.csv`` — one row per run;
  ``s5_rig_along_training.json`` — the histories drawn; ``s5_summary.json`` — settings,
  stability edges, claims, notes, executor, run counts and versions;
* ``report.md``, ``report.html`` (figures inline), ``report.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..io import OutputFolder, csv_text, dumps
from ..plots.output import figure_files
from ..reporting import Claim, Section, claims_text, render_html, render_markdown
from .backend import deep_versions
from .plots import (
    plot_accuracy_vs_lambda,
    plot_egr,
    plot_rig_along_training,
    plot_rig_vs_lambda,
    plot_robustness,
)
from .study import SIGMA, StudyRuns, StudySettings, claims, run_study, table

__all__ = ["CAPTIONS", "Section5", "StudyReport", "study"]

#: Figure name → caption (each names what of the paper it mirrors).
CAPTIONS = {
    "s5_rig_vs_lambda": "R_IG = ‖∇E‖²/m at the best iterate (max test accuracy at 100 % train "
    "accuracy) against λ = hm/4, log–log, coloured by network size: mirrors the paper's "
    "Figure 2 (left), on digits instead of MNIST.",
    "s5_test_accuracy_vs_lambda": "Best test accuracy against λ: mirrors Figure 2 (right). On "
    "digits test accuracy is near saturation, so differences are small.",
    "s5_robustness": "Test accuracy of the best iterate under Gaussian parameter noise "
    "θ + σε (mean over draws) against λ, one panel per σ: mirrors Section 5's robustness test "
    "(Prediction 2.4).",
    "s5_egr": "Explicit gradient regularization: GD on E + μR_IG at a small learning rate, R_IG "
    "and noisy test accuracy at the best iterate against μ (in units of λ_edge, the implicit "
    "rate at the stability edge): mirrors Section 5's explicit-regularization experiment.",
    "s5_rig_along_training": "R_IG/E against the loss along training at each learning rate "
    "(smallest width, first seed): Prediction 2.1, at equal loss.",
}
FIGURES = tuple(CAPTIONS)
STALE5 = (
    *(f"{n}.{ext}" for n in FIGURES for ext in ("png", "pdf")),
    "s5_runs.csv",
    "s5_rig_along_training.json",
    "s5_summary.json",
)
STALE = (*STALE5, "report.md", "report.html", "report.json")


@dataclass(frozen=True)
class StudyReport:
    """What :func:`study` wrote and found.

    Attributes
    ----------
    out : pathlib.Path
    section : bea.reporting.Section
        Claims, notes and figures.
    summary : dict
        The content of ``s5_summary.json``.
    """

    out: Path
    section: Section
    summary: dict

    @property
    def claims(self) -> tuple[Claim, ...]:
        """The checked claims."""
        return self.section.claims

    @property
    def passed(self) -> bool:
        """Whether every claim passed."""
        return all(c.passed for c in self.claims)

    def __str__(self) -> str:
        return claims_text(self.claims, self.out / "report.md")


def _intro(s: StudySettings, runs: StudyRuns) -> str:
    return (
        f"Stand-in for the paper's MNIST/CIFAR-10 experiments (which need downloads): "
        f"{runs.data_name}, MLPs [d, w, w, k] with w ∈ {{{', '.join(map(str, s.widths))}}}, tanh, "
        f"full-batch GD in {s.dtype} for equal physical time T = h·N = {s.time:g}, learning rates "
        f"{', '.join(f'{f:g}' for f in s.fractions)} × each width's stability edge 2/λ_max "
        f"(measured at the start), {len(s.seeds)} seed(s); best iterate = max test accuracy among "
        f"iterates at 100 % training accuracy; parameter noise σ ∈ "
        f"{{{', '.join(f'{x:g}' for x in s.noise)}}} with {s.draws} draws; EGR arm at "
        f"{min(s.fractions):g} × edge with μ ∈ {{{', '.join(f'{u:g}' for u in s.egr_mu)}}} × "
        f"λ_edge on widths {', '.join(map(str, s.egr_widths)) or 'none'}. "
        f"{len(runs.runs)} runs ({runs.computed} computed now, {runs.reused} reused) on the "
        f"'{runs.executor}' executor in {runs.wall_time_s:.0f} s. The architectures and data "
        "differ from the paper's, so the numbers are not the paper's; the claims are its "
        "qualitative predictions."
    )


def section5(
    folder: OutputFolder,
    settings: StudySettings,
    *,
    executor="local",
    workers: int | None = None,
    progress: bool = True,
) -> tuple[Section, dict, dict]:
    """Run the Section-5 study into an open output folder; figures and data written.

    Returns
    -------
    (Section, dict, dict)
        The report section, the summary (``s5_summary.json``) and figure name → PNG bytes.
    """

    runs = run_study(
        settings, folder.subfolder("runs"), executor=executor, workers=workers, progress=progress
    )
    rows = table(runs)
    found, notes = claims(runs)
    name = runs.data_name
    smallest = min(settings.widths)
    along = [
        (
            f"h = {r['config']['lr']:.3g} ({r['config']['lr'] / runs.edges[smallest]['edge']:g} × edge)",
            r["history"],
        )
        for r in runs.runs
        if r["config"]["widths"][1] == smallest
        and r["config"]["seed"] == settings.seeds[0]
        and r["config"]["egr"] == 0
    ]
    figs = {
        "s5_rig_vs_lambda": plot_rig_vs_lambda(rows, name),
        "s5_test_accuracy_vs_lambda": plot_accuracy_vs_lambda(rows, name),
        "s5_robustness": plot_robustness(rows, settings.noise, name),
        "s5_egr": plot_egr(rows, SIGMA, name) if settings.egr_widths else None,
        "s5_rig_along_training": plot_rig_along_training(along, name, smallest),
    }
    images = {}
    for key, fig in figs.items():
        if fig is None:
            continue
        files = figure_files(fig)
        for fmt, data in files.items():
            folder.write(f"{key}.{fmt}", data)
        images[key] = files["png"]
    keys = list(dict.fromkeys(k for r in rows for k in r))
    folder.write("s5_runs.csv", csv_text(keys, [[r.get(k) for k in keys] for r in rows]))
    folder.write("s5_rig_along_training.json", dumps(dict(along)))
    summary = {
        "settings": settings.to_dict(),
        "data": name,
        "edges": {str(w): e for w, e in runs.edges.items()},
        "claims": [c.to_dict() for c in found],
        "notes": notes,
        "executor": runs.executor,
        "runs": len(runs.runs),
        "computed": runs.computed,
        "reused": runs.reused,
        "wall_time_s": runs.wall_time_s,
        "precision": settings.dtype,
        "versions": deep_versions(),
    }
    folder.write("s5_summary.json", dumps(summary))
    section = Section(
        "§5",
        f"Section 5: MLPs on {name} (a stand-in for MNIST)",
        _intro(settings, runs),
        tuple(found),
        tuple(notes),
        tuple((k, CAPTIONS[k], images[k]) for k in FIGURES if k in images),
        deep_versions(),
    )
    return section, summary, images


def _settings(settings, quick, data) -> StudySettings:
    if settings is None:
        settings = StudySettings.quick() if quick else StudySettings()
    if data is not None:
        from dataclasses import replace

        settings = replace(settings, data=os.fspath(data))
    return settings


def study(
    out: str | os.PathLike = "bea-deep-study",
    settings: StudySettings | None = None,
    *,
    quick: bool = False,
    executor="local",
    workers: int | None = None,
    data=None,
    progress: bool = True,
    force: bool = False,
) -> StudyReport:
    """The Section-5 study: runs (resumable), figures, data and a report of its claims.

    Parameters
    ----------
    out : path
        Output folder (see :class:`bea.io.OutputFolder`); runs go to ``out/runs``.
    settings : StudySettings, optional
        Default: the full grid, or :meth:`StudySettings.quick` with ``quick=True``.
    quick : bool
    executor : str or distributed.Client
        ``"local"`` (default: a Dask LocalCluster), ``"serial"``, ``"process"`` or a scheduler
        address ``tcp://host:8786`` (see :mod:`bea.deep.sweep`).
    workers : int, optional
    data : path, optional
        An ``.npz`` with ``x_train, y_train, x_test, y_test`` instead of digits.
    progress : bool
    force : bool
        Write beside files bea did not write (never touching them).

    Returns
    -------
    StudyReport

    Examples
    --------
    >>> import tempfile, matplotlib; matplotlib.use("Agg")
    >>> s = StudySettings.quick(widths=(8,), fractions=(0.5, 1.0), egr_widths=(), time=30.0)
    >>> r = study(tempfile.mkdtemp(), s, executor="serial", progress=False)
    >>> (r.out / "report.html").exists(), (r.out / "s5_rig_vs_lambda.png").exists()
    (True, True)
    """
    settings = _settings(settings, quick, data)
    with OutputFolder(out, force=force, stale=STALE) as folder:
        sec, summary, _ = section5(
            folder, settings, executor=executor, workers=workers, progress=progress
        )
        v = deep_versions()
        header = f"bea {v['bea']}, JAX {v['jax']}; command `bea deep study{' --quick' * quick}`."
        title = "bea deep study: implicit gradient regularization in neural networks"
        folder.write("report.md", render_markdown(title, header, [sec]))
        folder.write("report.html", render_html(title, header, [sec]))
        payload = {
            "versions": v,
            "options": {"quick": quick, "executor": str(executor), "out": str(folder.path)},
            "passed": all(c.passed for c in sec.claims),
            "claims": [{**c.to_dict(), "section": sec.key} for c in sec.claims],
            "notes": list(sec.notes),
        }
        folder.write("report.json", dumps(payload))
        return StudyReport(folder.path, sec, summary)


class Section5:
    """Section 5 as a part of ``bea reproduce``: pass it to :func:`bea.study.reproduce`'s ``more``.

    Parameters
    ----------
    settings : StudySettings, optional
        Default: the full grid, or the quick one when the report is quick.
    executor, workers, data
        As :func:`study`.

    Examples
    --------
    >>> part = Section5(executor="serial")
    >>> "s5_rig_vs_lambda.png" in part.stale
    True
    """

    stale = STALE5

    def __init__(self, settings=None, *, executor="local", workers=None, data=None):
        self.settings, self.executor, self.workers, self.data = settings, executor, workers, data

    def run(self, folder: OutputFolder, *, quick: bool = False, progress: bool = True) -> Section:
        """Run the study into ``folder``; the report section."""
        settings = _settings(self.settings, quick, self.data)
        sec, _, _ = section5(
            folder, settings, executor=self.executor, workers=self.workers, progress=progress
        )
        return sec
