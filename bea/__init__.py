"""bea: backward error analysis of optimizers and numerical methods.

Derive the modified flow that a discrete method follows (exactly, to any order), the modified loss
where one exists, and where it stops existing.

>>> import bea
>>> bea.modified_loss("(y - a*b*x)**2/2", ["a", "b"])
h*x**2*(a**2 + b**2)*(a*b*x - y)**2/4 + (-a*b*x + y)**2/2

The names below load on first use (PEP 562), so ``import bea`` costs little and never imports
the numeric stack, matplotlib or the optional extras before they are needed.
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import BeaError, InputError, NotAGradientError, NotHamiltonianError

#: Public name → the module that defines it (imported on first access).
_LAZY = {
    "IGR": "bea.regularization",
    "igr": "bea.regularization",
    "FigureSet": "bea.study.figures",
    "figures": "bea.study.figures",
    "ModifiedFlow": "bea.flow",
    "Report": "bea.study.report",
    "reproduce": "bea.study.report",
    "Verification": "bea.verification",
    "verify": "bea.verification",
    "verify_flow": "bea.verification",
    "verify_local": "bea.precise",
    "LocalVerification": "bea.precise",
    "modified_equation": "bea.routes",
    "hamiltonian_flow": "bea.hamiltonian",
    "Splitting": "bea.splitting",
    "modified_flow": "bea.derive",
    "modified_loss": "bea.derive",
    "load_json": "bea.derive",
    "parse_loss": "bea.parsing",
    "stochastic_modified_equation": "bea.sme",
    "StochasticModifiedEquation": "bea.sme",
    "verify_weak": "bea.sme",
    "WeakVerification": "bea.sme",
    "bias_correction_transient": "bea.transient",
    "Transient": "bea.transient",
}

__all__ = [
    "IGR",
    "BeaError",
    "FigureSet",
    "InputError",
    "LocalVerification",
    "ModifiedFlow",
    "NotAGradientError",
    "NotHamiltonianError",
    "Report",
    "Splitting",
    "StochasticModifiedEquation",
    "Transient",
    "Verification",
    "WeakVerification",
    "__version__",
    "bias_correction_transient",
    "figures",
    "hamiltonian_flow",
    "igr",
    "load_json",
    "modified_equation",
    "modified_flow",
    "modified_loss",
    "parse_loss",
    "reproduce",
    "stochastic_modified_equation",
    "verify",
    "verify_flow",
    "verify_local",
    "verify_weak",
]


#: Sub-packages and modules reachable as attributes (``bea.optim.HeavyBall``), loaded on use.
_SUBMODULES = {
    "bseries",
    "deep",
    "derive",
    "diffring",
    "flow",
    "hamiltonian",
    "io",
    "models",
    "numeric",
    "optim",
    "parsing",
    "plots",
    "precise",
    "relation",
    "routes",
    "sme",
    "splitting",
    "step",
    "study",
    "taylor",
    "transient",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"bea.{name}")
    else:
        raise AttributeError(f"module 'bea' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
