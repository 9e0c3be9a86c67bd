"""Integrators of Hamiltonian systems and their modified Hamiltonians.

:func:`hamiltonian_flow` applies a method to q̇ = ∂H/∂p, ṗ = −∂H/∂q and returns the modified field
as a :class:`~bea.flow.ModifiedFlow`, whose :meth:`~bea.flow.ModifiedFlow.modified_hamiltonian`
gives H̃ when the method is symplectic (Hairer, Lubich & Wanner, *Geometric Numerical
Integration*, ch. IX). The methods are

* ``"symplectic-euler"``: p′ = p − h ∂H/∂q(q, p′), q′ = q + h ∂H/∂p(q, p′), and its adjoint
  ``"symplectic-euler-adjoint"``: q′ = q + h ∂H/∂p(q′, p), p′ = p − h ∂H/∂q(q′, p);
* ``"stormer-verlet"``: kick–drift–kick, p½ = p − (h/2)∂H/∂q(q), q′ = q + h ∂H/∂p(p½),
  p′ = p½ − (h/2)∂H/∂q(q′);

which are explicit maps for a separable H = T(p) + U(q) (and refused otherwise), and every
Runge–Kutta method of :data:`bea.bseries.rk.METHODS` by its name in lower case with hyphens
(``"explicit-euler"``, ``"implicit-midpoint"``, ``"rk4"``, ``"gauss-order-4"``, …), on any H.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sympy as sp

from ._checks import check_step_symbol, check_symbols
from .bseries.prk import (
    LOBATTO_IIIA_IIIB_2,
    LOBATTO_IIIA_IIIB_3,
    SYMPLECTIC_EULER,
    SYMPLECTIC_EULER_ADJOINT,
)
from .bseries.rk import METHODS as RK_METHODS
from .errors import InputError
from .flow import ModifiedFlow
from .parsing import as_expression
from .routes import modified_equation

__all__ = ["HAMILTONIAN_METHODS", "hamiltonian_flow"]

_SEPARABLE = ("symplectic-euler", "symplectic-euler-adjoint", "stormer-verlet")
#: Partitioned pairs: the separable methods' general form, and the three-stage Lobatto pair.
_PAIRS = {
    "symplectic-euler": SYMPLECTIC_EULER,
    "symplectic-euler-adjoint": SYMPLECTIC_EULER_ADJOINT,
    "stormer-verlet": LOBATTO_IIIA_IIIB_2,
    "lobatto-iiia-iiib-3": LOBATTO_IIIA_IIIB_3,
}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


_TABLEAUS = {_slug(name): method for name, method in RK_METHODS.items()}

#: The method names :func:`hamiltonian_flow` accepts.
HAMILTONIAN_METHODS = (*_SEPARABLE, "lobatto-iiia-iiib-3", *sorted(_TABLEAUS))


def hamiltonian_flow(
    hamiltonian: sp.Expr | str,
    q: Sequence[sp.Symbol | str],
    p: Sequence[sp.Symbol | str],
    order: int = 1,
    method: str = "symplectic-euler",
    *,
    h: sp.Symbol | None = None,
) -> ModifiedFlow:
    """The modified field of a method applied to the Hamiltonian system of ``hamiltonian``.

    Parameters
    ----------
    hamiltonian : sympy expression or str
        H(q, p); other free symbols are constants. Strings are read by bea's safe parser.
    q, p : sequences of sympy Symbol or str
        Positions and momenta (the same number of each); the state is (q, p).
    order : int, default 1
        Highest power of ``h`` kept.
    method : str, default "symplectic-euler"
        One of :data:`HAMILTONIAN_METHODS` (module docstring).
    h : sympy Symbol, optional
        The step-size symbol (default ``h``).

    Returns
    -------
    ModifiedFlow
        On the state (q, p); ``flow.modified_hamiltonian(hamiltonian=H)`` gives H̃ and
        ``flow.is_hamiltonian(j)`` says which terms are Hamiltonian.

    Raises
    ------
    InputError
        On an unknown method, a separable-only method with a non-separable H, or bad symbols.

    Examples
    --------
    Störmer–Verlet on the pendulum: H̃ = H + h²(…), no odd terms.

    >>> import sympy as sp
    >>> q, p = sp.symbols("q p")
    >>> flow = hamiltonian_flow(p**2 / 2 - sp.cos(q), [q], [p], 2, "stormer-verlet")
    >>> flow.modified_hamiltonian(hamiltonian=p**2 / 2 - sp.cos(q))
    h**2*(p**2*cos(q)/12 + cos(q)**2/24) + p**2/2 - cos(q)
    """
    if method not in HAMILTONIAN_METHODS:
        raise InputError(
            f"unknown method {method!r} for a Hamiltonian system; choose one of "
            f"{', '.join(HAMILTONIAN_METHODS)}"
        )
    q, p = check_symbols(q, "q"), check_symbols(p, "p")
    if len(q) != len(p) or not q:
        raise InputError(f"give as many momenta as positions, got q = {q} and p = {p}")
    state = (*q, *p)
    if len(set(state)) != len(state):
        raise InputError("a symbol cannot be both a position and a momentum")
    h = sp.Symbol("h") if h is None else check_step_symbol(h)
    if h in state:
        raise InputError(f"the step size {h} cannot also be a state variable")
    H = as_expression(hamiltonian, state, what="Hamiltonian")
    if not H.free_symbols & set(state):
        raise InputError(f"the Hamiltonian {H} depends on none of {', '.join(map(str, state))}")
    Hq = [sp.diff(H, s) for s in q]
    Hp = [sp.diff(H, s) for s in p]
    if method not in _PAIRS:
        field = [*Hp, *(-g for g in Hq)]
        flow = modified_equation(_TABLEAUS[method], list(state), h, order, field=field)
        return flow.with_method(method)
    separable = all(sp.expand(sp.diff(g, s)) == 0 for g in Hq for s in p)
    if method not in _SEPARABLE or not separable:  # the pair, its implicit stages as series
        step = _PAIRS[method].step_map(Hp, [-g for g in Hq], q, p, h, order)
        return modified_equation(step, list(state), h, order).with_method(method)

    def at(exprs, old, new):
        sub = dict(zip(old, new, strict=True))
        return [e.xreplace(sub) for e in exprs]

    if method == "symplectic-euler":
        p1 = [b - h * g for b, g in zip(p, Hq, strict=True)]
        q1 = [a + h * g for a, g in zip(q, at(Hp, p, p1), strict=True)]
    elif method == "symplectic-euler-adjoint":
        q1 = [a + h * g for a, g in zip(q, Hp, strict=True)]
        p1 = [b - h * g for b, g in zip(p, at(Hq, q, q1), strict=True)]
    else:  # stormer-verlet, kick-drift-kick
        half = [b - h / 2 * g for b, g in zip(p, Hq, strict=True)]
        q1 = [a + h * g for a, g in zip(q, at(Hp, p, half), strict=True)]
        p1 = [b - h / 2 * g for b, g in zip(half, at(Hq, q, q1), strict=True)]
    flow = modified_equation(sp.Matrix([*q1, *p1]), list(state), h, order)
    return flow.with_method(method)
