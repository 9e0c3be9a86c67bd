"""R_IG, the modified losses, EGR's gradient, HVPs, Taylor mode and the top eigenvalue."""

import numpy as np
import pytest
import sympy as sp

import bea
import bea.deep as bd
from bea.optim import HeavyBall

jax = pytest.importorskip("jax")
jnp = jax.numpy


def test_hvp_forward_and_reverse_agree(digits_mlp):
    with bd.scope():
        theta = digits_mlp.cast(digits_mlp.theta0)
        v = jnp.asarray(np.random.default_rng(0).normal(size=digits_mlp.m))
        fwd = bd.hvp(digits_mlp.energy, theta, v)
        rev = bd.hvp(digits_mlp.energy, theta, v, mode="reverse")
        assert float(jnp.linalg.norm(fwd - rev) / jnp.linalg.norm(fwd)) < 1e-13


def test_jet_and_nested_jvp_agree(digits_mlp):
    with bd.scope():
        theta = digits_mlp.cast(digits_mlp.theta0)
        grad = jax.grad(digits_mlp.energy)

        def step(t, h):  # extragradient: Taylor coefficients of every order are non-zero
            return t - h * grad(t - h * grad(t))

        a = bd.taylor_in_h(step, theta, 3)
        b = bd.taylor_in_h(step, theta, 3, use_jet=False)
        for x, y in zip(a, b, strict=True):
            assert float(jnp.linalg.norm(x - y)) <= 1e-13 * float(jnp.linalg.norm(x))


def test_egr_gradient_exact_against_finite_differences(digits_mlp):
    mu = 50.0
    with bd.scope():
        theta = digits_mlp.cast(digits_mlp.theta0)
        exact = bd.egr_gradient(digits_mlp, mu)(theta)
        central = bd.egr_gradient(digits_mlp, mu, mode="central")(theta)
        forward = bd.egr_gradient(digits_mlp, mu, mode="forward")(theta)
        # and against the gradient of E + μ R_IG taken directly
        direct = jax.grad(
            lambda t: (
                digits_mlp.energy(t)
                + mu
                * jnp.vdot(jax.grad(digits_mlp.energy)(t), jax.grad(digits_mlp.energy)(t))
                / digits_mlp.m
            )
        )(theta)
    exact = np.asarray(exact)
    rel = lambda x: np.linalg.norm(np.asarray(x) - exact) / np.linalg.norm(exact)  # noqa: E731
    assert rel(direct) < 1e-13
    # ε = 0.01/‖∇E‖: central differences are second order (measured 6e-6), forward first order
    assert rel(central) < 3e-5
    assert rel(forward) < 1e-2
    assert rel(central) < rel(forward) / 10


def test_r_ig_and_the_igr_loss():
    prob = bd.Problem.from_function(lambda t: (0.6 - t[0] * t[1]) ** 2 / 2, [2.8, 3.5])
    g = prob.gradient(prob.theta0)
    assert bd.r_ig(prob, prob.theta0) == pytest.approx(g @ g / 2, rel=1e-15)
    h = 0.01
    with bd.scope():
        loss = bd.igr_loss(prob, h)(prob.cast(prob.theta0))
    # E + λ R_IG with λ = hm/4
    assert float(loss) == pytest.approx(
        prob.loss(prob.theta0) + h * 2 / 4 * bd.r_ig(prob, prob.theta0)
    )


def test_modified_loss_gradient_is_the_modified_field():
    # −∇(E + (h/4)|∇E|²) = f₀ + h f₁ of GD; likewise heavy ball with its exact coefficients
    prob = bd.Problem.from_function(
        lambda t: (0.6 - t[0] * t[1]) ** 2 / 2 + t[0] ** 4 / 8, [0.7, 1.3]
    )
    h = 0.05
    for method in ("gd", HeavyBall("0.5"), "proximal-point"):
        with bd.scope():
            grad = jax.grad(bd.first_order_loss(prob, h, method))(prob.cast(prob.theta0))
        field = bd.modified_flow(prob, method, 1).field(prob.theta0, h)
        np.testing.assert_allclose(-np.asarray(grad), field, rtol=1e-12)


def test_penalty_coefficients_literature():
    beta = sp.Rational(9, 10)
    s, c = bd.penalty_coefficients(HeavyBall("0.9"))
    assert (s, c) == (1 / (1 - beta), (1 + beta) / (4 * (1 - beta) ** 3))  # Ghosh et al. 2023
    assert bd.penalty_coefficients("proximal-point")[1] == sp.Rational(-1, 4)
    with pytest.raises(bea.InputError):
        bd.penalty_coefficients("adam")


def test_top_eigenvalue_and_edge():
    prob = bd.problem("teacher", bd.mlp([3, 4, 1]), n_train=50, inputs=3)
    with bd.scope():
        theta = prob.cast(prob.theta0)
        H = np.asarray(jax.hessian(prob.energy)(theta))
    lam = np.linalg.eigvalsh(H).max()
    assert bd.stability_edge(prob, prob.theta0) == pytest.approx(2 / lam, rel=1e-6)


def test_sgd_loss_matches_bea_exact_shuffled_sgd():
    # four data points, two mini-batches of two: C_k = mean over the batch of (w x + c − y)²/2
    from bea.optim import SGD

    xs, ys = [sp.Rational(1), sp.Rational(2), sp.Rational(-1), sp.Rational(1, 2)], [1, 0, 2, -1]
    w, c = sp.symbols("w c")
    C = [sum((w * xs[i] + c - ys[i]) ** 2 / 2 for i in (2 * k, 2 * k + 1)) / 2 for k in range(2)]
    exact = bea.modified_flow((C[0] + C[1]) / 2, [w, c], 1, method=SGD(C, shuffle=True))
    h = 0.05
    field = sp.lambdify([w, c], exact.terms[0] + h * exact.terms[1], "numpy")
    x = np.array([[float(v)] for v in xs])
    prob = bd.Problem.from_loss(
        lambda p, b: 0.5 * jnp.mean((p[0] * b[0][:, 0] + p[1] - b[1]) ** 2),
        np.zeros(2),
        (x, np.array(ys, dtype=float)),
    )
    loss = bd.sgd_loss(prob, h, batch_size=2)
    for point in np.random.default_rng(2).uniform(-2, 2, size=(4, 2)):
        with bd.scope():
            grad = np.asarray(jax.grad(loss)(prob.cast(point)))
        np.testing.assert_allclose(-grad, np.asarray(field(*point), float).ravel(), rtol=1e-12)
