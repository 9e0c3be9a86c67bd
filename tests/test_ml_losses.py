"""Modified losses of ordinary ML losses (logistic regression, a tanh MLP, linear regression with
symbolic data) come out in seconds, with no symbolic simplification or integration on the path:
the potential is recognised from the loss's elementary potentials and checked by an identity
test (Barrett & Dherin's order-1 result, E + (h/4)‖∇E‖², is the independent check)."""

from __future__ import annotations

import pytest
import sympy as sp

import bea
from bea.diffring import DiffRing


def logistic():
    w1, w2 = sp.symbols("w1 w2")
    data = [((1, 2), 1), ((-1, sp.Rational(1, 2)), -1)]
    loss = sum(sp.log(1 + sp.exp(-t * (w1 * u + w2 * v))) for (u, v), t in data) / 2
    return loss, [w1, w2]


def tanh_mlp():
    """A 2-2-1 tanh network (9 weights) on 3 samples, squared loss."""
    W, B, V, c = sp.symbols("w0:4"), sp.symbols("b0:2"), sp.symbols("v0:2"), sp.Symbol("c")
    data = [((1, 0), sp.Rational(1, 2)), ((0, 1), -1), ((1, 1), sp.Rational(1, 4))]
    loss = 0
    for (u1, u2), t in data:
        z1 = sp.tanh(W[0] * u1 + W[1] * u2 + B[0])
        z2 = sp.tanh(W[2] * u1 + W[3] * u2 + B[1])
        loss += (V[0] * z1 + V[1] * z2 + c - t) ** 2 / 2
    return loss / 3, [*W, *B, *V, c]


def linear_regression():
    """10 weights, symbolic data x0..x9, y."""
    w, x, y = sp.symbols("w0:10"), sp.symbols("x0:10"), sp.Symbol("y")
    return (y - sum(a * b for a, b in zip(w, x, strict=True))) ** 2 / 2, list(w)


LOSSES = {"logistic": logistic, "tanh-mlp": tanh_mlp, "linear-regression": linear_regression}


@pytest.fixture
def no_simplify(monkeypatch):
    """simplify, integrate and cancel must not be called on the modified-loss path, nor factor on
    anything but a small rational function (the cosmetic polynomial factorisation of a result,
    bounded by TIDY_MAX_OPS): never on an expression with exp, log or tanh."""
    from bea.flow import TIDY_MAX_OPS, _is_rational_function

    def refuse(*args, **kwargs):
        raise AssertionError("a general simplification was called on the modified-loss path")

    for name in ("simplify", "integrate", "cancel"):
        monkeypatch.setattr(sp, name, refuse)
    factor = sp.factor

    def small_rational_only(expr, *args, **kwargs):
        if not _is_rational_function(expr) or sp.count_ops(expr) > TIDY_MAX_OPS:
            raise AssertionError(f"factor called on {str(expr)[:60]}")
        return factor(expr, *args, **kwargs)

    monkeypatch.setattr(sp, "factor", small_rational_only)


@pytest.mark.parametrize("name", list(LOSSES))
def test_order_one_modified_loss_is_the_paper_formula(name, no_simplify):
    loss, params = LOSSES[name]()
    flow = bea.modified_flow(loss, params, order=1)
    assert flow.first_non_gradient() is None
    h = flow.h
    paper = loss + h / 4 * sum(sp.diff(loss, p) ** 2 for p in params)
    diff = sp.expand(flow.modified_loss() - paper)
    ring = DiffRing([diff], params)
    assert ring.vanishes(ring.to_ring(diff))


def test_ten_parameter_non_polynomial_loss_at_order_one(no_simplify):
    """The hostile sweep's unbounded case: 10 parameters, exp, log and sin, order 1 (it ran past
    200 s when potentials were integrated one variable at a time). Now read off the ring without
    sympy's integrator, and equal to the paper's formula."""
    w = sp.symbols("w0:10")
    loss = (
        sp.log(1 + sp.exp(-sum((i + 1) * wi for i, wi in enumerate(w))))
        + sum(wi**2 for wi in w) / 10
        + sum(sp.sin(wi) for wi in w) / 3
    )
    flow = bea.modified_flow(loss, list(w), order=1)
    paper = loss + flow.h / 4 * sum(sp.diff(loss, p) ** 2 for p in w)
    diff = sp.expand(flow.modified_loss() - paper)
    ring = DiffRing([diff], list(w))
    assert ring.vanishes(ring.to_ring(diff))


@pytest.mark.parametrize("name", ["logistic", "linear-regression"])
def test_order_two_gradient_test(name, no_simplify):
    loss, params = LOSSES[name]()
    flow = bea.modified_flow(loss, params, order=2)
    flags = [flow.is_gradient(j) for j in range(3)]
    assert flags[:2] == [True, True]
    if name == "linear-regression":  # a quadratic loss: every term is a gradient field
        assert flags[2]
        # GD: f₂ = −(1/3) H²∇E − (1/12) ∇³E[∇E, ∇E]; for a quadratic loss H is constant, the
        # second term vanishes and H²∇E = ∇(½ ∇Eᵀ H ∇E), so V₂ = (1/6) ∇Eᵀ H ∇E
        g = sp.Matrix([sp.diff(loss, p) for p in params])
        H = sp.hessian(loss, params)
        assert sp.expand(flow.potential(2) - (g.T * H * g)[0] / 6) == 0


def test_the_identity_test_catches_a_wrong_potential():
    loss, params = logistic()
    flow = bea.modified_flow(loss, params, order=1)
    wrong = flow.modified_loss() + flow.h * sp.exp(-params[0]) / 1000
    diff = sp.expand(wrong - loss - flow.h / 4 * sum(sp.diff(loss, p) ** 2 for p in params))
    ring = DiffRing([diff], params)
    assert ring.vanishes(ring.to_ring(diff)) is False


def test_order_two_of_the_tanh_mlp_is_not_a_gradient_and_the_curl_says_why(no_simplify):
    """GD: f₂ = −(1/12) ∇(∇Eᵀ H ∇E) − (1/6) H²∇E, so f₂ is a gradient exactly when K = H²∇E is.
    The curl of K is computed here without bea (sympy's Hessian, central differences in mpmath at
    50 digits) and is far from zero, as the exact test in the ring says."""
    import mpmath

    loss, params = tanh_mlp()
    flow = bea.modified_flow(loss, params, order=2)
    assert [flow.is_gradient(j) for j in range(3)] == [True, True, False]
    assert flow.first_non_gradient() == 2
    g = sp.Matrix([sp.diff(loss, p) for p in params])
    grad = sp.lambdify(params, g, "mpmath")
    hess = sp.lambdify(params, sp.hessian(loss, params), "mpmath")

    def K(*theta, power=2):
        H = mpmath.matrix(hess(*theta))
        return H**power * mpmath.matrix(grad(*theta))

    point = [mpmath.mpf(k) / 7 for k in (1, -2, 3, 1, -1, 2, 3, -2, 1)]
    with mpmath.workdps(50):
        step = mpmath.mpf(10) ** -20

        def curl(power):
            J = []  # J[i][j] = dK_j / dθ_i, by central differences
            for i in range(len(params)):
                up, down = list(point), list(point)
                up[i] += step
                down[i] -= step
                J.append((K(*up, power=power) - K(*down, power=power)) / (2 * step))
            return max(abs(J[i][j] - J[j][i]) for i in range(9) for j in range(i))

        assert curl(2) > 1e-3
        assert curl(1) < 1e-30  # the control: H∇E = ∇(|∇E|²/2) is a gradient (f₁ = −H∇E/2)
