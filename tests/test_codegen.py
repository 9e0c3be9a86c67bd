"""Exported code (ModifiedFlow.to_function / to_source, ``bea derive --format python|jax``) against
the exact sympy expressions, evaluated independently (sympy's own arbitrary-precision evalf)."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import bea
from bea.cli import main
from bea.codegen import compile_sources, function_source
from bea.optim import Adam, HeavyBall

a, b, c = sp.symbols("a b c")
x, y = sp.symbols("x y")
H = sp.Symbol("h")
TWO_PARAMETER = (y - a * b * x) ** 2 / 2
VALUES = {"x": 1, "y": sp.Rational(3, 5)}
NON_POLYNOMIAL = sp.log(1 + sp.exp(-a * b)) + (a**2 + b**2) / 10 + c**2 * sp.tanh(a) / 4


def _points(m, n=6, seed=0):
    return np.random.default_rng(seed).uniform(-1.2, 1.2, size=(n, m))


def _exact(exprs, params, points, h, values=None):
    """Evaluate sympy expressions at points with 30 digits (the independent route)."""
    subs_const = {sp.Symbol(k): v for k, v in (values or {}).items()}
    out = []
    for pt in points:
        subs = {
            **subs_const,
            H: sp.Float(h, 30),
            **{p: sp.Float(v, 30) for p, v in zip(params, pt, strict=True)},
        }
        out.append([float(sp.sympify(e).evalf(30, subs=subs)) for e in exprs])
    return np.array(out)


def _close(got, want):
    scale = np.maximum(1.0, np.abs(want))
    assert np.max(np.abs(got - want) / scale) < 1e-12, (got, want)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_gd_field_on_the_two_parameter_model(order):
    flow = bea.modified_flow(TWO_PARAMETER, [a, b], order=order)
    F = flow.to_function(what="field", values=VALUES)
    pts, h = _points(2), 0.07
    _close(F(pts, h), _exact(list(flow.vector_field()), [a, b], pts, h, VALUES))
    # constants left free become keyword arguments
    G = flow.to_function()
    _close(G(pts, h, x=1.0, y=0.6), F(pts, h))


def test_gd_loss_and_regularizer_on_the_two_parameter_model():
    flow = bea.modified_flow(TWO_PARAMETER, [a, b], order=1)
    pts, h = _points(2), 0.11
    L = flow.to_function(what="loss", values=VALUES)
    R = flow.to_function(what="regularizer", values=VALUES)
    _close(L(pts, h), _exact([flow.modified_loss()], [a, b], pts, h, VALUES)[:, 0])
    E = _exact([TWO_PARAMETER], [a, b], pts, h, VALUES)[:, 0]
    _close(E + R(pts, h), L(pts, h))
    # the paper's R_IG: regularizer = (h/4)·‖∇E‖² at order 1
    grad = _exact([sp.diff(TWO_PARAMETER, p) for p in (a, b)], [a, b], pts, h, VALUES)
    _close(R(pts, h), h / 4 * (grad**2).sum(axis=1))


def test_non_polynomial_loss():
    flow = bea.modified_flow(NON_POLYNOMIAL, [a, b, c], order=3)
    pts, h = _points(3, seed=1), 0.05
    for p in (1, 2, 3):
        F = flow.to_function(what="field", order=p)
        _close(F(pts, h), _exact(list(flow.vector_field(p)), [a, b, c], pts, h))
    # the modified loss (bea finds its potential by integration; a tanh term makes that slow)
    two = bea.modified_flow(NON_POLYNOMIAL.subs(c, 0), [a, b], order=1)
    L = two.to_function(what="loss")
    _close(L(pts[:, :2], h), _exact([two.modified_loss()], [a, b], pts[:, :2], h)[:, 0])


def test_heavy_ball_and_adam_order_1():
    hb = bea.modified_flow(TWO_PARAMETER, [a, b], order=1, method=HeavyBall("0.5"))
    pts, h = _points(2, seed=2), 0.03
    _close(
        hb.to_function(values=VALUES)(pts, h),
        _exact(list(hb.vector_field()), [a, b], pts, h, VALUES),
    )
    R = hb.to_function(what="regularizer", values=VALUES)
    E = _exact([TWO_PARAMETER], [a, b], pts, h, VALUES)[:, 0]
    _close(E + R(pts, h), _exact([hb.modified_loss()], [a, b], pts, h, VALUES)[:, 0])
    adam = bea.modified_flow(
        TWO_PARAMETER.subs({x: 1, y: sp.Rational(3, 5)}),
        [a, b],
        order=1,
        method=Adam("0.5", "0.8", "0.01"),
    )
    _close(adam.to_function()(pts, h), _exact(list(adam.vector_field()), [a, b], pts, h))
    with pytest.raises(bea.NotAGradientError):  # Adam's f_0 is not a gradient: no loss to export
        adam.to_function(what="loss")


def test_batch_shapes_and_step_size_arrays():
    flow = bea.modified_flow(TWO_PARAMETER, [a, b], order=2)
    F = flow.to_function(values=VALUES)
    pts = _points(2, n=12).reshape(3, 4, 2)
    hs = np.array([0.01, 0.02, 0.04, 0.08])
    got = F(pts, hs)
    assert got.shape == (3, 4, 2)
    _close(got[1, 2], F(pts[1, 2], 0.04))
    R = flow.to_function(what="loss", order=1, values=VALUES)
    assert R(pts, hs).shape == (3, 4) and np.ndim(R([1.0, 0.5], 0.1)) == 0


def test_jax_export_is_jit_and_grad_compatible():
    jax = pytest.importorskip("jax")
    flow = bea.modified_flow(TWO_PARAMETER, [a, b], order=1)
    with jax.enable_x64(True):
        jnp = jax.numpy
        L = flow.to_function("jax", what="loss", values=VALUES)
        F = flow.to_function("jax", what="field", values=VALUES)
        pts, h = jnp.asarray(_points(2, seed=3)), 0.09
        # GD to order 1 is the gradient flow of its modified loss: f_0 + h f_1 = −∇(E + h V_1)
        grads = jax.vmap(jax.grad(lambda t: L(t, h)))(pts)
        _close(np.asarray(jax.jit(F)(pts, h)), -np.asarray(grads))
        _close(np.asarray(jax.jit(F)(pts, h)), flow.to_function(values=VALUES)(np.asarray(pts), h))
        assert jax.jit(L)(pts, h).dtype == jnp.float64


def test_a_field_without_an_h0_term_takes_an_array_of_step_sizes():
    F = compile_sources([function_source("f", [[0, 0], [a * b, -a]], [a, b], H)])["f"]
    got = F(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.1, 0.2]))
    np.testing.assert_allclose(got, [[0.2, -0.1], [2.4, -0.6]])


def test_erf_and_pi_in_both_backends():
    loss = sp.erf(a) * b**2 + sp.pi * a**2
    flow = bea.modified_flow(loss, [a, b], order=1)
    pts, h = _points(2, seed=4), 0.1
    want = _exact(list(flow.vector_field()), [a, b], pts, h)
    _close(flow.to_function()(pts, h), want)
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        _close(np.asarray(flow.to_function("jax")(jax.numpy.asarray(pts), h)), want)


def test_no_name_in_the_code_comes_from_the_user(tmp_path):
    # a parameter whose name is not a Python name is renamed; a constant that could not be a
    # keyword argument is refused; nothing is executed
    odd = sp.Symbol("__import__('os').system('touch /tmp/bea-pwn')")
    lam = sp.Symbol("lambda")
    src = function_source("f", [[odd * lam, -odd]], [odd, lam], H)
    assert "__import__" not in src.text and "def f(theta, h):" in src.text
    F = compile_sources([src])["f"]
    np.testing.assert_allclose(F(np.array([2.0, 3.0]), 0.1), [6.0, -2.0])
    with pytest.raises(bea.InputError, match="constant"):
        function_source("f", [[a * odd]], [a], H)
    with pytest.raises(bea.InputError, match="backend"):
        function_source("f", [[a]], [a], H, backend="torch")
    flow = bea.modified_flow(TWO_PARAMETER, [a, b], order=1)
    with pytest.raises(bea.InputError, match="what must be"):
        flow.to_function(what="hessian")
    with pytest.raises(bea.InputError, match="parameter"):
        flow.to_function(values={"a": 1})
    marker = tmp_path / "PWNED"
    with pytest.raises(bea.InputError):
        flow.to_function(values={"x": f"__import__('os').system('touch {marker}')"})
    assert not marker.exists()


def test_a_map_has_no_regularizer():
    flow = bea.modified_equation([a - H * a**3], [a], H, order=1)
    assert flow.to_function()(np.array([[0.5]]), 0.1).shape == (1, 1)
    with pytest.raises(bea.InputError, match="give the loss"):
        flow.to_function(what="regularizer")


def test_derive_format_python_prints_a_module_that_runs(capsys):
    flags = "--params a b --order 2 --format python".split()
    assert main(["derive", "(y - a*b*x)**2/2", *flags]) == 0
    text = capsys.readouterr().out
    assert text.startswith('"""Modified field, modified loss, regularizer of gd')
    fns: dict = {}
    exec(compile(text, "<printed by bea derive>", "exec"), fns)  # the module a user would paste
    flow = bea.modified_flow(TWO_PARAMETER, [a, b], order=2)
    pts = _points(2, seed=5)
    _close(fns["modified_field"](pts, 0.1, x=1.0, y=0.6), flow.to_function(values=VALUES)(pts, 0.1))
    # f_2 is not a gradient: the loss is exported at order 1
    assert "to order 1 in h" in text and "V_2" not in text


def test_derive_format_jax_in_a_fresh_process():
    pytest.importorskip("jax")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bea",
            "derive",
            "t**4/4",
            "--params",
            "t",
            "--order",
            "2",
            "--format",
            "jax",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    code = (
        out
        + "\nimport jax\nprint(float(jax.grad(lambda t: modified_loss(t, 0.1))(jax.numpy.array([1.0]))[0]))"
    )
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # E~ = t^4/4 + h t^6/4 + h^2 (...): d/dt at t = 1 is the negative field -f(1) of GD at order 2
    flow = bea.modified_flow(sp.Symbol("t") ** 4 / 4, [sp.Symbol("t")], order=2)
    want = -float(flow.vector_field()[0].subs({sp.Symbol("t"): 1, flow.h: sp.Rational(1, 10)}))
    assert abs(float(got.stdout) - want) < 1e-5  # float32 by default in JAX
