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
