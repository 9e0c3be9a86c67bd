"""Splitting and composition methods, each checked by an independent route: the BCH series with
Lie brackets computed from sympy Jacobians (Lie–Trotter's first term, Strang's h² term), the
explicit maps that some splittings are (Lie–Trotter of drift and kick is symplectic Euler, Strang
is Störmer–Verlet), and the order conditions of the triple jump."""

from __future__ import annotations

import pytest
import sympy as sp

import bea

y1, y2, q, p, h = sp.symbols("y1 y2 q p h")
STATE = [y1, y2]
A = sp.Matrix([y2**2, sp.sin(y1)])  # two fields that do not commute, with no closed-form flows
B = sp.Matrix([y1 * y2, sp.exp(-y1)])


def bracket(f, g):
    """The vector field of the commutator [L_f, L_g] of Lie derivatives: g′f − f′g."""
    return g.jacobian(STATE) * f - f.jacobian(STATE) * g


def zero(v) -> bool:
    return all(sp.simplify(sp.expand(e)) == 0 for e in v)


def test_lie_trotter_first_term_is_half_the_bracket():
    flow = bea.Splitting.lie_trotter(A, B).modified_equation(STATE, h, 1)
    assert zero(flow.terms[0] - (A + B))
    assert zero(flow.terms[1] - bracket(A, B) / 2)
    assert not zero(bracket(A, B))


def test_strang_has_the_symmetric_bch_terms():
    """log(e^{X/2} e^Y e^{X/2}) = X + Y − [X,[X,Y]]/24 − [Y,[X,Y]]/12 + … (X = hL_A, Y = hL_B)."""
    flow = bea.Splitting.strang(A, B).modified_equation(STATE, h, 2)
    AB = bracket(A, B)
    assert zero(flow.terms[1])
    assert zero(flow.terms[2] - (-bracket(A, AB) / 24 - bracket(B, AB) / 12))


def test_splittings_of_the_pendulum_are_the_symplectic_maps():
    drift, kick = [p, 0], [0, -sp.sin(q)]
    H = p**2 / 2 - sp.cos(q)
    pairs = [
        (bea.Splitting.lie_trotter(drift, kick), "symplectic-euler-adjoint"),
        (bea.Splitting.lie_trotter(kick, drift), "symplectic-euler"),
        (bea.Splitting.strang(kick, drift), "stormer-verlet"),
    ]
    for splitting, name in pairs:
        ours = splitting.modified_equation([q, p], h, 3)
        theirs = bea.hamiltonian_flow(H, [q], [p], 3, name)
        for j in range(4):
            assert zero(ours.terms[j] - theirs.terms[j]), (name, j)


def test_the_triple_jump_is_of_order_four_exactly_under_its_conditions():
    """Strang steps γ₁h, γ₂h, γ₁h: f₁ = f₂ = f₃ = 0 iff 2γ₁ + γ₂ = 1 and 2γ₁³ + γ₂³ = 0 (Yoshida
    1990); with γ₂ = 1 − 2γ₁ the second condition is the cubic −6γ₁³ + 12γ₁² − 6γ₁ + 1 = 0."""
    g1 = sp.Symbol("g1")
    drift, kick = [p, 0], [0, -q - q**3]
    flow = bea.Splitting.composition(kick, drift, [g1, 1 - 2 * g1, g1]).modified_equation(
        [q, p], h, 3
    )
    cubic = sp.Poly(2 * g1**3 + (1 - 2 * g1) ** 3, g1)
    for j in (1, 2, 3):
        for e in flow.terms[j]:
            poly = sp.Poly(sp.expand(e), g1)
            assert poly.rem(cubic).is_zero, j
    assert any(not sp.Poly(sp.expand(e), g1).is_zero for e in flow.terms[2])  # not zero for all γ


def test_the_step_series_is_the_taylor_polynomial_of_a_solvable_composition():
    y = sp.Symbol("y")
    # y' = y for time h, then y' = 1 for time h: Φ(y) = y·e^h + h
    series = bea.Splitting.lie_trotter([y], [1]).step_series([y], h, 5)[0]
    assert sp.expand(series - (sp.series(y * sp.exp(h), h, 0, 6).removeO() + h)) == 0


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: bea.Splitting(([p, 0], [0, q]), ((2, 1),)), "field index"),
        (lambda: bea.Splitting(([p, 0], [0, q]), ()), "at least one step"),
        (lambda: bea.Splitting(([p, 0], [0]), ((0, 1),)), "same number of components"),
        (lambda: bea.Splitting((["__import__('os')", 0],), ((0, 1),)), "not allowed|never"),
        (lambda: bea.Splitting(([p, 0],), ((0, "exec('1')"),)), "unknown function 'exec'"),
        (lambda: bea.Splitting("p, q", ((0, 1),)), "list of vector fields"),
        (lambda: bea.Splitting.composition([p, 0], [0, q], []), "non-empty"),
        (lambda: bea.Splitting.strang([p, 0], [0, q]).modified_equation([q], h, 1), "components"),
    ],
)
def test_bad_input_is_a_clear_error(build, message):
    with pytest.raises(bea.InputError, match=message):
        build()
