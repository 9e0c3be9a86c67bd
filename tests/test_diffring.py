"""The exact differential ring on its own: derivations against sympy's diff, closure of the atoms,
round trips, the one function table shared with the parser."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import bea
from bea.diffring import DiffRing
from bea.functions import ELEMENTARY, FUNCTIONS, NON_SMOOTH, SMOOTH_FUNCTIONS
from bea.parsing import parse_expression

a, b, c = sp.symbols("a b c")

EXPRESSIONS = [
    sp.log(1 + sp.exp(-a * b)) + (a**2 + b**2) / 10,
    sp.tanh(a * c) * sp.sin(b) / (1 + a**2),
    sp.sqrt(1 + a**2 + b**2) + sp.atan(a - b),
    sp.erf(a) * sp.cosh(b) + c**3,
    (a + 2) ** sp.Rational(3, 2) * sp.asinh(b),
    2**a * sp.exp(sp.sin(b)),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_derivations_agree_with_sympy_diff_to_third_order(expr):
    R = DiffRing([expr], [a, b])
    p = R.to_ring(expr)
    for idx in [(0,), (1,), (0, 1), (1, 1, 0), (0, 0, 0)]:
        q, ref = p, expr
        for i in idx:
            q, ref = R.diff(q, i), sp.diff(ref, (a, b)[i])
        at = {a: sp.Rational(3, 7), b: sp.Rational(-2, 5), c: sp.Rational(5, 4)}
        assert abs(sp.N((R.to_sympy(q) - ref).xreplace(at), 50)) < 1e-40


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_round_trip_through_the_ring_is_the_same_function(expr):
    R = DiffRing([expr], [a, b])
    back = R.to_sympy(R.to_ring(expr))
    at = {a: sp.Rational(1, 3), b: sp.Rational(2, 9), c: 3}
    assert abs(sp.N((back - expr).xreplace(at), 50)) < 1e-40


def test_constants_are_not_differentiated_and_polynomials_have_no_atoms():
    R = DiffRing([a**2 * c + b], [a, b])
    p = R.to_ring(a**2 * c + b)
    assert R.to_sympy(R.diff(p, 0)) == 2 * a * c and R.is_polynomial(p)
    assert not R.depends_on_atoms and R.constants == (c,)


def test_non_smooth_and_unknown_functions_are_refused():
    for f in (sp.Abs(a), sp.sign(a), sp.Max(a, b), sp.floor(a)):
        with pytest.raises(bea.InputError, match="not smooth"):
            DiffRing([f], [a])
    with pytest.raises(bea.InputError, match="cannot differentiate"):
        DiffRing([sp.gamma(a)], [a])


def test_one_function_table_for_the_parser_and_the_ring():
    assert set(SMOOTH_FUNCTIONS) == {cls for cls, _ in ELEMENTARY.values()}
    for name, (cls, _) in ELEMENTARY.items():
        parsed = parse_expression(f"{name}(a)")
        assert isinstance(parsed, cls) and FUNCTIONS[name] is cls
    assert not set(NON_SMOOTH) & set(SMOOTH_FUNCTIONS)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=6, max_size=6))
def test_product_and_chain_rules_on_random_polynomials_in_atoms(k):
    u = k[0] * a + k[1] * b + 1
    expr = sp.exp(u) * (k[2] * a**2 + k[3]) + sp.log(1 + u**2) * k[4] + k[5] * sp.tanh(b)
    R = DiffRing([expr], [a, b])
    d = R.to_sympy(R.diff(R.to_ring(expr), 1))
    at = {a: sp.Rational(1, 5), b: sp.Rational(-1, 3)}
    assert abs(sp.N((d - sp.diff(expr, b)).xreplace(at), 40)) < 1e-30


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(-4, 4), min_size=4, max_size=4), min_size=1, max_size=4).map(
        lambda rows: rows + [[-x for x in rows[0]]]
    )
)
def test_dot_is_the_sum_of_the_products(rows):
    """Including zeros and a last pair that cancels the first: the in-place sum strips zeros."""
    R = DiffRing([sp.exp(a) + sp.tanh(b)], [a, b])
    E, T = R.to_ring(sp.exp(a)), R.to_ring(sp.tanh(b))
    x, y = R.to_ring(a), R.to_ring(b)
    us = [k0 * x * E + k1 * y**2 + k2 * T for k0, k1, k2, _ in rows]
    vs = [R.ring(0) if k3 == 0 else k3 * (x + T) for *_, k3 in rows]
    vs[-1] = vs[0]
    want = sum((u * v for u, v in zip(us, vs, strict=True)), R.ring.zero)
    got = R.dot(us, vs)
    assert got == want and all(coeff != 0 for coeff in got.values())
    with pytest.raises(ValueError):
        R.dot(us, vs[:-1])


def test_an_intermediate_expression_above_the_term_limit_is_a_clear_error(monkeypatch, capsys):
    import bea.diffring
    from bea.cli import main

    a, b = sp.symbols("a b")
    loss = (1 + a + b) ** 6  # f_0 has 21 terms per component, f_1 more
    assert bea.modified_flow(loss, [a, b], 1)  # fine under the default limit
    monkeypatch.setattr(bea.diffring, "MAX_TERMS", 20)
    with pytest.raises(bea.InputError, match="above the limit of 20 .*MAX_TERMS"):
        bea.modified_flow(loss, [a, b], 1)
    assert main(["derive", "(1 + a + b)**6", "--params", "a", "b", "--order", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bea: error: an intermediate expression") and "\n" not in err
