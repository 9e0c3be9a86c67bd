"""Exact formulas as plain Python source: NumPy or JAX functions a user can read, paste and train
with.

:func:`function_source` writes one function ``name(theta, h, *, constants)`` that evaluates sympy
expressions of the parameters θ (read from the last axis of ``theta``), the step size ``h`` and
named constants, with common subexpressions pulled out; :func:`module_source` puts functions
under one header of imports; :func:`compile_sources` runs that module and returns its functions. The exported
text and the callable are the same code, so a test of one is a test of the other.

Safety: the text is printed from sympy trees by sympy's NumPy/JAX printers, and every name in it
is chosen here — parameters whose names are not plain Python identifiers are renamed, and a
constant whose name could not be a keyword argument is refused — so nothing a user typed is ever
executed as code.
"""

from __future__ import annotations

import keyword
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.printing.numpy import JaxPrinter, SciPyPrinter

from ._version import __version__
from .errors import InputError

__all__ = [
    "BACKENDS",
    "Source",
    "compile_sources",
    "function_source",
    "header_text",
    "integral_limits",
    "module_source",
]

#: The array libraries the exported code may use.
BACKENDS = ("numpy", "jax")

#: Names the generated code uses itself (arguments, modules, temporaries).
_RESERVED = frozenset({"theta", "h", "numpy", "scipy", "jax", "math", "xp", "value", "terms"})
_TEMP = "_c"
_INTEGRAL = "_r"
#: Gauss–Legendre nodes of the quadrature that evaluates an exported ray integral: exact for
#: polynomials of degree < 128 in the ray variable, and accurate to rounding for integrands
#: analytic near the ray (a logistic loss to ∣margin∣ of about 30).
QUADRATURE_NODES = 64


class _JaxPrinter(JaxPrinter):
    """JAX's printer, with erf from ``jax.scipy.special`` (sympy prints ``math.erf``)."""

    def _print_erf(self, expr):
        self.module_imports["jax.scipy.special"].add("erf")
        return f"jax.scipy.special.erf({self._print(expr.args[0])})"


def _printer(backend: str):
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    return SciPyPrinter() if backend == "numpy" else _JaxPrinter()


@dataclass(frozen=True)
class Source:
    """The text of one generated function and the modules it needs.

    Attributes
    ----------
    name : str
    text : str
        ``def name(...): ...`` without imports.
    imports : frozenset of str
        Modules to import (``numpy``, ``scipy.special``, ``jax.numpy``, …).
    constants : tuple of str
        Its keyword-only arguments, in order.

    Examples
    --------
    >>> import sympy as sp
    >>> t, h, k = sp.symbols("t h k")
    >>> src = function_source("energy", [[k * t**2 / 2]], [t], h, vector=False)
    >>> src.name, src.constants
    ('energy', ('k',))
    """

    name: str
    text: str
    imports: frozenset
    constants: tuple[str, ...]


def _safe(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and name not in _RESERVED
        and not name.startswith("_")
    )


