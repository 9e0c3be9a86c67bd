"""``bea figures``: every figure of the two-parameter model study, with its data, in one folder.

File names are fixed so that documents can link them: for each figure NAME, ``NAME.png``,
``NAME.pdf`` and its data ``NAME.csv`` or ``NAME.json``; plus ``summary.json`` with the headline
numbers. Every file is written atomically and reruns give identical bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io import OutputFolder, csv_text, dumps, versions
from ..models import TwoParameter
from ..plots.output import figure_files
from .experiments import STAGES, Settings, StudyResults, check_size, run

__all__ = ["FIGURES", "FigureSet", "Progress", "draw", "figures"]

#: Files that summarise one run: removed when a new run starts, written last.
STALE = ("summary.json", "report.md", "report.html", "report.json")

#: The figures, in order (names are stable: documents link them).
FIGURES = (
    "trajectories",
    "error_vs_h",
    "flatness_vs_h",
    "rig_along_path",
    "explicit_regularization",
    "curl_order2",
)


@dataclass(frozen=True)
class FigureSet:
    """What :func:`figures` wrote.

    Attributes
    ----------
    out : pathlib.Path
        The folder.
    files : tuple of str
        File names written, relative to ``out``.
    summary : dict
        The content of ``summary.json``.
    images : dict
        Figure name → its PNG bytes (for reports that embed them).

    Examples
    --------
    >>> from pathlib import Path
    >>> print(FigureSet(Path("out"), ("summary.json",), {"bea_version": "0"}).to_json(), end="")
    {
     "bea_version": "0"
    }
    """

    out: Path
    files: tuple[str, ...]
    summary: dict
    images: dict = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> str:
        """The summary as JSON (what ``summary.json`` holds)."""
        return dumps(self.summary)


def _point(model, theta) -> dict:
    theta = np.asarray(theta, dtype=float)
    return {
        "end": theta,
        "sharpness": float(model.sharpness(theta)),
        "imbalance": float(model.imbalance(theta)),
    }


def _sweep_rows(model, name, sw):
    for i, h in enumerate(sw.steps):
        mf = [float(model.sharpness(sw.flow_end[k, i])) for k in range(len(sw.orders))]
        yield [
            name,
            float(h),
            str(sw.status[i]),
            *map(float, sw.gd_end[i]),
            float(model.sharpness(sw.gd_end[i])),
            float(model.imbalance(sw.gd_end[i])),
            *mf,
        ]


def _summary(model, sweeps, regs, verification, curl_expr) -> dict:
    starts = {}
    for name, sw in sweeps.items():
        reg = regs[name]
        starts[name] = {
            "start": list(sw.start),
            "stability_limit": sw.stability_limit,
            "gradient_flow": _point(model, sw.gradient_flow_end),
            "sweep": [
                {
                    "h": float(h),
                    "status": str(sw.status[i]),
                    "stable_at_start": bool(h <= sw.stability_limit),
                    "gd": _point(model, sw.gd_end[i]),
                    "modified_flow": {
                        str(p): _point(model, sw.flow_end[k, i]) for k, p in enumerate(sw.orders)
                    },
                }
                for i, h in enumerate(sw.steps)
            ],
            "explicit_regularization": [
                {"mu": float(mu), **_point(model, reg.end[i])} for i, mu in enumerate(reg.mus)
            ],
            "implicit_rate_max": reg.implicit_max,
        }
    return {
        "versions": versions(),
        "model": {"loss": str(model.loss), "x": float(model.x), "y": float(model.y)},
        "flat_minimum": _point(model, model.flat_minimum),
        "starts": starts,
        "verification": {
            "start": list(model.start),
            "local_slopes": verification.local_slopes,
            "global_slopes": verification.global_slopes,
        },
        "curl_order2": curl_expr,
    }


def draw(
    results: StudyResults, out: str | os.PathLike | OutputFolder, *, force: bool = False
) -> FigureSet:
    """Draw every figure of a study's results and write their data and ``summary.json``.

    Parameters
    ----------
    results : StudyResults
        From :func:`bea.study.run`.
    out : path or OutputFolder
        Output folder (created if missing; see :class:`bea.io.OutputFolder` for what bea
        promises about it).
    force : bool
        Write beside files bea did not write (never touching them).

    Returns
    -------
    FigureSet

    Examples
    --------
    >>> import tempfile, matplotlib; matplotlib.use("Agg")
    >>> from bea.study import Settings, run
    >>> fs = draw(run(settings=Settings(quick=True)), tempfile.mkdtemp())
    >>> sorted(f for f in fs.files if f.endswith(".png"))[:2]
    ['curl_order2.png', 'error_vs_h.png']
    """

    from ..plots.convergence import plot_verification
    from . import plots

    if not isinstance(out, OutputFolder):
        with OutputFolder(out, force=force, stale=STALE) as folder:
            return draw(results, folder)
    folder = out
    model, sweeps, regs = results.model, results.sweeps, results.regularized
    written: list[str] = []
    images: dict[str, bytes] = {}

    def write(name: str, data: str | bytes) -> None:
        folder.write(name, data)
        written.append(name)

    def save(name: str, fig) -> None:
        files = figure_files(fig)
        for fmt, data in files.items():
            write(f"{name}.{fmt}", data)
        images[name] = files["png"]

    save("trajectories", plots.plot_trajectories(model, list(results.paths.values())))
    write("trajectories.json", dumps({k: p.to_dict() for k, p in results.paths.items()}))
    save("error_vs_h", plot_verification(results.verification))
    write("error_vs_h.json", results.verification.to_json())
    sw_list = list(sweeps.values())
    save("flatness_vs_h", plots.plot_flatness(model, sw_list))
    orders = sw_list[0].orders
    header = [
        "start",
        "h",
        "status",
        "gd_a",
        "gd_b",
        "gd_sharpness",
        "gd_imbalance",
        *(f"modified_flow_{p}_sharpness" for p in orders),
    ]
    rows = [r for name, sw in sweeps.items() for r in _sweep_rows(model, name, sw)]
    write("flatness_vs_h.csv", csv_text(header, rows))
    save("rig_along_path", plots.plot_rig(model, results.rig))
    write("rig_along_path.json", dumps(results.rig.to_dict()))
    save("explicit_regularization", plots.plot_regularization(model, sw_list, list(regs.values())))
    rows = [
        [
            name,
            float(mu),
            *map(float, reg.end[i]),
            float(model.sharpness(reg.end[i])),
            float(model.imbalance(reg.end[i])),
        ]
        for name, reg in regs.items()
        for i, mu in enumerate(reg.mus)
    ]
    write(
        "explicit_regularization.csv",
        csv_text(["start", "mu", "a", "b", "sharpness", "imbalance"], rows),
    )
    save("curl_order2", plots.plot_curl(model, results.curl))
    write("curl_order2.json", dumps(results.curl.to_dict()))
    summary = _summary(model, sweeps, regs, results.verification, results.curl.expression)
    summary["files"] = sorted([*written, "summary.json"])
    write("summary.json", dumps(summary))
    return FigureSet(folder.path, tuple(sorted(written)), summary, images)


def figures(
    out: str | os.PathLike = "bea-figures",
    *,
    model: TwoParameter | None = None,
    quick: bool = False,
    progress: bool = False,
    stage: Callable[[str], None] | None = None,
    force: bool = False,
) -> FigureSet:
    """Run the two-parameter model study and write every figure, its data and ``summary.json``.

    Parameters
    ----------
    out : path
        Output folder (created if missing; see :class:`bea.io.OutputFolder`).
    model : TwoParameter, optional
        Default ``TwoParameter()`` (x = 1, y = 0.6).
    quick : bool
        Smaller sweeps and grids (a smoke run in seconds; same code paths and files).
    progress : bool
        Show a progress bar on stderr.
    stage : callable, optional
        Called with the name of each stage as it starts (for callers with their own progress).
    force : bool
        Write into a folder that also holds files bea did not write (never touching them).

    Returns
    -------
    FigureSet

    Examples
    --------
    >>> import tempfile, matplotlib; matplotlib.use("Agg")
    >>> fs = figures(tempfile.mkdtemp(), quick=True)
    >>> fs.summary["starts"]["near"]["start"]
    [2.8, 3.5]
    """
    model = TwoParameter() if model is None else model
    check_size(model, Settings(quick=quick))
    with OutputFolder(out, force=force, stale=STALE) as folder:
        with Progress(progress, stage, [*STAGES, "figures"]) as steps:
            results = run(model, Settings(quick=quick), stage=steps)
            steps("figures")
            return draw(results, folder)


class Progress:
    """A progress bar over named stages (on stderr), also reporting each stage to a callback.

    A context manager: call it with each stage's name as the stage starts; leaving the block
    ends the last stage (or, on an error, removes the bar so that only the error is shown).

    Examples
    --------
    >>> seen = []
    >>> with Progress(False, seen.append, ["a", "b"]) as p:
    ...     p("a"); p("b")
    >>> seen
    ['a', 'b']
    """

    def __init__(self, enabled: bool, stage: Callable[[str], None] | None, names):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=len(names), desc="bea", disable=not enabled, unit="stage")
        self._stage = stage
        self._started = False

    def __call__(self, name: str) -> None:
        if self._started:
            self._bar.update()
        self._started = True
        self._bar.set_postfix_str(name)
        if self._stage is not None:
            self._stage(name)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self._bar.update()
        else:
            self._bar.leave = False
        self._bar.close()
