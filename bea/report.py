"""Deprecated module path (bea < 0.2): the report now lives in :mod:`bea.study.report`."""

from __future__ import annotations

import warnings

from .study.report import Claim, Report, reproduce

__all__ = ["Claim", "Report", "reproduce"]

warnings.warn(
    "bea.report is deprecated: use bea.study.report (or bea.reproduce)",
    DeprecationWarning,
    stacklevel=2,
)
