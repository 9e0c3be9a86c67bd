"""Numeric modified flows: tree route vs Lie route, vs bea's exact sympy flows, vs closed forms."""

import numpy as np
import pytest
import sympy as sp

import bea
import bea.deep as bd
from bea.optim import Adam, Extragradient, HeavyBall, Nesterov, ProximalPoint, RMSProp

jnp = pytest.importorskip("jax.numpy")

a, b, c = sp.symbols("a b c")

#: (sympy loss, JAX loss, parameters, region) — the golden losses shared with the exact engine
LOSSES = {
    "two-parameter": (
        (sp.Rational(3, 5) - a * b) ** 2 / 2,
        lambda t: (0.6 - t[0] * t[1]) ** 2 / 2,
        [a, b],
    ),
    "three-parameter": (
        sp.log(1 + sp.exp(a)) + sp.sin(b) * c + c**2 / 2 + a**2 * b / 3,
        lambda t: (
            jnp.log1p(jnp.exp(t[0])) + jnp.sin(t[1]) * t[2] + t[2] ** 2 / 2 + t[0] ** 2 * t[1] / 3
        ),
        [a, b, c],
    ),
}

METHODS = [
    ("gd", "gd", 3),
    ("heavy ball, step time", HeavyBall("0.5"), 2),
    ("heavy ball, effective time", HeavyBall("0.9", time="effective"), 2),
    ("nesterov", Nesterov("0.5"), 1),
    ("proximal point", ProximalPoint(), 2),
    ("extragradient", Extragradient(), 2),
]


@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize(("label", "method", "order"), METHODS, ids=[m[0] for m in METHODS])
def test_numeric_terms_match_the_exact_flow(loss_name, label, method, order):
    expr, jax_loss, params = LOSSES[loss_name]
    exact = bea.modified_flow(expr, params, order, method=method)
    funcs = [sp.lambdify(params, term, "numpy") for term in exact.terms]
    rng = np.random.default_rng(1)
    prob = bd.Problem.from_function(jax_loss, np.zeros(len(params)))
    flow = bd.modified_flow(prob, method, order)
    for point in rng.uniform(-1.5, 1.5, size=(5, len(params))):
        got = flow.terms(point)
        for j, f in enumerate(funcs):
            want = np.asarray(f(*point), dtype=float).ravel()
            scale = max(np.linalg.norm(want), np.linalg.norm(got[0]))
            assert np.linalg.norm(got[j] - want) <= 1e-12 * scale, (label, j, point)


HALF, FIFTH, HUNDREDTH = sp.Rational(1, 2), sp.Rational(4, 5), sp.Rational(1, 100)


@pytest.mark.parametrize(
    "method", [Adam(HALF, FIFTH, HUNDREDTH), RMSProp(FIFTH, HUNDREDTH)], ids=["adam", "rmsprop"]
)
@pytest.mark.parametrize("order", [1, 2])
def test_adaptive_methods_on_their_slow_manifold_match_the_exact_flow(method, order):
    """Lie route through the numeric slow manifold vs bea's exact relation route (order 2 in
    about a second since the route computes in the ring). Tolerance: float64 rounding, amplified
    at order 2 by the nested Taylor-mode derivatives and the 1/√ε, β/(1 − β) coefficients
    (measured: 6.6e-11 for Adam, 1.5e-12 for RMSProp); a wrong term is off by O(1)."""
    expr, jax_loss, params = LOSSES["two-parameter"]
    exact = bea.modified_flow(expr, params, order, method=method)
    funcs = [sp.lambdify(params, term, "numpy") for term in exact.terms]
    flow = bd.modified_flow(bd.Problem.from_function(jax_loss, np.zeros(2)), method, order)
    assert flow.route == "lie"
    tol = 1e-12 if order == 1 else 1e-9
    for point in np.random.default_rng(2).uniform(-1.5, 1.5, size=(4, 2)):
        got = flow.terms(point)
        for j, f in enumerate(funcs):
            want = np.asarray(f(*point), dtype=float).ravel()
            scale = max(np.linalg.norm(want), np.linalg.norm(got[0]))
            assert np.linalg.norm(got[j] - want) <= tol * scale, (method.name, j, point)


