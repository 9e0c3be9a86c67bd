"""The stochastic modified equation of SGD with replacement (Li, Tai & E): drift, diffusion and
weak order, each checked by a second route."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.linalg
import sympy as sp

import bea
from bea.optim import SGD

a, b, h = sp.symbols("a b h")


def _grad(expr, params):
    return sp.Matrix([sp.diff(expr, p) for p in params])


# ----------------------------------------------------------------------------- the derivation
def test_drift_is_the_papers_modified_loss_gradient():
    losses = [(a * b - 1) ** 2 / 2, sp.exp(a) / 3 + b**2, sp.sin(a * b) + a**2 / 5]
    sme = bea.stochastic_modified_equation(losses, [a, b])
    E = sum(losses) / 3
    g = _grad(E, [a, b])
    by_hand = E + h / 4 * (g.T * g)[0]  # Li, Tai & E: drift −∇(E + (h/4)‖∇E‖²)
    for d, p in zip(sme.drift, [a, b], strict=True):
        assert sp.simplify(d + sp.diff(by_hand, p)) == 0
    first = bea.stochastic_modified_equation(losses, [a, b], order=1)
    assert all(sp.simplify(d + gi) == 0 for d, gi in zip(first.drift, g, strict=True))


def test_covariance_is_the_gradient_covariance_two_ways():
    losses = [(a - 1) ** 2 / 2 + a * b, (b + 1) ** 2 / 2 - a * b, a**2 * b**2 / 4, a - b]
    sme = bea.stochastic_modified_equation(losses, [a, b])
    grads = [_grad(c, [a, b]) for c in losses]
    mean = sum(grads, sp.zeros(2, 1)) / 4
    second_moment = sum((g * g.T for g in grads), sp.zeros(2)) / 4 - mean * mean.T
    assert (sme.covariance - second_moment).applyfunc(sp.expand) == sp.zeros(2)
    S = sme.noise_columns()
    assert (S * S.T - sme.covariance).applyfunc(sp.expand) == sp.zeros(2)


@pytest.mark.parametrize("batch", [2, 3])
def test_batch_covariance_by_enumerating_every_batch(batch):
    losses = [(a - k) ** 2 * (k + 1) / 2 + a * b * k for k in range(4)] + [b**2]
    sme = bea.stochastic_modified_equation(losses, [a, b], batch_size=batch)
    grads = [_grad(c, [a, b]) for c in losses]
    mean = sum(grads, sp.zeros(2, 1)) / 5
    subsets = list(itertools.combinations(range(5), batch))
    cov = sp.zeros(2)
    for s in subsets:
        d = sum((grads[i] for i in s), sp.zeros(2, 1)) / batch - mean
        cov += d * d.T / len(subsets)
    assert (sme.covariance - cov).applyfunc(sp.expand) == sp.zeros(2)


def test_shuffled_mean_loss_is_the_drift_loss_plus_the_batch_variance():
    """Smith et al.'s random-shuffling loss E + (h/4m)Σ‖∇C_k‖² = the SDE's drift loss plus
    (h/4) tr Σ: with replacement that variance is noise, not drift."""
    losses = [(a - 1) ** 2 / 2 + a * b, (b + 1) ** 2 / 2 - a * b, a**2 * b / 3]
    E = sum(losses) / 3
    shuffled = bea.modified_loss(E, [a, b], method=SGD(losses, shuffle=True))
    sme = bea.stochastic_modified_equation(losses, [a, b])
    diff = sp.expand(shuffled - sme.drift_loss - h / 4 * sme.covariance.trace())
    assert diff.free_symbols <= {h}  # equal up to a constant


def test_strings_are_parsed_and_the_result_prints():
    sme = bea.stochastic_modified_equation(["(w - 1)**2/2", "(2*w)**2/2"], ["w"])
    w = sp.Symbol("w")
    assert "weak order 2" in str(sme) and sme.loss == 5 * w**2 / 4 - w / 2 + sp.Rational(1, 4)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bea.stochastic_modified_equation("a**2", ["a"]), "sequence"),
        (lambda: bea.stochastic_modified_equation(["a**2"], ["a"]), "between 2"),
        (lambda: bea.stochastic_modified_equation(["a**2", "a"], ["a"], order=3), "order"),
        (lambda: bea.stochastic_modified_equation(["a**2", "a"], ["a"], batch_size=2), "batch"),
        (lambda: bea.stochastic_modified_equation(["a**2", "a*h"], ["a"]), "step size"),
        (lambda: bea.stochastic_modified_equation(["b**2", "b"], ["a"]), "parameters"),
        (lambda: bea.stochastic_modified_equation(["Abs(a)", "a"], ["a"]), "not smooth"),
    ],
)
def test_bad_input_is_one_clear_error(call, message):
    with pytest.raises(bea.InputError, match=message):
        call()


# ------------------------------------------------------------- weak order: a quadratic, exactly
def _quadratic_problem():
    """Four examples E_k = ½(θ − c_k)ᵀ A_k (θ − c_k) with different A_k: the noise is
    multiplicative, Σ(θ) is quadratic in θ."""
    As = [
        np.array([[1.0, 0.2], [0.2, 0.5]]),
        np.array([[0.3, -0.1], [-0.1, 1.2]]),
        np.array([[1.5, 0.0], [0.0, 0.2]]),
        np.array([[0.6, 0.3], [0.3, 0.9]]),
    ]
    cs = [np.array([1.0, -0.5]), np.array([-1.0, 0.5]), np.array([0.5, 1.5]), np.array([0, -1.0])]
    theta = sp.Matrix([a, b])
    losses = []
    for A, c in zip(As, cs, strict=True):
        exact = sp.Matrix(A.tolist()).applyfunc(sp.nsimplify)
        r = theta - sp.Matrix(c.tolist()).applyfunc(sp.nsimplify)
        losses.append(sp.expand((r.T * exact * r)[0] / 2))
    return As, cs, losses


def _exact_sgd_moments(As, cs, x0, hv, N):
    """Mean and second moment of SGD with replacement: θ ← (I − hA_γ)θ + hA_γc_γ is affine."""
    n = len(As)
    m, M2 = x0.copy(), np.outer(x0, x0)
    for _ in range(N):
        Ms = [np.eye(2) - hv * A for A in As]
        vs = [hv * A @ c for A, c in zip(As, cs, strict=True)]
        m, M2 = (
            sum(Mk @ m + v for Mk, v in zip(Ms, vs, strict=True)) / n,
            sum(
                Mk @ M2 @ Mk.T + np.outer(Mk @ m, v) + np.outer(v, Mk @ m) + np.outer(v, v)
                for Mk, v in zip(Ms, vs, strict=True)
            )
            / n,
        )
    return m, M2


def _exact_sde_moments(As, cs, x0, hv, T, order):
    """Mean and second moment of the SDE: the drift is affine, Σ(θ) quadratic, so (m, E θθᵀ)
    solve a linear ODE, integrated exactly by a matrix exponential."""
    n = len(As)
    Abar = sum(As) / n
    e = sum(A @ c for A, c in zip(As, cs, strict=True)) / n
    # b(θ) = −(Ābar θ − e) − (h/2) Ā(Ā θ − e) at order 2
    B = -Abar - (hv / 2 * Abar @ Abar if order == 2 else 0)
    beta = e + (hv / 2 * Abar @ e if order == 2 else 0)
    Ds = [A - Abar for A in As]
    fs = [A @ c - e for A, c in zip(As, cs, strict=True)]  # ∇E_k − ∇E = D_k θ − f_k
    eye = np.eye(2)

    def rhs_matrix():
        # state z = (m, vec(M2), 1); d m = B m + β; d M2 = B M2 + M2 Bᵀ + β mᵀ + m βᵀ + h E Σ
        size = 2 + 4 + 1
        L = np.zeros((size, size))
        L[:2, :2] = B
        L[:2, 6] = beta
        K = np.kron(B, eye) + np.kron(eye, B)  # vec(B M + M Bᵀ) (row-major)
        for D in Ds:
            K += hv * np.kron(D, D) / n
        L[2:6, 2:6] = K
        for i, j in itertools.product(range(2), range(2)):
            row = 2 + 2 * i + j
            L[row, j] += beta[i]
            L[row, i] += beta[j]
            for D, f in zip(Ds, fs, strict=True):
                L[row, :2] -= hv * (D[i] * f[j] + D[j] * f[i]) / n
                L[row, 6] += hv * f[i] * f[j] / n
        return L

    z = np.concatenate([x0, np.outer(x0, x0).reshape(-1), [1.0]])
    z = scipy.linalg.expm(rhs_matrix() * T) @ z
    return z[:2], z[2:6].reshape(2, 2)


def test_quadratic_weak_orders_exactly_and_by_monte_carlo():
    As, cs, losses = _quadratic_problem()
    sme = bea.stochastic_modified_equation(losses, [a, b])
    x0, T = np.array([1.5, -1.0]), 1.0
    steps = np.array([0.1, 0.05, 0.025, 0.0125])

    def moments(m, M2):
        return np.array([m[0], m[1], M2[0, 0], M2[0, 1], M2[1, 1]])

    errors = {1: [], 2: []}
    for hv in steps:
        sgd = moments(*_exact_sgd_moments(As, cs, x0, hv, round(T / hv)))
        for p in (1, 2):
            errors[p].append(np.abs(moments(*_exact_sde_moments(As, cs, x0, hv, T, p)) - sgd).max())
    for p in (1, 2):
        slope = np.polyfit(np.log(steps), np.log(errors[p]), 1)[0]
        assert abs(slope - p) < 0.1, (p, errors[p])
    # Monte Carlo (bea.verify_weak) against the exact moments, and its own fitted orders
    v = bea.verify_weak(sme, x0, steps=steps[:3], paths=20_000, seed=1)
    for i, hv in enumerate(steps[:3]):
        sgd = moments(*_exact_sgd_moments(As, cs, x0, hv, round(T / hv)))
        assert np.abs(v.sgd[i] - sgd).max() < 1e-10  # the control variate is exact here
        for p in (1, 2):
            exact = moments(*_exact_sde_moments(As, cs, x0, hv, T, p))
            assert np.abs(v.sde[p][i] - exact).max() < 4 * v.stderr[p][i] + 2e-4 * hv**2
    assert abs(v.fits[1].slope - 1) < 0.2 and abs(v.fits[2].slope - 2) < 0.2


def test_weak_verification_is_deterministic_and_checks_its_input():
    sme = bea.stochastic_modified_equation(["(w - 1)**2/2", "(w + 1)**2"], ["w"])
    one = bea.verify_weak(sme, [0.5], steps=[0.25], paths=1000, seed=3)
    two = bea.verify_weak(sme, [0.5], steps=[0.25], paths=1000, seed=3)
    assert np.array_equal(one.sgd, two.sgd) and np.array_equal(one.sde[2], two.sde[2])
    for kwargs, message in [
        ({"steps": [0.3]}, "divide the horizon"),
        ({"paths": 0}, "paths"),
        ({"horizon": float("nan")}, "horizon"),
        ({"steps": [-0.1]}, "positive"),
        ({"steps": "0.1"}, "steps must be numbers"),
    ]:
        with pytest.raises(bea.InputError, match=message):
            bea.verify_weak(sme, [0.5], **kwargs)
    many = bea.stochastic_modified_equation(
        [f"(w - {k})**2" for k in range(40)], ["w"], batch_size=4
    )
    with pytest.raises(bea.InputError, match="possible batches"):
        bea.verify_weak(many, [0.5])
    with pytest.raises(bea.InputError, match="memory"):
        bea.verify_weak(many, [0.5], paths=1_000_000)
    for point in ([0.5, 1.0], "0.5", ["x"], [float("inf")]):
        with pytest.raises(bea.InputError, match="point"):
            bea.verify_weak(sme, point)
    data = bea.stochastic_modified_equation(["(w*x - 1)**2", "w**2"], ["w"])
    with pytest.raises(bea.InputError, match="values needed for x"):
        bea.verify_weak(data, [0.5])


def test_non_quadratic_weak_orders_by_monte_carlo():
    """Four examples of the paper's model ½(y − abx)²: multiplicative, skewed noise. With 20,000
    paths (seconds) the order-1 slope is measured within 0.2 of 1, and the order-2 errors fall one
    order faster than the order-1 errors; benchmarks/bench_sme.py measures the order-2 slope with
    200,000 paths down to h = 0.00625 (2.08)."""
    xs, ys = (0.5, 1.0, 1.5, 2.0), (1.0, 0.2, 1.4, 0.6)
    sme = bea.stochastic_modified_equation(
        [(y - a * b * x) ** 2 / 2 for x, y in zip(xs, ys, strict=True)], [a, b]
    )
    steps = np.array([0.05, 0.025, 0.0125])
    v = bea.verify_weak(sme, [1.2, 0.8], steps=steps, paths=20_000, substeps=2)
    assert abs(v.fits[1].slope - 1) < 0.2
    assert np.all(v.errors[2] > 2 * v.stderr[2])  # resolved, not Monte Carlo noise
    ratio_slope = np.polyfit(np.log(steps), np.log(v.errors[1] / v.errors[2]), 1)[0]
    assert abs(ratio_slope + 1) < 0.3  # e₁/e₂ ∝ 1/h: order 2 is one order above order 1
    # the SDE of order 1 is refuted at order 2 (its error is far above the Monte Carlo noise)
    assert np.all(v.errors[1] > 10 * v.stderr[1])


# ------------------------------------------------------------------------ random reshuffling
def test_shuffled_drift_is_smiths_mean_iterate_loss():
    """B = 1: bea's own SGD(shuffle=True) mean-iterate loss, derived over all orders. B = 2 of
    n = 4: Smith et al.'s E + (h/4m)Σ_k‖∇Ĉ_k‖² averaged over the three ways to pair the
    examples."""
    losses = [(a - 1) ** 2 / 2 + a * b, (b + 1) ** 2 / 2 - a * b, a**2 * b / 3]
    E = sum(losses) / 3
    shuffled = bea.modified_loss(E, [a, b], method=SGD(losses, shuffle=True))
    sme = bea.stochastic_modified_equation(losses, [a, b], sampling="shuffle")
    assert sp.expand(shuffled - sme.drift_loss).free_symbols <= {h}
    assert sme.covariance == sp.zeros(2) and "no diffusion" in str(sme)
    four = losses + [a**2 + b**2 / 3]
    E4 = sum(four) / 4
    pairs = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
    g2 = lambda c: sp.diff(c, a) ** 2 + sp.diff(c, b) ** 2  # noqa: E731
    smith = sum(sum(g2((four[i] + four[j]) / 2) for i, j in p) / 2 for p in pairs) / 3
    by_hand = E4 + h / 4 * smith
    sme2 = bea.stochastic_modified_equation(four, [a, b], sampling="shuffle", batch_size=2)
    assert sp.expand(sme2.drift_loss - by_hand) == 0
    for d, p in zip(sme2.drift, [a, b], strict=True):
        assert sp.expand(d + sp.diff(by_hand, p)) == 0


def test_shuffled_weak_orders_and_no_diffusion():
    """Four examples of the paper's model, shuffled every epoch: the deterministic equation has
    weak orders 1 and 2, and SGD's spread (the Monte Carlo standard error) falls like h^{3/2}
    (variance O(h³)): no diffusion at weak order 2."""
    xs, ys = (0.5, 1.0, 1.5, 2.0), (1.0, 0.2, 1.4, 0.6)
    sme = bea.stochastic_modified_equation(
        [(y - a * b * x) ** 2 / 2 for x, y in zip(xs, ys, strict=True)], [a, b], sampling="shuffle"
    )
    steps = np.array([0.05, 0.025, 0.0125])
    v = bea.verify_weak(sme, [1.2, 0.8], steps=steps, paths=5_000, substeps=2)
    assert abs(v.fits[1].slope - 1) < 0.2 and abs(v.fits[2].slope - 2) < 0.2
    spread = np.polyfit(np.log(steps), np.log(v.stderr[2]), 1)[0]
    assert abs(spread - 1.5) < 0.2
    with pytest.raises(bea.InputError, match="whole number of epochs"):
        bea.verify_weak(sme, [1.2, 0.8], steps=[0.1], horizon=0.3)


def test_sampling_is_checked():
    with pytest.raises(bea.InputError, match="sampling"):
        bea.stochastic_modified_equation(["a**2", "a"], ["a"], sampling="random")
    with pytest.raises(bea.InputError, match="divide"):
        bea.stochastic_modified_equation(
            ["a**2", "a", "a**3"], ["a"], 2, batch_size=2, sampling="shuffle"
        )
