"""bea: backward error analysis of optimizers and numerical methods.

Derive the modified flow that a discrete method follows (exactly, to any order), the modified loss
where one exists, and where it stops existing.

>>> import bea
>>> bea.modified_loss("(y - a*b*x)**2/2", ["a", "b"])
h*x**2*(a**2 + b**2)*(a*b*x - y)**2/4 + (-a*b*x + y)**2/2
"""

from ._version import __version__
from .derive import modified_flow, modified_loss
from .errors import BeaError, InputError, NotAGradientError
from .figure_set import FigureSet, figures
from .flow import ModifiedFlow
from .igr import IGR, igr
from .parsing import parse_loss
from .report import Report, reproduce
from .series import modified_equation
from .verify import Verification, verify, verify_flow

__all__ = [
    "IGR",
    "BeaError",
    "FigureSet",
    "InputError",
    "ModifiedFlow",
    "NotAGradientError",
    "Report",
    "Verification",
    "__version__",
    "figures",
    "igr",
    "modified_equation",
    "modified_flow",
    "modified_loss",
    "parse_loss",
    "reproduce",
    "verify",
    "verify_flow",
]
