"""The Taylor-route engine: literature values and residual checks, each by an independent route."""

from __future__ import annotations

import os

import pytest
import sympy as sp

import bea
from conftest import gradient, jac, naive_flow_expansion, second_derivative, truncate

a, b, c, x, y, h, t, lam = sp.symbols("a b c x y h t lam")

LOSSES = {
    "polynomial": ((y - a * b * x) ** 2 / 2, (a, b)),
    "trigonometric": (sp.sin(a) * sp.cos(b) + a**2 / 3, (a, b)),
    "three-parameter": (a**2 * b + b * c**3 + sp.Rational(1, 3) * c**4, (a, b, c)),
    "logistic": (sp.log(1 + sp.exp(-(a * x + b))), (a, b)),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gd_first_order_term_is_minus_half_hessian_times_gradient(name):
    loss, params = LOSSES[name]
    flow = bea.modified_flow(loss, params, order=1)
    g = gradient(loss, params)
    H = sp.hessian(loss, params)
    assert sp.simplify(flow.terms[0] + g) == sp.zeros(len(params), 1)
    assert sp.simplify(flow.terms[1] + H * g / 2) == sp.zeros(len(params), 1)
    # and it is -grad(|grad E|^2 / 4)
    assert sp.simplify(flow.terms[1] + gradient((g.T * g)[0] / 4, params)) == sp.zeros(
        len(params), 1
    )


def _rotating_field():
    """A non-gradient field (a damped rotation with a nonlinearity)."""
    return sp.Matrix([-b + a * b**2 - a**3, a + sp.sin(b) * a]), (a, b)


def test_explicit_euler_terms_hairer_lubich_wanner_on_a_non_gradient_field():
    f, state = _rotating_field()
    flow = bea.modified_equation(sp.Matrix(state) + h * f, state, h, order=3)
    fp = jac(f, state)
    assert not all(e == 0 for e in (fp - fp.T))  # really not a gradient field
    f1 = -fp * f / 2
    f2 = second_derivative(f, state, f, f) / 12 + fp * fp * f / 3
    fpf = fp * f
    f3 = (
        -second_derivative(f, state, fpf, f) / 12
        - fp * second_derivative(f, state, f, f) / 12
        - fp * fp * fp * f / 4
    )
    for got, want in zip(flow.terms[1:], (f1, f2, f3), strict=True):
        assert (got - want).applyfunc(sp.simplify) == sp.zeros(2, 1)


def test_explicit_euler_on_y_squared_matches_hairer_lubich_wanner():
    # HLW IX.1: y' = y^2 gives y' = y^2 - h y^3 + 3/2 h^2 y^4 - ...
    yy = sp.Symbol("yy")
    flow = bea.modified_equation(sp.Matrix([yy + h * yy**2]), [yy], h, order=2)
    assert flow.terms[1][0] == -(yy**3)
    assert flow.terms[2][0] == sp.Rational(3, 2) * yy**4


def test_one_dimensional_quadratic_matches_exact_logarithmic_rate_to_order_8():
    # GD on lam t^2/2 is t <- (1 - h lam) t, interpolated exactly by t' = log(1 - h lam)/h * t.
    order = 8
    flow = bea.modified_flow(lam * t**2 / 2, [t], order=order)
    rate = sp.series(sp.log(1 - h * lam) / h, h, 0, order + 1).removeO()
    for j in range(order + 1):
        assert sp.expand(flow.terms[j][0] - rate.coeff(h, j) * t) == 0


@pytest.mark.parametrize("K", [1, 2, 3, 4, 5])
def test_flow_of_truncated_field_reproduces_gd_step_to_order_K_plus_1(K):
    # residual check: phi_h of sum_{j<=K} h^j f_j equals the GD step up to O(h^{K+2}), and not to
    # O(h^{K+3}) (the h^{K+2} residual is non-zero)
    loss = (sp.Rational(3, 5) - a * b) ** 2 / 2
    flow = bea.modified_flow(loss, [a, b], order=K)
    step = sp.Matrix([a, b]) - h * gradient(loss, [a, b])
    phi = naive_flow_expansion(flow.vector_field(), (a, b), h, K + 2)
    residual = (phi - step).applyfunc(sp.expand)
    for comp in residual:
        poly = sp.Poly(comp, h)
        assert all(m >= K + 2 for (m,), _ in poly.terms())
    assert any(truncate(comp, h, K + 2) != 0 for comp in residual)


def test_general_map_nonpolynomial_in_h_heun_method():
    # Heun's method (order 2) on y' = f: its modified field has f_1 = 0.
    f, state = _rotating_field()
    y0 = sp.Matrix(state)
    k1 = f
    k2 = f.subs({a: a + h * k1[0], b: b + h * k1[1]}, simultaneous=True)
    step = y0 + h / 2 * (k1 + k2)
    flow = bea.modified_equation(step, state, h, order=2)
    assert flow.terms[1].applyfunc(sp.simplify) == sp.zeros(2, 1)
    phi = naive_flow_expansion(flow.vector_field(), state, h, 3)
    taylor = sp.Matrix([sp.series(s, h, 0, 4).removeO() for s in step])
    assert (phi - taylor).applyfunc(sp.simplify) == sp.zeros(2, 1)


def test_map_with_extra_parameters_and_larger_state():
    # heavy-ball-like map on (theta, v) with a symbolic beta: the engine accepts any smooth map
    beta, v = sp.symbols("beta v")
    step = sp.Matrix([t + h * v, v - h * (t + beta * v)])
    flow = bea.modified_equation(step, [t, v], h, order=2)
    assert flow.terms[0] == sp.Matrix([v, -t - beta * v])
    assert beta in flow.terms[2].free_symbols


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(order=-1), "order must be >= 0"),
        (dict(order=1.5), "whole number"),
        (dict(order=True), "whole number"),
    ],
)
def test_bad_order_is_rejected(kwargs, message):
    with pytest.raises(bea.InputError, match=message):
        bea.modified_equation(sp.Matrix([t - h * t]), [t], h, **kwargs)


