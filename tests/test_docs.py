"""Documentation gates: every public name documented with an example; a broken example in the
docs fails the Sphinx build."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import bea

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", [n for n in bea.__all__ if n != "__version__"])
def test_every_public_name_has_a_docstring_with_an_example(name):
    doc = inspect.getdoc(getattr(bea, name)) or ""
    assert doc.strip(), f"bea.{name} has no docstring"
    assert ">>> " in doc, f"bea.{name}'s docstring has no example"


pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


def _build(tmp_path, page: str) -> int:
    sphinx_build = pytest.importorskip("sphinx.cmd.build")
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\nextensions = ['run_examples']\n"
    )
    (src / "index.rst").write_text(page)
    return sphinx_build.build_main(["-W", "-q", "-b", "html", str(src), str(tmp_path / "out")])


def test_a_broken_docs_example_fails_the_build(tmp_path, capsys):
    assert _build(tmp_path, "Title\n=====\n\n>>> 1 + 1\n3\n") != 0
    assert "example(s) failed" in capsys.readouterr().err


def test_a_correct_docs_example_builds(tmp_path):
    assert _build(tmp_path, "Title\n=====\n\n>>> 1 + 1\n2\n") == 0


def _check_docs():
    """``.ci/check_docs.py``, the offline check that CI runs on the whole built site."""
    import importlib.util

    path = DOCS.parent / ".ci" / "check_docs.py"
    spec = importlib.util.spec_from_file_location("check_docs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_typeset_maths_offline(tmp_path):
    """The site's own configuration (docs/conf.py) typesets maths with a MathJax shipped in the
    build: a page with maths loads no script or stylesheet from another host, and the script it
    loads is in the built site."""
    sphinx_build = pytest.importorskip("sphinx.cmd.build")
    pytest.importorskip("furo")
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        "import runpy\n"
        f"globals().update(runpy.run_path({str(DOCS / 'conf.py')!r}))\n"
        "html_static_path = []\n"
    )
    (src / "index.rst").write_text(
        "Title\n=====\n\nInline :math:`\\tilde E = E + \\frac{h}{4}\\|\\nabla E\\|^2`.\n\n"
        ".. math::\n\n   R_{IG} = \\frac1m \\sum_i (\\partial_{\\theta_i} E)^2\n"
    )
    out = tmp_path / "out"
    assert sphinx_build.build_main(["-W", "-q", "-b", "html", str(src), str(out)]) == 0
    assert "\\tilde E" in (out / "index.html").read_text()
    found, _, with_maths = _check_docs().problems(out)
    assert found == [] and with_maths >= 1


def test_remote_assets_are_recognised():
    remote = _check_docs().REMOTE.findall
    assert remote('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/tex.js"></script>')
    assert remote("<link rel='stylesheet' href='//cdn.example.org/a.css'>")
    assert not remote('<script src="_static/mathjax/tex-chtml.js"></script>')
    assert not remote('<a href="https://arxiv.org/abs/2009.11162">paper</a>')
