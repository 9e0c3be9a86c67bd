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
from .flow import ModifiedFlow
from .igr import IGR, igr
from .parsing import parse_loss
from .series import modified_equation
from .verify import Verification, verify, verify_flow

__all__ = [
    "IGR",
    "BeaError",
    "InputError",
    "ModifiedFlow",
    "NotAGradientError",
    "Verification",
    "__version__",
    "igr",
    "modified_equation",
    "modified_flow",
    "modified_loss",
    "parse_loss",
    "verify",
    "verify_flow",
]
