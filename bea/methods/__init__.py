"""Update rules as one-step maps: each method turns (loss, params, h) into a sympy step map.

A method is a callable ``method(loss, params, h) -> StepMap``. The engine (:mod:`bea.series`) never
imports this package; adding an optimizer means adding a module here and an entry in
:data:`METHODS`, and touches no engine code.
"""

from __future__ import annotations

from .base import StepMap
from .gd import gradient_descent

__all__ = ["METHODS", "StepMap", "gradient_descent"]

#: Registry of methods by the name used in ``method=`` and on the command line.
METHODS = {"gd": gradient_descent}
