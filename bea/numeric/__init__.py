"""Numeric back-end: compiled NumPy fields, batched iteration, reference flows and error fits."""

from .compile import compile_expressions, compile_flow, compile_loss, compile_step
from .fit import SlopeFit, fit_slope
from .iterate import IterationResult, iterate, iterate_memory, newton_step
from .reference import integrate_flows
from .stepper import Runs, compile_stepper

__all__ = [
    "IterationResult",
    "Runs",
    "SlopeFit",
    "compile_expressions",
    "compile_flow",
    "compile_loss",
    "compile_step",
    "compile_stepper",
    "fit_slope",
    "integrate_flows",
    "iterate",
    "iterate_memory",
    "newton_step",
]