def function_source(
    name: str,
    terms: Sequence[Sequence[sp.Expr]],
    params: Sequence[sp.Symbol],
    h: sp.Symbol,
    *,
    backend: str = "numpy",
    vector: bool = True,
    doc: str = "",
    prefix: str = "f",
) -> Source:
    """One function ``name(theta, h, *, c1, c2, …)`` returning Σ_j h^j terms[j].

    Parameters
    ----------
    name : str
        A Python identifier.
    terms : sequence of sequences of sympy expressions
        ``terms[j]`` is the coefficient of h^j, free of h: with ``vector=True`` the components of
        a vector (returned on the last axis, shape ``(..., len(terms[j]))``), else one scalar
        (returned with shape ``(...)``). A zero term is left out of the code.
    params : sequence of sympy Symbol
        Read from ``theta[..., i]``.
    h : sympy Symbol
        The step size, argument ``h`` (a number, or an array broadcasting with ``theta[..., 0]``).
    backend : {"numpy", "jax"}
    vector : bool
    doc : str
        The docstring (without quotes).
    prefix : str
        Names of the terms in the code (``f_0``, ``f_1``, … by default).

    Returns
    -------
    Source

    Examples
    --------
    >>> import sympy as sp
    >>> a, b, h, x = sp.symbols("a b h x")
    >>> src = function_source("f", [[-a * x, a * b], [-b, 0]], [a, b], h)
    >>> print(src.text)
    def f(theta, h, *, x):
        theta = numpy.asarray(theta)
        h = numpy.expand_dims(numpy.asarray(h), -1)
        a = theta[..., 0]
        b = theta[..., 1]
        f_0 = numpy.stack(numpy.broadcast_arrays(-a*x, a*b), axis=-1)
        f_1 = numpy.stack(numpy.broadcast_arrays(-b, 0), axis=-1)
        return f_0 + h * f_1
    >>> src.constants, sorted(src.imports)
    (('x',), ['numpy'])
    """
    if not _safe(name):
        raise InputError(f"cannot export a function named {name!r}: use a plain Python name")
    params = tuple(params)
    terms = [[sp.sympify(e, strict=True) for e in t] for t in terms]
    if any(h in e.free_symbols for t in terms for e in t):
        raise InputError("the terms of an export are coefficients of powers of h, free of h")
    if not vector and any(len(t) != 1 for t in terms):
        raise InputError("a scalar function has exactly one output per term")
    # every name in the text is chosen here
    rename: dict[sp.Symbol, sp.Symbol] = {}
    locals_: list[str] = []
    for i, p in enumerate(params):
        local = p.name if _safe(p.name) and p.name not in locals_ else f"p{i}"
        while local in locals_:
            local = f"p{i}_"
        rename[p] = sp.Symbol(local)
        locals_.append(local)
    everything = set().union(*(e.free_symbols for t in terms for e in t))
    constants = []
    for s in sorted(everything - set(rename), key=str):
        if not _safe(s.name) or s.name in locals_ or s.name.startswith(prefix + "_"):
            raise InputError(
                f"cannot export: the constant {s.name!r} cannot be a Python keyword argument; "
                "give it a value (values=...) or rename it"
            )
        rename[s] = sp.Symbol(s.name)
        constants.append(s.name)
    kept = [j for j, t in enumerate(terms) if any(e != 0 for e in t)] or [0]
    flat = [e.xreplace(rename) for j in kept for e in terms[j]]
    # ray integrals (potentials with no closed form) are evaluated by quadrature, each on its own
    # line, and hidden from common-subexpression elimination (their variable is bound)
    integrals = sorted({i for e in flat for i in e.atoms(sp.Integral)}, key=sp.default_sort_key)
    slots = {i: sp.Symbol(f"{_INTEGRAL}{k}") for k, i in enumerate(integrals)}
    flat = [e.xreplace(slots) for e in flat]
    temps, reduced = sp.cse(flat, symbols=sp.numbered_symbols(_TEMP))
    printer = _printer(backend)
    xp = "numpy" if backend == "numpy" else "jax.numpy"
    printer.module_imports[xp].add("asarray")
    zero = f"0 * {locals_[0]}" if locals_ else "0 * theta[..., 0]"

    def code(exprs):  # a term whose components are all constant still has the batch shape
        parts = [printer.doprint(e) for e in exprs]
        if vector and not any(e.free_symbols for e in exprs):
            parts[0] = f"{parts[0]} + {zero}"
        return parts

    lines = [f"    theta = {xp}.asarray(theta)"]
    if vector and kept != [0]:  # h multiplies a vector: one axis for its components
        lines.append(f"    h = {xp}.expand_dims({xp}.asarray(h), -1)")
    lines += [f"    {local} = theta[..., {i}]" for i, local in enumerate(locals_)]
    if integrals:
        lines += _quadrature_lines(integrals, slots, printer, xp, constants)
    lines += [f"    {t} = {printer.doprint(e)}" for t, e in temps]
    width = len(terms[kept[0]])
    for n, j in enumerate(kept):
        parts = code(reduced[n * width : (n + 1) * width])
        value = (
            f"{xp}.stack({xp}.broadcast_arrays({', '.join(parts)}), axis=-1)"
            if vector
            else parts[0]
        )
        lines.append(f"    {prefix}_{j} = {value}")
    # Horner in h over the kept powers: f_0 + h * (f_1 + h * f_2), h**k where powers are skipped
    total = f"{prefix}_{kept[-1]}"
    for prev, nxt in zip(reversed(kept[:-1]), reversed(kept[1:]), strict=True):
        gap = nxt - prev
        total = f"{prefix}_{prev} + {_power(gap)} * {_paren(total)}"
    if kept[0] > 0:
        total = f"{_power(kept[0])} * {_paren(total)}"
    if not vector:
        total = f"{xp}.broadcast_arrays({total}, theta[..., 0])[0]"
    lines.append(f"    return {total}")
    signature = (
        f"def {name}(theta, h" + (f", *, {', '.join(constants)}" if constants else "") + "):"
    )
    docstring = [textwrap.indent(f'"""{doc.strip()}\n"""', "    ")] if doc.strip() else []
    text = "\n".join([signature, *docstring, *lines])
    imports = frozenset(m for m in printer.module_imports if m != "math")
    return Source(name, text, imports, tuple(constants))


