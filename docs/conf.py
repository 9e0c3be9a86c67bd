"""Sphinx configuration of bea's documentation (build: sphinx-build -W -b html docs docs/_build)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import bea  # noqa: E402

project = "bea"
author = "the bea developers"
copyright = "2026, the bea developers"  # noqa: A001
release = version = bea.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    # MathJax shipped with the site (copied into _static/mathjax): pages typeset offline, no CDN
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "run_examples",
    "cli_help",
]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False}
exclude_patterns = ["_build"]
html_theme = "furo" if __import__("importlib.util").util.find_spec("furo") else "alabaster"
html_static_path = ["_static"]
html_title = f"bea {release}"
nitpicky = False
