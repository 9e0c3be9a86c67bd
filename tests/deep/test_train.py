"""Training loops: each update rule against a hand-written NumPy loop, divergence, best iterate."""

import numpy as np
import pytest

import bea
import bea.deep as bd

jax = pytest.importorskip("jax")


@pytest.fixture(scope="module")
def quad():
    A = np.diag([1.0, 3.0])
    return bd.Problem.from_function(lambda t: 0.5 * t @ (jax.numpy.asarray(A) @ t), [1.0, -2.0]), A


@pytest.mark.parametrize("optimizer", ["gd", "heavy-ball", "adam", "egr"])
def test_update_rules_match_numpy(quad, optimizer):
    prob, A = quad
    h, n = 0.1, 7
    theta, prev = np.array([1.0, -2.0]), np.array([1.0, -2.0])
    m = v = np.zeros(2)
    mu = 0.3
    for _ in range(n):
        g = A @ theta
        if optimizer == "gd":
            theta = theta - h * g
        elif optimizer == "egr":
            theta = theta - h * (g + 2 * mu / 2 * A @ g)
        elif optimizer == "heavy-ball":
            theta, prev = theta - h * g + 0.9 * (theta - prev), theta
        else:
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g**2
            theta = theta - h * m / np.sqrt(v + 1e-8)
    opt = "gd" if optimizer == "egr" else optimizer
    run = bd.train(prob, opt, h, steps=n, evaluate_every=n, egr=mu if optimizer == "egr" else 0.0)
    np.testing.assert_allclose(run.theta_final, theta, rtol=1e-13)


def test_sgd_epoch_visits_every_sample():
    x = np.arange(6.0)[:, None]
    # E = mean (θ − x)²/2: one epoch of SGD with batch 1 and h = 1 lands on the last sample seen
    prob = bd.Problem.from_loss(
        lambda p, b: 0.5 * jax.numpy.mean((p["t"] - b[0][:, 0]) ** 2), {"t": np.zeros(1)}, (x,)
    )
    run = bd.train(prob, "sgd", 1.0, steps=6, evaluate_every=6, batch_size=1, seed=3)
    assert run.theta_final[0] in set(x[:, 0])
    again = bd.train(prob, "sgd", 1.0, steps=6, evaluate_every=6, batch_size=1, seed=3)
    assert again.theta_final[0] == run.theta_final[0]
    # batch = the whole set: SGD is GD
    full = bd.train(prob, "sgd", 0.5, steps=4, evaluate_every=4, batch_size=6)
    gd = bd.train(prob, "gd", 0.5, steps=4, evaluate_every=4)
    np.testing.assert_allclose(full.theta_final, gd.theta_final, rtol=1e-14)


def test_divergence_is_reported_not_nan(quad):
    prob, _ = quad
    run = bd.train(prob, "gd", 1.5, steps=400, evaluate_every=10)  # 2/λ_max = 2/3 < 1.5
    assert run.diverged
    assert np.all(np.isfinite(run.history["loss"]))
    assert run.history["step"][-1] < 400


def test_training_an_mlp_on_digits():
    prob = bd.problem("digits", bd.mlp([64, 16, 10]), n_train=300, dtype="float32")
    run = bd.train(prob, "gd", 0.5, time=100.0, evaluate_every=25, noise_sigmas=(0.05, 0.5))
    h = run.history
    assert h["loss"][-1] < 0.1 * h["loss"][0]
    assert run.best_metrics()["test_accuracy"] > 0.85
    assert "train accuracy ≥ 1" in run.best_rule
    assert run.robustness[0.05] > run.robustness[0.5]
    assert run.to_dict()["settings"]["steps"] == 200


def test_bad_input(quad):
    prob, _ = quad
    for kwargs, match in [
        ({"optimizer": "lbfgs", "steps": 3}, "unknown optimizer"),
        ({"lr": -1, "steps": 3}, "learning rate"),
        ({"steps": 3, "time": 1.0}, "either steps or time"),
        ({"steps": 3, "egr": 1.0, "optimizer": "adam"}, "egr"),
        ({"steps": 3, "optimizer": "heavy-ball", "beta": 1.0}, "beta"),
        ({"steps": 0}, "steps"),
    ]:
        with pytest.raises(bea.InputError, match=match):
            bd.train(prob, **kwargs)


def test_a_learning_rate_and_seed_sweep_compiles_once():
    import importlib

    train_module = importlib.import_module("bea.deep.train")

    prob = bd.problem("digits", bd.mlp([64, 4, 10]), n_train=64, dtype="float32")
    for lr, seed in [(0.1, 0), (0.3, 1), (0.7, 2)]:
        bd.train(prob, "sgd", lr, steps=20, evaluate_every=10, batch_size=16, seed=seed)
    _, chunk = train_module._compiled(prob, "sgd", (("batch_size", 16),), False, 10)
    assert chunk._cache_size() == 1


def test_sharpness_along_training_is_the_top_hessian_eigenvalue():
    prob = bd.problem("teacher", bd.mlp([3, 6, 1]), n_train=40, inputs=3)
    run = bd.train(prob, "gd", 0.2, steps=40, evaluate_every=20, sharpness=True)
    with bd.scope():
        H = np.asarray(jax.hessian(prob.energy)(prob.cast(run.theta_final)))
    lam = np.linalg.eigvalsh(H).max()
    assert run.history["sharpness"][-1] == pytest.approx(lam, rel=1e-6)
    plain = bd.train(prob, "gd", 0.2, steps=40, evaluate_every=20)
    assert "sharpness" not in plain.history