def test_bad_maps_are_rejected():
    with pytest.raises(bea.InputError, match="not consistent"):
        bea.modified_equation(sp.Matrix([2 * t + h]), [t], h, 1)
    with pytest.raises(bea.InputError, match="column of 2"):
        bea.modified_equation(sp.Matrix([t]), [t, a], h, 1)
    with pytest.raises(bea.InputError, match="cannot also be a state"):
        bea.modified_equation(sp.Matrix([h]), [h], h, 1)
    with pytest.raises(bea.InputError, match="not smooth"):
        bea.modified_equation(sp.Matrix([t - h * sp.Abs(t)]), [t], h, 1)


def test_gmpy2_and_pure_python_rationals_give_the_same_terms():
    """gmpy2 is a dependency for speed only: sympy's pure-Python rationals (a child process with
    SYMPY_GROUND_TYPES=python) give the same terms, on the Taylor route and the relation route."""
    import subprocess
    import sys

    from sympy.external.gmpy import GROUND_TYPES

    assert GROUND_TYPES == "gmpy"  # the dependency is installed and used here
    script = (
        "import sympy as sp, bea\n"
        "a, b, x = sp.symbols('a b x')\n"
        "E = sp.log(1 + sp.exp(-(a * x + b))) + a**2 * sp.tanh(b) / 3\n"
        "gd = bea.modified_flow(E, [a, b], 3)\n"
        "hb = bea.modified_flow(E, [a, b], 2, method=bea.optim.HeavyBall(sp.Rational(1, 2)))\n"
        "from sympy.external.gmpy import GROUND_TYPES\n"
        "print(GROUND_TYPES)\n"
        "print(sp.srepr([list(t) for t in gd.terms] + [list(t) for t in hb.terms]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SYMPY_GROUND_TYPES"}
    outputs = {}
    for kind in ("python", "gmpy"):
        proc = subprocess.run(
            [sys.executable, "-c", script],
            env={**env, "SYMPY_GROUND_TYPES": kind},
            capture_output=True,
            text=True,
            check=True,
        )
        used, terms = proc.stdout.splitlines()
        assert used == kind
        outputs[kind] = terms
    assert outputs["python"] == outputs["gmpy"]
    assert "tanh" in outputs["python"] and len(outputs["python"]) > 1000
