"""Deprecated module path (bea < 0.2): :func:`modified_equation` now lives in :mod:`bea.derive`
(also ``bea.modified_equation``) and :func:`step_coefficients` in :mod:`bea.taylor`."""

from __future__ import annotations

import warnings

from .derive import modified_equation
from .taylor import step_coefficients

__all__ = ["modified_equation", "step_coefficients"]

warnings.warn(
    "bea.series is deprecated: use bea.modified_equation and bea.taylor.step_coefficients",
    DeprecationWarning,
    stacklevel=2,
)
