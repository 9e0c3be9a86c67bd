"""Compiled NumPy functions agree with sympy at random points; h broadcasts over batches."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import bea
from bea.numeric import compile_expressions, compile_flow, compile_loss, compile_step
from bea.optim import GD

a, b, c, x, h = sp.symbols("a b c x h")
LOSS = sp.log(1 + sp.exp(-(a * x + b))) + c**2 * sp.sin(a) / 2
PARAMS = (a, b, c)
rng = np.random.default_rng(0)


def at(expr, point, extra=None):
    subs = dict(zip(PARAMS, point, strict=True)) | {x: 2} | (extra or {})
    return float(sp.N(expr.subs(subs), 30))


def test_loss_gradient_hessian_match_sympy():
    E, G, H = compile_loss(LOSS, PARAMS, values={"x": 2})
    pts = rng.normal(size=(5, 3))
    for p, e, g, hm in zip(pts, E(pts), G(pts), H(pts), strict=True):
        assert e == pytest.approx(at(LOSS, p), rel=1e-13)
        for i, s in enumerate(PARAMS):
            assert g[i] == pytest.approx(at(sp.diff(LOSS, s), p), rel=1e-12, abs=1e-14)
            for j, t in enumerate(PARAMS):
                assert hm[i, j] == pytest.approx(at(sp.diff(LOSS, s, t), p), rel=1e-12, abs=1e-14)


def test_modified_flow_fields_match_sympy_for_each_order():
    flow = bea.modified_flow(LOSS, PARAMS, order=3)
    F = compile_flow(flow, values={"x": 2})
    pts = rng.normal(size=(4, 3))
    hs = np.array([0.01, 0.1, 0.3, 0.05])
    Y = np.broadcast_to(pts, (4, 4, 3))
    out = F(Y, hs[:, None][:, 0])  # h of shape (n,) broadcasting against Y[p, :, 0]
    for p in range(4):
        field = flow.vector_field(p)
        for k in range(4):
            want = [at(e, pts[k], {flow.h: hs[k]}) for e in field]
            np.testing.assert_allclose(out[p, k], want, rtol=1e-11, atol=1e-13)


def test_step_map_broadcasts_step_sizes_over_a_grid():
    phi = compile_step(GD().step_map(LOSS, PARAMS, h), values={"x": 2})
    pts = rng.normal(size=(6, 3))
    hs = np.array([0.1, 0.2])
    out = phi(np.broadcast_to(pts, (2, 6, 3)), hs[:, None])
    assert out.shape == (2, 6, 3)
    _, G, _ = compile_loss(LOSS, PARAMS, values={"x": 2})
    np.testing.assert_allclose(out, pts - hs[:, None, None] * G(pts)[None], rtol=1e-14)


def test_constant_expressions_broadcast_and_missing_values_are_named():
    F = compile_expressions([sp.Integer(3), a], [a])
    assert F(np.zeros((2, 5, 1))).shape == (2, 5, 2)
    with pytest.raises(bea.InputError, match="constant.*x"):
        compile_expressions([a * x], [a])