@pytest.mark.parametrize(
    ("xs", "ys", "shuffle"),
    [([1.0, 2.0, -0.5], [0.6, 0.3, 0.2], False), ([1.0, 2.0], [0.6, 0.3], True)],
    ids=["fixed order", "mean over orders"],
)
def test_sgd_epochs_match_the_exact_flow(xs, ys, shuffle):
    """One example per mini-batch: bd.Epoch (Lie route on the epoch map) vs bea.optim.SGD."""
    from bea.optim import SGD

    C = [(sp.nsimplify(y) - a * b * sp.nsimplify(x)) ** 2 / 2 for x, y in zip(xs, ys, strict=True)]
    exact = bea.modified_flow(sum(C) / len(C), [a, b], 2, method=SGD(C, shuffle=shuffle))
    funcs = [sp.lambdify([a, b], term, "numpy") for term in exact.terms]

    def loss(p, batch):
        x, y = batch
        return jnp.mean((y - p[0] * p[1] * x) ** 2) / 2

    prob = bd.Problem.from_loss(loss, np.array([1.0, 0.5]), (np.array(xs), np.array(ys)))
    flow = bd.modified_flow(prob, bd.Epoch(prob, 1, shuffle=shuffle), 2)
    for point in ([1.0, 0.5], [-0.7, 1.2]):
        got = flow.terms(np.array(point))
        want = np.array([np.asarray(f(*point), dtype=float).ravel() for f in funcs])
        assert np.abs(got - want).max() <= 1e-12 * np.abs(want).max()
    if len(xs) == 3:
        with pytest.raises(bea.InputError, match="does not divide"):
            bd.modified_flow(prob, bd.Epoch(prob, 2), 1)


def test_adamw_is_refused_rather_than_taken_for_adam():
    prob = bd.Problem.from_function(LOSSES["two-parameter"][1], np.zeros(2))
    with pytest.raises(bea.InputError, match="no rule for adamw"):
        bd.modified_flow(prob, bea.optim.AdamW(HALF, FIFTH, HUNDREDTH, HUNDREDTH), 1)


def test_adam_needs_numeric_hyper_parameters():
    prob = bd.Problem.from_function(lambda t: t[0] ** 2, [1.0])
    with pytest.raises(bea.InputError, match="numeric hyper-parameters"):
        bd.modified_flow(prob, Adam(), 1)


def test_tree_and_lie_routes_agree_on_an_mlp(digits_mlp):
    assert digits_mlp.m >= 1000
    flow = bd.modified_flow(digits_mlp, "gd", 3)
    rel = flow.check_routes(digits_mlp.theta0)
    assert max(rel.values()) < 1e-12, rel
    # the check is live: a wrong coefficient is seen
    lie = flow.terms(digits_mlp.theta0, route="lie")
    assert np.linalg.norm(lie[2] * 1.000001 - lie[2]) > 1e-12 * np.linalg.norm(lie[2])


@pytest.mark.parametrize(("method", "order"), [("proximal-point", 2), ("RK4", 1)])
def test_routes_agree_for_other_one_step_methods(method, order):
    # the Lie route's compile time grows fast with the order (see docs): small orders here
    _, jax_loss, _ = LOSSES["two-parameter"]
    prob = bd.Problem.from_function(jax_loss, [0.3, -0.7])
    rel = bd.modified_flow(prob, method, order).check_routes(prob.theta0)
    assert max(rel.values()) < 1e-12, rel


def test_quadratic_closed_form():
    # E = θᵀAθ/2: GD follows θ̇ = log(I − hA)/h θ, so f_j = −A^{j+1}θ/(j+1)
    rng = np.random.default_rng(0)
    q = rng.normal(size=(5, 5))
    A = q @ q.T / 5 + np.eye(5)
    prob = bd.Problem.from_function(lambda t: 0.5 * t @ (jnp.asarray(A) @ t), rng.normal(size=5))
    terms = bd.modified_flow(prob, "gd", 4).terms(prob.theta0)
    for j in range(5):
        want = -np.linalg.matrix_power(A, j + 1) @ prob.theta0 / (j + 1)
        np.testing.assert_allclose(terms[j], want, rtol=1e-12)


def test_field_is_the_scaled_sum_of_terms():
    _, jax_loss, _ = LOSSES["two-parameter"]
    prob = bd.Problem.from_function(jax_loss, [0.5, 1.5])
    flow = bd.modified_flow(prob, "gd", 2)
    f = flow.terms(prob.theta0)
    np.testing.assert_allclose(flow.field(prob.theta0, 0.1, 1), f[0] + 0.1 * f[1], rtol=1e-14)
    np.testing.assert_allclose(flow.terms(prob.theta0, 0.1)[2], 0.01 * f[2], rtol=1e-14)


def test_user_step_uses_the_lie_route():
    _, jax_loss, _ = LOSSES["two-parameter"]
    prob = bd.Problem.from_function(jax_loss, [0.5, 1.5])

    def gd(theta, h, grad):
        return theta - h * grad(theta)

    user = bd.modified_flow(prob, gd, 3)
    assert user.route == "lie"
    np.testing.assert_allclose(
        user.terms(prob.theta0), bd.modified_flow(prob, "gd", 3).terms(prob.theta0), rtol=1e-12
    )
    with pytest.raises(bea.InputError, match="only the Lie route"):
        bd.modified_flow(prob, gd, 2, route="tree")


def test_momentum_has_no_lie_route():
    prob = bd.Problem.from_function(lambda t: t[0] ** 2, [1.0])
    with pytest.raises(bea.InputError, match="only the tree route"):
        bd.modified_flow(prob, HeavyBall("0.5"), 1, route="lie")
    with pytest.raises(bea.InputError, match="numeric hyper-parameters"):
        bd.modified_flow(prob, HeavyBall(), 1).terms(prob.theta0)
