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


def _remote_assets(html: str) -> list[str]:
    """Scripts and stylesheets a page loads from another host (a CDN, say)."""
    import re

    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    return [t for t in tags if re.search(r"""(?:src|href)=["']?(?:https?:)?//""", t)]


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
    page = (out / "index.html").read_text()
    assert "\\tilde E" in page
    assert _remote_assets(page) == []
    scripts = [s for s in __import__("re").findall(r'src="([^"]+)"', page) if "mathjax" in s]
    assert scripts, "the page loads no MathJax"
    assert all((out / s.split("?")[0]).is_file() for s in scripts)


def test_remote_assets_are_recognised():
    assert _remote_assets('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/tex.js"></script>')
    assert _remote_assets("<link rel='stylesheet' href='//cdn.example.org/a.css'>")
    assert not _remote_assets('<script src="_static/mathjax/tex-chtml.js"></script>')
    assert not _remote_assets('<a href="https://arxiv.org/abs/2009.11162">paper</a>')
