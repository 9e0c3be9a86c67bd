"""Theorem 3.1 and its higher-order analogues on a real network (float64), and what float32 loses."""

import json

import numpy as np
import pytest

import bea
import bea.deep as bd
from bea.optim import Adam, HeavyBall, RMSProp


@pytest.fixture(scope="module")
def gd_verification(digits_mlp):
    return bd.verify(digits_mlp, orders=(0, 1, 2, 3))


def test_theorem_3_1_on_an_mlp(gd_verification, digits_mlp):
    v = gd_verification
    assert digits_mlp.m >= 1000 and v.meta["dtype"] == "float64"
    for p in range(4):
        assert abs(v.local_slopes[p] - (p + 2)) <= 0.1, v
    for p in range(3):
        assert abs(v.global_slopes[p] - (p + 1)) <= 0.15, v
    # each order is an improvement at the smallest step: the terms are not noise
    smallest = [v.worst("local", p)[0] for p in range(4)]
    assert all(x > y for x, y in zip(smallest, smallest[1:], strict=False))


def test_the_result_is_bea_verification(gd_verification):
    data = json.loads(gd_verification.to_json())
    assert data["parameters"] == 1210 and data["versions"]["jax"]
    assert isinstance(gd_verification, bea.Verification)


def test_float32_cannot_resolve_order_3(digits_mlp):
    v = bd.verify(digits_mlp.with_dtype("float32"), orders=(0, 3))
    assert abs(v.local_slopes[0] - 2) <= 0.1  # order 0 is still resolved in float32
    slope = v.local_slopes[3]
    assert not abs(slope - 5) <= 0.1, "float32 resolved the order-3 error: is it float64?"


def test_heavy_ball_in_effective_time(digits_mlp):
    v = bd.verify(digits_mlp, orders=(0, 1, 2), method=HeavyBall("0.5", time="effective"))
    for p in range(3):
        assert abs(v.local_slopes[p] - (p + 2)) <= 0.1, v
        assert abs(v.global_slopes[p] - (p + 1)) <= 0.15, v


def test_a_wrong_term_is_caught(digits_mlp, monkeypatch):
    # the measurement is live: flip the sign of f_1 and order 1 no longer converges at order 3
    from bea.deep import flow as flow_module

    original = flow_module.NumericModifiedFlow.jax_terms

    def broken(self, theta, route=None):
        terms = original(self, theta, route)
        return [terms[0], *(-t for t in terms[1:2]), *terms[2:]]

    monkeypatch.setattr(flow_module.NumericModifiedFlow, "jax_terms", broken)
    v = bd.verify(digits_mlp, orders=(1,), n_steps=4)
    assert v.local_slopes[1] < 2.5


def test_bad_input(digits_mlp):
    with pytest.raises(bea.InputError, match="truncation orders"):
        bd.verify(digits_mlp, orders="abc")
    with pytest.raises(bea.InputError, match="n_steps"):
        bd.verify(digits_mlp, n_steps=2)
    with pytest.raises(bea.InputError, match="h_max"):
        bd.verify(digits_mlp, h_max=-1.0)
    with pytest.raises(bea.InputError, match="shape"):
        bd.verify(digits_mlp, start=np.zeros(3))
    with pytest.raises(bea.InputError, match="Problem"):
        bd.verify("digits")


def test_concave_start_is_refused_without_a_step_size():
    prob = bd.Problem.from_function(lambda t: -(t[0] ** 2) - t[1] ** 2, [1.0, 0.5])
    with pytest.raises(bea.InputError, match="no positive eigenvalue"):
        bd.verify(prob, orders=(0,))


@pytest.mark.parametrize(
    "method", [Adam("0.5", "0.8", "0.01"), RMSProp("0.8", "0.01")], ids=["adam", "rmsprop"]
)
def test_adaptive_methods_follow_their_modified_flows(method):
    """The real update on (θ, m, v), started on the slow manifold, against the Lie-route flow."""
    prob = bd.Problem.from_function(
        lambda t: (0.6 - t[0] * t[1]) ** 2 / 2 + 0.1 * (t[0] ** 2 + t[1] ** 2), [1.3, 0.4]
    )
    v = bd.verify(prob, orders=(0, 1), method=method, h_max=0.02, warmup=0)
    for p in (0, 1):
        assert abs(v.local_slopes[p] - (p + 2)) < 0.1, v.local_slopes
        assert abs(v.global_slopes[p] - (p + 1)) < 0.15, v.global_slopes


def test_adam_on_an_mlp_at_its_preconditioned_step_scale(digits_mlp):
    """Adam's modified flow on the real network; the default h_max reads Adam's step scale from
    the Jacobian of its leading field (≈ λ/√(g² + ε), ten times GD's λ_max here)."""
    v = bd.verify(digits_mlp, orders=(0, 1), method=Adam("0.5", "0.8", "0.01"), n_steps=5)
    assert v.meta["rate"] > 5 * v.meta["lambda_max"]
    assert v.steps[-1] == pytest.approx(0.5 / v.meta["rate"])
    for p in (0, 1):
        assert abs(v.local_slopes[p] - (p + 2)) <= 0.1, v
        assert abs(v.global_slopes[p] - (p + 1)) <= 0.15, v


def test_sgd_epochs_on_an_mlp(digits_mlp):
    """An epoch of two mini-batch steps (150 digits each) against the time-2h flow of the modified
    field of bd.Epoch; global errors over N epochs (measured to p = 2: local 2.00 / 2.99 / 3.99,
    global 1.04 / 2.02 / 3.02, 28 s)."""
    v = bd.verify(digits_mlp, orders=(0, 1), method=bd.Epoch(digits_mlp, 150), n_steps=5)
    assert v.steps[-1] == pytest.approx(0.5 / (2 * v.meta["rate"]))  # the series is in 2h
    for p in (0, 1):
        assert abs(v.local_slopes[p] - (p + 2)) <= 0.1, v
        assert abs(v.global_slopes[p] - (p + 1)) <= 0.15, v


def test_sgd_epochs_with_shuffling_follow_the_mean_map():
    """The mean over both orders of two mini-batches (random reshuffling's expected epoch)."""
    import jax.numpy as jnp

    def loss(p, batch):
        x, y = batch
        return jnp.mean((y - jnp.tanh(p[0] * x) * p[1] - p[2] * x) ** 2) / 2

    data = (np.array([1.0, 2.0, -0.5, 0.8]), np.array([0.6, 0.3, 0.2, -0.4]))
    prob = bd.Problem.from_loss(loss, np.array([1.0, 0.5, -0.3]), data).with_dtype("float64")
    v = bd.verify(prob, orders=(0, 1, 2), method=bd.Epoch(prob, 2, shuffle=True), n_steps=5)
    for p in (0, 1, 2):
        assert abs(v.local_slopes[p] - (p + 2)) <= 0.1, v
        assert abs(v.global_slopes[p] - (p + 1)) <= 0.15, v
