"""Potentials with no closed form among the loss's own are the exact ray integral
V(θ) = −∫₀¹ f_j(θ₀ + t(θ − θ₀))·(θ − θ₀) dt, left unevaluated: no integrator runs on the path of
``potential`` or ``modified_loss`` (issue 19). Checked independently: ∇V by sympy's Leibniz rule
and mpmath quadrature against −f_j; sympy's closed form (``closed_form=True``) differs by a
constant; jax.grad of the exported modified loss (64-point Gauss–Legendre) is the modified field;
the JSON round trip and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from test_ml_losses import logistic, no_simplify  # noqa: F401  (a fixture)

import bea
from bea.cli import main
from bea.errors import InputError
from bea.parsing import parse_expression

w, u = sp.symbols("w u")
POINTS = [(sp.Rational(3, 10), sp.Rational(-7, 10)), (sp.Rational(6, 5), sp.Rational(1, 3))]


def _at(expr, values, digits=30):
    return sp.N(expr.xreplace(values), digits)


def _gradient_matches(V, field, params, point, tol=1e-20):
    """∇V (sympy differentiates under the integral sign; mpmath integrates) equals −f_j."""
    values = dict(zip(params, point, strict=True))
    for p, f in zip(params, field, strict=True):
        got = _at(sp.diff(V, p), values)
        want = -_at(f, values)
        assert abs(got - want) < tol * (1 + abs(want)), (p, got, want)


def test_logistic_order_two_potential_is_a_ray_integral_without_any_integrator(no_simplify):  # noqa: F811
    # the test's two samples are orthogonal, so the loss separates and f_2 is a gradient field;
    # its potential contains ∫E′E″², which is no combination of E, ‖∇E‖², ∇EᵀH∇E
    loss, params = logistic()
    flow = bea.modified_flow(loss, params, order=2)
    assert flow.first_non_gradient() is None
    V2 = flow.potential(2)
    assert isinstance(V2, sp.Integral) and V2.limits[0][1:] == (0, 1)
    assert not (V2.free_symbols - set(params))
    L = flow.modified_loss()
    assert L.has(sp.Integral) and L.coeff(flow.h**2) == V2
    # vanishes at its base point, the origin
    assert V2.xreplace(dict.fromkeys(params, 0)).doit() == 0


def test_the_ray_potential_has_the_right_gradient():
    loss, params = logistic()
    flow = bea.modified_flow(loss, params, order=2)
    for point in POINTS:
        _gradient_matches(flow.potential(2), flow.terms[2], params, point)


def test_a_wrong_field_fails_the_gradient_check():
    # the check above can fail: the same ray integral of a perturbed field is rejected
    loss, params = logistic()
    flow = bea.modified_flow(loss, params, order=2)
    V = flow.potential(2)
    (t,) = V.variables
    wrong = sp.Integral(V.function + t * params[0] * params[1] / 10, (t, 0, 1))
    with pytest.raises(AssertionError):
        _gradient_matches(wrong, flow.terms[2], params, POINTS[0])


def test_closed_form_on_request_differs_by_a_constant():
    flow = bea.modified_flow(sp.log(1 + sp.exp(-w)), [w], order=2)
    ray, closed = flow.potential(2), flow.potential(2, closed_form=True)
    assert ray.has(sp.Integral) and not closed.has(sp.Integral)
    diffs = [_at(ray - closed, {w: x}) for x in (sp.Rational(-3, 2), 0, sp.Rational(5, 2))]
    assert max(diffs) - min(diffs) < 1e-25
    loss = flow.modified_loss(closed_form=True)
    assert not loss.has(sp.Integral)
    assert bea.modified_loss(sp.log(1 + sp.exp(-w)), [w], order=2, closed_form=True) == loss


def test_a_field_singular_at_the_origin_integrates_from_another_base_point():
    # E = w + 1/w: f_2 is singular at 0, so the ray starts at w = 1 (where V vanishes)
    flow = bea.modified_flow(w + 1 / w + sp.exp(w) / 5, [w], order=2)
    V = flow.potential(2)
    assert isinstance(V, sp.Integral)
    assert V.xreplace({w: 1}).doit() == 0
    _gradient_matches(V, flow.terms[2], [w], (sp.Rational(7, 4),))


def test_the_ray_variable_avoids_the_users_names():
    t = sp.Symbol("t")
    flow = bea.modified_flow(sp.log(1 + sp.exp(-t)), [t], order=2)
    V = flow.potential(2)
    (var,) = V.variables
    assert var.name not in {"t", "h"}
    _gradient_matches(V, flow.terms[2], [t], (sp.Rational(1, 2),))


def test_export_evaluates_the_integral_by_quadrature():
    loss, params = logistic()
    flow = bea.modified_flow(loss, params, order=2)
    L = flow.to_function(what="loss")
    h = sp.Rational(1, 10)
    pts = np.array([[0.3, -0.7], [2.0, 1.0], [-3.0, 4.0]])
    want = [
        float(
            _at(
                flow.modified_loss(),
                {params[0]: sp.nsimplify(x), params[1]: sp.nsimplify(y), flow.h: h},
            )
        )
        for x, y in pts
    ]
    np.testing.assert_allclose(L(pts, 0.1), want, rtol=1e-13)
    assert L(pts[0], 0.1).shape == ()
    # the numeric layer compiles the same expression the same way
    F = bea.numeric.compile_expressions([flow.modified_loss()], params, h=flow.h)
    np.testing.assert_allclose(F(pts, 0.1)[..., 0], want, rtol=1e-13)
    np.testing.assert_allclose(F(pts[:, None, :], np.array([0.1, 0.2]))[:, 0, 0], want, rtol=1e-13)


def test_jax_gradient_of_the_exported_modified_loss_is_the_modified_field():
    jax = pytest.importorskip("jax")
    loss, params = logistic()
    flow = bea.modified_flow(loss, params, order=2)
    with jax.enable_x64(True):
        L = flow.to_function("jax", what="loss")
        F = flow.to_function("jax", what="field")
        pts, h = jax.numpy.asarray([[0.3, -0.7], [2.0, 1.0], [-1.5, 0.5]]), 0.2
        grads = np.asarray(jax.vmap(jax.grad(lambda t: L(t, h)))(pts))
        np.testing.assert_allclose(np.asarray(F(pts, h)), -grads, rtol=1e-12, atol=1e-14)


def test_json_round_trip_keeps_the_integral(capsys):
    loss = "log(1 + exp(-w1 - 2*w2)) + log(1 + exp(-w1 + w2/2))"
    assert main(["derive", loss, "--params", "w1", "w2", "--order", "2", "--format", "json"]) == 0
    text = capsys.readouterr().out
    back = bea.load_json(text)
    flow = bea.modified_flow(parse_expression(loss), sp.symbols("w1 w2"), order=2)
    assert back["modified_loss"].has(sp.Integral)
    (got,), (want,) = (
        back["modified_loss"].atoms(sp.Integral),
        flow.modified_loss().atoms(sp.Integral),
    )
    assert got.variables == want.variables and sp.expand(got.function - want.function) == 0
    assert sp.expand(back["modified_loss"] - flow.modified_loss()) == 0
    assert json.loads(text)["modified_loss"].count("Integral(") == 1


def test_the_cli_says_what_the_integral_is_and_closes_it_on_request(capsys):
    args = ["derive", "log(1 + exp(-w))", "--params", "w", "--order", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Integral(" in out and "--closed-form" in out
    assert main([*args, "--closed-form"]) == 0
    out = capsys.readouterr().out
    assert "Integral(" not in out and "E~ = " in out


@pytest.mark.parametrize(
    "text, message",
    [
        ("Integral(w, (t, 0, 1))", "unknown function"),  # not accepted in a loss
    ],
)
def test_losses_never_hold_integrals(text, message):
    with pytest.raises(InputError, match=message):
        parse_expression(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("Integral(w, t)", "must read"),
        ("Integral(w, (t, 0))", "must read"),
        ("Integral(w, (t, 0, u))", "bounds"),
        ("Integral(Integral(w, (s, 0, 1)), (t, 0, 1))", "nested"),
        ("Integral(__import__('os'), (t, 0, 1))", "never accepted"),
        ("Integral(w, (t.x, 0, 1))", "must read"),
    ],
)
def test_the_integral_reader_is_strict(text, message):
    with pytest.raises(InputError, match=message):
        parse_expression(text, integrals=True)


def test_the_integral_reader_binds_its_variable():
    t = sp.Symbol("t")  # an outer t stays a separate symbol
    expr = parse_expression("t + Integral(t*w, (t, 0, 1))", [t, w], integrals=True)
    outer, integral = sorted(expr.args, key=lambda e: e.has(sp.Integral))
    assert outer == t and integral.variables[0] != t
    assert integral.doit() == w / 2


def test_hamiltonians_are_closed_by_default_and_a_ray_integral_on_request():
    q, p, h = sp.symbols("q p h")
    p1 = p - h * sp.sin(q)  # symplectic Euler on the pendulum
    flow = bea.modified_equation(sp.Matrix([q + h * p1, p1]), [q, p], h, order=2)
    H = p**2 / 2 - sp.cos(q)
    closed = flow.hamiltonian(2, hamiltonian=H)
    ray = flow.hamiltonian(2, hamiltonian=H, closed_form=False)
    assert not closed.has(sp.Integral) and ray.has(sp.Integral)
    points = [{q: sp.Rational(1, 3), p: sp.Rational(-2, 5)}, {q: 2, p: sp.Rational(3, 2)}]
    a, b = (_at(ray - closed, pt) for pt in points)
    assert abs(a - b) < 1e-25
    assert flow.modified_hamiltonian(hamiltonian=H, closed_form=False).has(sp.Integral)


@pytest.mark.parametrize(
    "loss",
    [sp.tanh(w - 1) ** 2 / 2 + w**2 / 10, sp.log(1 + sp.exp(-w)) + sp.exp(w) / 7],
    ids=["tanh", "exp-log"],
)
def test_one_dimensional_losses_to_order_three_without_any_integrator(loss, no_simplify):  # noqa: F811
    # in one dimension every term is a gradient field, so every order has a modified loss
    flow = bea.modified_flow(loss, [w], order=3)
    Lt = flow.modified_loss()
    for j in (2, 3):
        _gradient_matches(flow.potential(j), flow.terms[j], [w], (sp.Rational(4, 5),))
    assert Lt.coeff(flow.h**3) == flow.potential(3)


def test_exported_quadrature_broadcasts_over_array_constants():
    # a constant given as an array of three values, θ a single point: three losses
    x = sp.Symbol("x")
    flow = bea.modified_flow(sp.log(1 + sp.exp(-x * w)), [w], order=2)
    assert flow.potential(2).has(sp.Integral)
    xs = np.array([0.5, 1.0, 2.0])
    point = {w: sp.Rational(7, 10), flow.h: sp.Rational(1, 10)}
    want = [float(_at(flow.modified_loss(), {**point, x: sp.nsimplify(v)})) for v in xs]
    got = flow.to_function(what="loss")(np.array([0.7]), 0.1, x=xs)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        got = flow.to_function("jax", what="loss")(jax.numpy.asarray([0.7]), 0.1, x=xs)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


def test_integrals_bea_cannot_evaluate_are_refused_in_one_line():
    from bea.codegen import function_source

    t = sp.Symbol("t")
    bad = sp.Integral(w * t, (t, 0, w))  # a symbolic bound
    with pytest.raises(InputError, match="bounds are symbolic"):
        bea.numeric.compile_expressions([bad], [w])
    with pytest.raises(InputError, match="bounds are symbolic"):
        function_source("f", [[bad]], [w], sp.Symbol("h"), vector=False)
