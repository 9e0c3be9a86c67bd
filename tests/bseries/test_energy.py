"""Energy preservation of B-series integrators: the free-tree criterion against direct
evaluation of ∇H·f̃ on a concrete non-quadratic Hamiltonian."""

from __future__ import annotations

import pytest
import sympy as sp

from bea.bseries import BSeries, modified_equation, symplecticity_order, trees_up_to
from bea.bseries.elementary import evaluate
from bea.bseries.energy import energy_preservation_order, free_tree
from bea.bseries.rk import EXPLICIT_EULER, GAUSS4, IMPLICIT_MIDPOINT, RK4

q, p, h = sp.symbols("q p h")
H = q**4 / 4 + p**2 / 2 + q**2 * p / 3 + p**3 / 5
FIELD = [sp.diff(H, p), -sp.diff(H, q)]


def avf(n: int) -> BSeries:
    """The average vector field method: a(•) = 1, a([τ₁, …, τ_k]) = Π a(τᵢ)/(k + 1)."""
    from fractions import Fraction

    coeffs = {}
    for t in trees_up_to(n):
        value = Fraction(1, len(t) + 1)
        for c in t:
            value *= coeffs[c]
        coeffs[t] = value
    return BSeries(coeffs, 1, n)


def energy_drift_orders(a: BSeries, n: int) -> list[bool]:
    """For j = 0..n−1: does f_j of the modified field conserve H (evaluated directly)?"""
    flow = evaluate(modified_equation(a, n), FIELD, [q, p], h, n - 1)
    grad = [sp.diff(H, q), sp.diff(H, p)]
    return [
        sp.expand(sum(g * c for g, c in zip(grad, flow.terms[j], strict=True))) == 0
        for j in range(n)
    ]


@pytest.mark.parametrize(
    ("name", "series", "expected"),
    [
        ("explicit Euler", EXPLICIT_EULER.bseries(6), 1),
        ("implicit midpoint", IMPLICIT_MIDPOINT.bseries(6), 2),
        ("RK4", RK4.bseries(6), 4),
        ("Gauss 4", GAUSS4.bseries(6), 4),
        ("AVF", avf(6), 6),
    ],
)
def test_energy_preservation_order_matches_direct_evaluation(name, series, expected):
    assert energy_preservation_order(series) == expected
    conserved = energy_drift_orders(series, 6)
    assert all(conserved[:expected])
    if expected < 6:
        assert not conserved[expected]  # the first |τ| = expected + 1 term drifts


def test_avf_is_energy_preserving_but_not_symplectic():
    assert energy_preservation_order(avf(6)) == 6
    assert symplecticity_order(avf(6)) == 2


def test_free_trees_superfluous_and_signs():
    assert free_tree(((),))[0] is None  # • − • is superfluous
    bush, path = free_tree(((), ())), free_tree((((),),))
    assert bush[0] == path[0] and bush[1] == -path[1]  # one free tree, roots at odd distance
