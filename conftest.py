"""Test-wide settings: a headless matplotlib back-end for tests and doctests alike."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import importlib.util  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

#: Without the optional extra bea[deep] (JAX, scikit-learn), its modules, tests and page are not
#: collected; the core suite runs as is.
collect_ignore_glob = []
if importlib.util.find_spec("jax") is None or importlib.util.find_spec("sklearn") is None:
    collect_ignore_glob = [
        "bea/deep/*",
        "docs/deep.rst",
        "docs/section5.rst",
        "docs/cluster.rst",
        "docs/export.rst",
        "tests/deep/*",
    ]


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test or doctest drew (figures would pile up across doctests)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
