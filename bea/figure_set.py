"""``bea figures``: every figure of the two-parameter model study, with its data, in one folder.

File names are fixed so that documents can link them: for each figure NAME, ``NAME.png``,
``NAME.pdf`` and its data ``NAME.csv`` or ``NAME.json``; plus ``summary.json`` with the headline
numbers. Every file is written atomically and reruns give identical bytes.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import study
from ._version import __version__
from .errors import InputError
from .models import TwoParameter
from .plots.output import atomic_write, save_figure
from .study import Settings

__all__ = ["FIGURES", "FigureSet", "figures", "prepare_folder"]

#: The figures, in order (names are stable: documents link them).
FIGURES = (
    "trajectories",
    "error_vs_h",
    "flatness_vs_h",
    "rig_along_path",
    "explicit_regularization",
    "curl_order2",
)

#: Learning rates of the R_IG/E figure, as fractions of the stability limit at the paper's start.
RIG_FRACTIONS = (0.05, 0.3, 0.6, 0.9)


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

    def to_json(self) -> str:
        """The summary as JSON (what ``summary.json`` holds)."""
        return _dumps(self.summary)


def _dumps(data) -> str:
    return json.dumps(study._to_list(data), indent=1, sort_keys=True, allow_nan=False) + "\n"


def prepare_folder(out: str | os.PathLike) -> Path:
    """Create the output folder (and its parents) or check it; a clear error if it cannot be used.

    Examples
    --------
    >>> import tempfile, os
    >>> prepare_folder(os.path.join(tempfile.mkdtemp(), "new", "figs")).is_dir()
    True
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the output folder {out}: {err.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"the output folder {out} is not writable")
    return out


def _nice(h: float) -> float:
    """h rounded to one significant digit (readable legends).

    Examples
    --------
    >>> _nice(0.0411), _nice(1.78e-05)
    (0.04, 2e-05)
    """
    e = np.floor(np.log10(h))
    return float(np.round(h / 10**e) * 10**e)


def _csv(header, rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if isinstance(v, float) and not np.isfinite(v) else v for v in row])
    return buf.getvalue()


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
        "bea_version": __version__,
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


def figures(
    out: str | os.PathLike = "bea-figures",
    *,
    model: TwoParameter | None = None,
    quick: bool = False,
    progress: bool = False,
    stage: Callable[[str], None] | None = None,
) -> FigureSet:
    """Run the two-parameter model study and write every figure, its data and ``summary.json``.

    Parameters
    ----------
    out : path
        Output folder (created if missing).
    model : TwoParameter, optional
        Default ``TwoParameter()`` (x = 1, y = 0.6).
    quick : bool
        Smaller sweeps and grids (a smoke run in seconds; same code paths and files).
    progress : bool
        Show a progress bar on stderr.
    stage : callable, optional
        Called with the name of each stage as it starts (for callers with their own progress).

    Returns
    -------
    FigureSet

    Examples
    --------
    >>> import tempfile, matplotlib; matplotlib.use("Agg")
    >>> fs = figures(tempfile.mkdtemp(), quick=True)
    >>> sorted(f for f in fs.files if f.endswith(".png"))[:2]
    ['curl_order2.png', 'error_vs_h.png']
    >>> fs.summary["starts"]["near"]["start"]
    [2.8, 3.5]
    """
    from tqdm.auto import tqdm

    from .plots import model as plots
    from .plots.errors import plot_verification
    from .verify import verify

    out = prepare_folder(out)
    model = TwoParameter() if model is None else model
    settings = Settings(quick=quick)
    starts = {"near": (model.start, False), "far": (model.far_start, True)}
    written: list[str] = []

    def write(name: str, data: str | bytes) -> None:
        atomic_write(out / name, data)
        written.append(name)

    def save(name: str, fig) -> None:
        import matplotlib.pyplot as plt

        for suffix in (".png", ".pdf"):
            save_figure(fig, out / f"{name}{suffix}")
            written.append(name + suffix)
        plt.close(fig)

    steps = [
        "trajectories",
        "verification",
        "learning-rate sweeps",
        "explicit regularization",
        "R_IG along paths",
        "curl of order 2",
        "figures",
    ]
    bar = tqdm(total=len(steps), desc="bea figures", disable=not progress, unit="stage")

    def begin(name: str) -> None:
        bar.set_postfix_str(name)
        if stage is not None:
            stage(name)

    begin(steps[0])
    paths = {}
    for name, (start, far) in starts.items():
        limit = float(model.stability_limit(np.array(start)))
        hs = tuple(_nice(f * limit) for f in settings.path_fractions)
        paths[name] = study.trajectories(model, start, hs, settings, far=far)
    bar.update()
    begin(steps[1])
    verification = verify(model.loss, model.params, model.start, orders=(0, 1, 2, 3))
    bar.update()
    begin(steps[2])
    sweeps = {
        name: study.learning_rate_sweep(model, start, settings, far=far)
        for name, (start, far) in starts.items()
    }
    bar.update()
    begin(steps[3])
    regs = {
        name: study.explicit_regularization(model, start, settings, far=far)
        for name, (start, far) in starts.items()
    }
    bar.update()
    begin(steps[4])
    limit = float(model.stability_limit(np.array(model.start)))
    rig = study.rig_along_path(
        model, model.start, [_nice(f * limit) for f in RIG_FRACTIONS], settings
    )
    bar.update()
    begin(steps[5])
    curl = study.curl_order2(model, settings)
    bar.update()

    begin(steps[6])
    save("trajectories", plots.plot_trajectories(model, list(paths.values())))
    write("trajectories.json", _dumps({k: p.to_dict() for k, p in paths.items()}))
    save("error_vs_h", plot_verification(verification))
    write("error_vs_h.json", verification.to_json() + "\n")
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
    write("flatness_vs_h.csv", _csv(header, rows))
    save("rig_along_path", plots.plot_rig(model, rig))
    write("rig_along_path.json", _dumps(rig.to_dict()))
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
        _csv(["start", "mu", "a", "b", "sharpness", "imbalance"], rows),
    )
    save("curl_order2", plots.plot_curl(model, curl))
    write("curl_order2.json", _dumps(curl.to_dict()))
    summary = _summary(model, sweeps, regs, verification, curl.expression)
    summary["files"] = sorted([*written, "summary.json"])
    write("summary.json", _dumps(summary))
    bar.update()
    bar.close()
    return FigureSet(out, tuple(sorted(written)), summary)
