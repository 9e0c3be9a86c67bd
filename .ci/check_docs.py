"""Check the built documentation site (argument: its folder) works offline: no page loads a script
or stylesheet from another host, every page with maths loads the MathJax shipped in the site, and
the site has a page with typeset maths at all. ``tests/test_docs.py`` runs the same check on a
page built with the site's configuration."""

from __future__ import annotations

import re
import sys
from pathlib import Path

REMOTE = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)=["']?(?:https?:)?//[^>]*>""")
MATHJAX = re.compile(r"""<script\b[^>]*src=["']([^"']*mathjax[^"'?]*)""")


def problems(site: Path) -> tuple[list[str], int, int]:
    """(what is wrong, number of pages, number of pages with maths) for a built site."""
    pages = sorted(site.rglob("*.html"))
    found, with_maths = [], 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        found += [f"{page}: loads {tag}" for tag in REMOTE.findall(text)]
        for src in MATHJAX.findall(text):
            with_maths += 1
            if not (page.parent / src).is_file():
                found.append(f"{page}: MathJax script {src} is not in the site")
    if not pages or not with_maths:
        found.append(f"{site}: no built page with typeset maths ({len(pages)} pages)")
    return found, len(pages), with_maths


def main(site: Path) -> None:
    found, pages, with_maths = problems(site)
    if found:
        sys.exit("docs not offline:\n" + "\n".join(found))
    print(f"docs ok: {pages} pages, {with_maths} with maths, nothing loaded from other hosts")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
