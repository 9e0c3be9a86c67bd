"""Linear multistep methods through ``bea.modified_equation``: the underlying one-step method's
leading term against the method's error constant, computed here from Taylor expansions."""

from __future__ import annotations

import pytest
import sympy as sp

import bea
from bea.bseries.relations import adams_bashforth2, bdf2, leapfrog

u, v, h, t = sp.symbols("u v h t")
STATE = [u, v]
F = sp.Matrix([u * (v - 2), v * (1 - u)])  # Lotka–Volterra (HLW I.1)


def third_derivative(f):
    """y‴ = f″(f, f) + f′f′f along y′ = f."""
    second = f.jacobian(STATE) * f
    return second.jacobian(STATE) * f


def error_constant(alpha, evaluations):
    """C/σ′(1) for Σ α_s y(t + sh) − h Σ γ_j y′(t + s_j h) = C h³ y‴ + O(h⁴), y a cubic."""
    y = t**3 / 6  # y‴ = 1, so the h³ coefficient is C
    lhs = sum(a * y.subs(t, s * h) for s, a in alpha.items())
    rhs = h * sum(g * sp.diff(y, t).subs(t, s * h) for g, s in evaluations)
    C = sp.expand(lhs - rhs).coeff(h, 3)
    return C / sum(s * a for s, a in alpha.items())


METHODS = {
    "leapfrog": (leapfrog(), {1: 1, -1: -1}, [(2, 0)]),
    "AB2": (adams_bashforth2(), {1: 1, 0: -1}, [(sp.Rational(3, 2), 0), (sp.Rational(-1, 2), -1)]),
    "BDF2": (bdf2(), {1: sp.Rational(3, 2), 0: -2, -1: sp.Rational(1, 2)}, [(1, 1)]),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_leading_term_is_minus_the_error_constant_times_y3(name):
    method, alpha, evaluations = METHODS[name]
    flow = bea.modified_equation(method, STATE, h, 2, field=list(F))
    ratio = error_constant(alpha, evaluations)
    assert ratio == {"leapfrog": sp.Rational(1, 6), "AB2": sp.Rational(5, 12)}.get(
        name, sp.Rational(-1, 3)
    )
    assert sp.expand(flow.terms[0] - F) == sp.zeros(2, 1)
    assert flow.terms[1] == sp.zeros(2, 1)  # all three are of order 2
    assert sp.expand(flow.terms[2] + ratio * third_derivative(F)) == sp.zeros(2, 1)


def test_leapfrog_is_symmetric_and_the_field_is_required():
    flow = bea.modified_equation(leapfrog(), STATE, h, 3, field=list(F))
    assert flow.terms[3] == sp.zeros(2, 1)
    with pytest.raises(bea.InputError, match="leapfrog method needs the vector field"):
        bea.modified_equation(leapfrog(), STATE, h, 2)
    with pytest.raises(bea.InputError, match="2 components"):
        bea.modified_equation(bdf2(), STATE, h, 2, field=[u])