def integral_limits(integral: sp.Integral) -> tuple[sp.Symbol, sp.Expr, sp.Expr]:
    """``(t, a, b)`` of ``Integral(g, (t, a, b))``, the only integrals bea evaluates (by
    :data:`QUADRATURE_NODES`-point Gauss–Legendre): one variable, numeric bounds.

    Examples
    --------
    >>> import sympy as sp
    >>> t, w = sp.symbols("t w")
    >>> integral_limits(sp.Integral(t * w, (t, 0, 1)))
    (t, 0, 1)
    """
    if len(integral.limits) != 1 or len(integral.limits[0]) != 3:
        raise InputError(
            f"cannot evaluate the integral {str(integral)[:60]}: one variable, two bounds"
        )
    var, lo, hi = integral.limits[0]
    if not (lo.is_number and hi.is_number):
        raise InputError(
            f"cannot evaluate the integral {str(integral)[:60]}: its bounds are symbolic"
        )
    return var, lo, hi


def _quadrature_lines(integrals, slots, printer, xp: str, constants) -> list[str]:
    """``_rk = ∫_a^b g(t) dt`` by :data:`QUADRATURE_NODES`-point Gauss–Legendre quadrature, the
    nodes on a leading axis broadcast against the batch of θ and of the constants (arrays)."""
    printer.module_imports["numpy.polynomial.legendre"].add("leggauss")
    t = sp.Symbol("_t")
    shapes = ", ".join(["numpy.shape(theta[..., 0])", *(f"numpy.shape({c})" for c in constants)])
    lines = [
        f"    _x, _w = numpy.polynomial.legendre.leggauss({QUADRATURE_NODES})",
        f"    _shape = (-1,) + (1,) * len(numpy.broadcast_shapes({shapes}))",
    ]
    for i in integrals:
        var, lo, hi = integral_limits(i)
        body = printer.doprint(i.function.xreplace({var: t}))
        lo_, half = printer.doprint(lo), printer.doprint((hi - lo) / 2)
        lines.append(f"    _t = {lo_} + {half} * (1 + {xp}.reshape({xp}.asarray(_x), _shape))")
        lines.append(
            f"    {slots[i]} = {half} * {xp}.tensordot({xp}.asarray(_w), {body} + 0 * _t, axes=1)"
        )
    return lines


def _power(k: int) -> str:
    return "h" if k == 1 else f"h**{k}"


def _paren(text: str) -> str:
    return text if text.isidentifier() else f"({text})"


def module_source(sources: Sequence[Source], header: str = "") -> str:
    """A self-contained module: a docstring, the imports every function needs, the functions.

    Examples
    --------
    >>> import sympy as sp
    >>> t, h = sp.symbols("t h")
    >>> print(module_source([function_source("g", [[t**2], [1]], [t], h, vector=False)], "Demo."))
    \"\"\"Demo.\"\"\"
    <BLANKLINE>
    import numpy
    <BLANKLINE>
    <BLANKLINE>
    def g(theta, h):
        theta = numpy.asarray(theta)
        t = theta[..., 0]
        f_0 = t**2
        f_1 = 1
        return numpy.broadcast_arrays(f_0 + h * f_1, theta[..., 0])[0]
    <BLANKLINE>
    """
    modules = sorted(set().union(*(s.imports for s in sources)))
    parts = []
    if header:
        parts.append(f'"""{header.strip()}"""\n')
    parts.append("\n".join(f"import {m}" for m in modules) + "\n")
    for s in sources:
        parts.append("\n" + s.text + "\n")
    return "\n".join(parts)


def compile_sources(sources: Sequence[Source]) -> dict[str, Callable]:
    """The functions of :func:`function_source` results as callables, by name: the module that
    :func:`module_source` writes for them, run in a fresh namespace.

    Examples
    --------
    >>> import sympy as sp
    >>> t, h = sp.symbols("t h")
    >>> g = compile_sources([function_source("g", [[t**2], [1]], [t], h, vector=False)])["g"]
    >>> float(g([3.0], 0.5))
    9.5
    """
    namespace: dict = {"__name__": "bea_export"}
    text = module_source(sources)  # printed from sympy trees, every name chosen by bea
    exec(compile(text, "<bea export>", "exec"), namespace)
    return {s.name: namespace[s.name] for s in sources}


def header_text(title: str, lines: Mapping[str, str] | None = None) -> str:
    """The module docstring of an export: a title, facts, and the bea version.

    Examples
    --------
    >>> print(header_text("Demo.", {"backend": "numpy"}))  # doctest: +ELLIPSIS
    Demo.
    <BLANKLINE>
    backend: numpy
    Exported by bea ...
    """
    body = [title.strip(), ""]
    body += [f"{k}: {v}" for k, v in (lines or {}).items()]
    body += [
        f"Exported by bea {__version__}; exact (sympy) coefficients, evaluated in the "
        "array's precision."
    ]
    return "\n".join(body)
