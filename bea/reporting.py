"""Reports of checked claims: one :class:`Claim` per statement, grouped in sections
(:class:`Section`) and rendered as Markdown or as one self-contained HTML page with one claims table.

Shared by the two-parameter study (:mod:`bea.study.report`) and the neural-network study
(:mod:`bea.deep.report`), which never import each other.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field

__all__ = ["Claim", "Section", "claims_text", "render_html", "render_markdown"]


@dataclass(frozen=True)
class Claim:
    """One checked statement.

    Attributes
    ----------
    key : str
        Short identifier.
    statement : str
        The claim, in words.
    source : str
        Where it comes from (paper section, or "bea" for results beyond the paper).
    measured : str
        What bea measured or derived.
    expected : str
        What the claim predicts.
    passed : bool

    Examples
    --------
    >>> Claim("slope", "local error is O(h^3)", "Theorem 3.1", "2.98", "3", True).passed
    True
    """

    key: str
    statement: str
    source: str
    measured: str
    expected: str
    passed: bool


@dataclass(frozen=True)
class Section:
    """One part of a report: its claims, notes and figures (a paper section, say).

    Attributes
    ----------
    key : str
        Short name shown in the claims table (e.g. ``"§4"``).
    title : str
    intro : str
        A paragraph saying what was run, on what, and what it stands in for.
    claims : tuple of Claim
    notes : tuple of str
    figures : tuple of (str, str, bytes)
        (name, caption, PNG bytes); ``name.png`` sits next to the report.
    versions : dict
        Versions of packages beyond bea's core stack that the section used (stamped in
        ``report.json``).
    """

    key: str
    title: str
    intro: str
    claims: tuple
    notes: tuple = ()
    figures: tuple = ()
    versions: dict = field(default_factory=dict, compare=False)


def render_markdown(title: str, header: str, sections) -> str:
    """A report in Markdown: one claims table over all sections, then each section's notes and
    figures.

    Examples
    --------
    >>> c = Claim("k", "a claim", "a paper", "3.01", "3", True)
    >>> print(render_markdown("T", "header", [Section("§4", "S", "intro", (c,))]).splitlines()[4])
    **1 of 1 claims pass.**
    """
    sections = list(sections)
    claims = [(sec, c) for sec in sections for c in sec.claims]
    many = len(sections) > 1
    lines = [f"# {title}", "", header, ""]
    lines += [f"**{sum(c.passed for _, c in claims)} of {len(claims)} claims pass.**", ""]
    lines += [
        "| |" + (" section |" if many else "") + " claim | source | measured | expected |",
        "|---|" + ("---|" if many else "") + "---|---|---|---|",
    ]
    for sec, c in claims:
        cells = ["PASS" if c.passed else "**FAIL**", *([sec.key] if many else [])]
        cells += [c.statement, c.source, c.measured, c.expected]
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    for sec in sections:
        lines += ["", f"## {sec.title}", "", sec.intro]
        if sec.notes:
            lines += ["", "### Notes", ""] + [f"- {n}" for n in sec.notes]
        if sec.figures:
            lines += ["", "### Figures", ""]
        for name, caption, _ in sec.figures:
            lines += [f"#### {name}", "", caption, "", f"![{name}]({name}.png)", ""]
    lines += ["", "Data: the JSON and CSV files next to this report.", ""]
    return "\n".join(lines)


def render_html(title: str, header: str, sections) -> str:
    """The same report as one self-contained HTML page (figures inline).

    Examples
    --------
    >>> c = Claim("k", "a claim", "a paper", "3.01", "3", False)
    >>> "class='fail'" in render_html("T", "h", [Section("§4", "S", "intro", (c,))])
    True
    """
    esc = html.escape
    sections = list(sections)
    many = len(sections) > 1
    claims = [(sec, c) for sec in sections for c in sec.claims]
    rows = "\n".join(
        f"<tr class='{'pass' if c.passed else 'fail'}'><td>{'PASS' if c.passed else 'FAIL'}</td>"
        + (f"<td>{esc(sec.key)}</td>" if many else "")
        + f"<td>{esc(c.statement)}</td><td>{esc(c.source)}</td><td>{esc(c.measured)}</td>"
        f"<td>{esc(c.expected)}</td></tr>"
        for sec, c in claims
    )
    body = []
    for sec in sections:
        body.append(f"<h2>{esc(sec.title)}</h2><p>{esc(sec.intro)}</p>")
        if sec.notes:
            body.append("<h3>Notes</h3><ul>" + "".join(f"<li>{esc(n)}</li>" for n in sec.notes))
            body.append("</ul>")
        for name, caption, png in sec.figures:
            data = base64.b64encode(png).decode("ascii")
            body.append(
                f"<figure><img alt='{esc(name)}' src='data:image/png;base64,{data}'>"
                f"<figcaption><b>{esc(name)}</b>: {esc(caption)}</figcaption></figure>"
            )
    ok = sum(c.passed for _, c in claims)
    head = "<th></th>" + ("<th>section</th>" if many else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{esc(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 0.4em; vertical-align: top; text-align: left; }}
tr.pass td:first-child {{ background: #d6ebf5; font-weight: bold; }}
tr.fail td:first-child {{ background: #f5ddc6; font-weight: bold; }}
figure {{ margin: 2em 0; }} img {{ max-width: 100%; }}
figcaption {{ font-size: 0.9em; color: #444; }}
code {{ background: #f3f3f3; padding: 0 0.2em; }}
</style></head><body>
<h1>{esc(title)}</h1>
<p>{esc(header)}</p>
<p><b>{ok} of {len(claims)} claims pass.</b></p>
<table><tr>{head}<th>claim</th><th>source</th><th>measured</th><th>expected</th></tr>
{rows}
</table>
{"".join(body)}
</body></html>
"""


def claims_text(claims, report) -> str:
    """One line per claim (PASS/FAIL, statement, measured) and a count, for the terminal.

    Examples
    --------
    >>> print(claims_text([Claim("k", "a claim", "a paper", "3.01", "3", True)], "out/report.md"))
    PASS  a claim: 3.01
    1 of 1 claims pass; report in out/report.md
    """
    lines = [f"{'PASS' if c.passed else 'FAIL'}  {c.statement}: {c.measured}" for c in claims]
    ok = sum(c.passed for c in claims)
    lines.append(f"{ok} of {len(claims)} claims pass; report in {report}")
    return "\n".join(lines)
