"""Reports of checked claims: one :class:`Claim` per statement, grouped in sections
(:class:`Section`) and rendered as Markdown or as one self-contained HTML page with one claims table.

Shared by the two-parameter study (:mod:`bea.study.report`) and the neural-network study
(:mod:`bea.deep.report`), which never import each other.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field

__all__ = ["Claim", "Formula", "Section", "claims_text", "plain", "render_html", "render_markdown"]

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def plain(expr) -> str:
    """A sympy expression as one line of readable text: powers as superscripts, · for products,
    − for minus (no Python syntax).

    Examples
    --------
    >>> import sympy as sp
    >>> a, b, h = sp.symbols("a b h")
    >>> plain((a*b - 1)**2 * (a**2*h + b**(-2)) / 4)
    '(a·b − 1)²·(a²·h + b⁻²)/4'
    >>> plain(a**sp.Rational(3, 2) * (a**2 + b**2))
    'a^(3/2)·(a² + b²)'
    """
    import sympy as sp

    text = sp.sstr(expr)
    text = re.sub(
        r"\*\*(?:\((-\d+)\)|(\d+))", lambda m: (m[1] or m[2]).translate(_SUPERSCRIPT), text
    )
    return text.replace("**", "^").replace("*", "·").replace("-", "−")


@dataclass(frozen=True)
class Formula:
    """A formula in a report, in three forms: plain text (terminal and the ``measured`` strings of
    ``report.json``), LaTeX (``report.md``, typeset by GitHub and most Markdown viewers; stored in
    ``report.json``) and presentation MathML (``report.html``: typeset by the browser itself, with
    nothing loaded from the network).

    Attributes
    ----------
    text, latex, mathml : str
        The formula (MathML without the enclosing ``<math>`` element).
    after : str
        Plain text that follows the formula (already part of ``text``).

    Examples
    --------
    >>> import sympy as sp
    >>> a, h = sp.symbols("a h")
    >>> f = Formula.of(a**2 * (1 + h / 2), lhs=sp.Symbol("Ẽ"), after="; exact")
    >>> str(f)
    'Ẽ = a²·(h/2 + 1); exact'
    >>> print(f.latex)
    Ẽ = a^{2} \\left(\\frac{h}{2} + 1\\right)
    """

    text: str
    latex: str
    mathml: str
    after: str = ""

    @classmethod
    def of(
        cls, expr, lhs=None, *, text: str | None = None, after: str = "", order: str | None = None
    ) -> Formula:
        """The formula ``lhs = expr`` (or ``expr``) of sympy expressions; ``text`` replaces the
        automatic plain form; ``order="none"`` keeps the terms of an expression built unevaluated
        in the order given (otherwise sympy's printing order)."""
        import sympy as sp

        parts = [expr] if lhs is None else [lhs, expr]
        latex = " = ".join(sp.latex(e, order=order) for e in parts)
        mathml = "<mo>=</mo>".join(sp.mathml(e, printer="presentation", order=order) for e in parts)
        # named entities (&InvisibleTimes;) as numeric ones: the MathML is also well-formed XML
        mathml = re.sub(r"&[A-Za-z]+;", lambda m: f"&#x{ord(html.unescape(m[0])):x};", mathml)
        text = " = ".join(plain(e) for e in parts) if text is None else text
        return cls(text + after, latex, mathml, after)

    def __str__(self) -> str:
        return self.text


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
    measured : str or Formula
        What bea measured or derived.
    expected : str or Formula
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
    measured: str | Formula
    expected: str | Formula
    passed: bool

    def to_dict(self) -> dict:
        """Plain data for ``report.json``: ``measured`` and ``expected`` as text, and as LaTeX
        (``measured_latex``, ``expected_latex``) where they are formulas.

        Examples
        --------
        >>> import sympy as sp
        >>> c = Claim("k", "a claim", "bea", Formula.of(sp.Symbol("h") ** 2), "h²", True)
        >>> c.to_dict()["measured"], c.to_dict()["measured_latex"]
        ('h²', 'h^{2}')
        """
        out = {
            "key": self.key,
            "statement": self.statement,
            "source": self.source,
            "measured": str(self.measured),
            "expected": str(self.expected),
            "passed": self.passed,
        }
        for name in ("measured", "expected"):
            value = getattr(self, name)
            if isinstance(value, Formula):
                out[f"{name}_latex"] = value.latex + value.after
        return out


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
        cells += [c.statement, c.source, _md(c.measured), _md(c.expected)]
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
        + f"<td>{esc(c.statement)}</td><td>{esc(c.source)}</td><td>{_html(c.measured)}</td>"
        f"<td>{_html(c.expected)}</td></tr>"
        for sec, c in claims
    )
    body = []
    for sec in sections:
        body.append(f"<h2>{esc(sec.title)}</h2><p>{_text(sec.intro)}</p>")
        if sec.notes:
            body.append("<h3>Notes</h3><ul>" + "".join(f"<li>{_text(n)}</li>" for n in sec.notes))
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
math {{ font-size: 1.15em; }}
</style></head><body>
<h1>{esc(title)}</h1>
<p>{_text(header)}</p>
<p><b>{ok} of {len(claims)} claims pass.</b></p>
<table><tr>{head}<th>claim</th><th>source</th><th>measured</th><th>expected</th></tr>
{rows}
</table>
{"".join(body)}
</body></html>
"""


def _md(value) -> str:
    if isinstance(value, Formula):
        return f"${value.latex}${value.after}"
    return value


def _text(value: str) -> str:
    """Escaped text with Markdown code spans (`...`) as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(value))


def _html(value) -> str:
    if isinstance(value, Formula):
        return f"<math>{value.mathml}</math>{html.escape(value.after)}"
    return html.escape(value)


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
