"""The paper's two-parameter study (Barrett & Dherin 2021, Section 4): experiments, figures and
the report, in layers that import downward only.

* :mod:`bea.study.experiments` — pure functions of the model returning typed results, and
  :func:`run`, which computes all of them once into :class:`StudyResults`;
* :mod:`bea.study.plots` — one function per figure, from those results;
* :mod:`bea.study.figures` — :func:`figures`: run, draw, write every figure with its data;
* :mod:`bea.study.report` — :func:`reproduce`: claims checked on the same results, the report.
"""

from .experiments import (
    RIG_FRACTIONS,
    Curl,
    Paths,
    Regularized,
    RigPaths,
    Settings,
    StudyResults,
    Sweep,
    curl_order2,
    explicit_regularization,
    flow_end_points,
    gd_end_points,
    learning_rate_sweep,
    rig_along_path,
    run,
    trajectories,
)
from .figures import FIGURES, FigureSet, draw, figures
from .report import Claim, Report, reproduce

__all__ = [
    "FIGURES",
    "RIG_FRACTIONS",
    "Claim",
    "Curl",
    "FigureSet",
    "Paths",
    "Regularized",
    "Report",
    "RigPaths",
    "Settings",
    "StudyResults",
    "Sweep",
    "curl_order2",
    "draw",
    "explicit_regularization",
    "figures",
    "flow_end_points",
    "gd_end_points",
    "learning_rate_sweep",
    "reproduce",
    "rig_along_path",
    "run",
    "trajectories",
]
