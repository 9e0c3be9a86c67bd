"""Test-wide settings: a headless matplotlib back-end for tests and doctests alike."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
