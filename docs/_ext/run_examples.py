"""Run every example of the documentation while Sphinx builds it.

Each ``.rst`` page's ``>>>`` examples and each docstring that autodoc includes are executed with
the standard doctest runner (ELLIPSIS, NORMALIZE_WHITESPACE); a failing example is a Sphinx
warning, so ``sphinx-build -W`` fails and the docs cannot drift from the code. The number of
examples run is reported at the end of the build.
"""

from __future__ import annotations

import doctest
import io
import sys

from sphinx.util import logging

logger = logging.getLogger(__name__)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
_counts = {"examples": 0, "sources": 0}


def _run(text: str, name: str, globs: dict, location) -> None:
    test = doctest.DocTestParser().get_doctest(text, globs, name, name, 0)
    if not test.examples:
        return
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=out.write)
    _counts["examples"] += len(test.examples)
    _counts["sources"] += 1
    if runner.failures:
        first = out.getvalue().strip().splitlines()
        logger.warning(
            "%d example(s) failed in %s:\n%s",
            runner.failures,
            name,
            "\n".join(first[:40]),
            location=location,
        )


def on_source_read(app, docname, source):
    _run(source[0], docname, {"__name__": "__main__"}, (docname, None))


def on_docstring(app, what, name, obj, options, lines):
    if what == "module":
        return  # the module docstring's examples run with the module's own members below
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    globs = dict(vars(module)) if module is not None else {}
    _run("\n".join(lines), name, globs, None)


def on_finished(app, exception):
    if exception is None:
        logger.info(
            "run_examples: %d examples in %d pages and docstrings ran",
            _counts["examples"],
            _counts["sources"],
        )


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("source-read", on_source_read)
    app.connect("autodoc-process-docstring", on_docstring)
    app.connect("build-finished", on_finished)
    return {"parallel_read_safe": False, "version": "1"}
