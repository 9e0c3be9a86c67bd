"""Every registered optimizer honours the contract of bea.optim.Optimizer: it derives a flow of
the asked order, its step and its flow agree (checked by an independent Lie series), and numeric
verification measures local order p + 2."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp

import bea
from bea.flow import ModifiedFlow
from bea.optim import OPTIMIZERS, Optimizer
from bea.step import Step

t, h = sp.symbols("t h")
E = t**4 / 4 + t**2 / 2
K = 1  # derivation order checked


def _numeric(opt: Optimizer) -> Optimizer:
    """The registered instance with every symbolic hyper-parameter set to 1/2."""
    fields = {
        f.name: sp.Rational(1, 2)
        for f in dataclasses.fields(opt)
        if isinstance(getattr(opt, f.name), sp.Symbol)
    }
    return dataclasses.replace(opt, **fields)


def _lie_series(field: sp.Matrix, state, tau, degree: int) -> list[sp.Expr]:
    """exp(τ L_F) θ through the term τ^degree (F depends on h; τ = s h; higher powers of h are
    left for the caller to drop): written here independently of bea's routes."""
    out = sp.Matrix(state)
    Y = sp.Matrix(state)
    for k in range(1, degree + 1):
        Y = Y.jacobian(list(state)) * field  # polynomial in h; the caller truncates
        out += tau**k / math.factorial(k) * Y
    return list(out)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_registered_optimizer_is_an_optimizer_with_its_registry_name(name):
    opt = OPTIMIZERS[name]
    assert isinstance(opt, Optimizer) and opt.name == name
    assert bea.optim.resolve_method(name) is opt


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_flow_of_the_asked_order_that_solves_the_step_relation(name):
    opt = _numeric(OPTIMIZERS[name])
    flow, step = opt.flow_and_step(E, (t,), h, K)
    assert isinstance(flow, ModifiedFlow) and isinstance(step, Step)
    assert flow.order == K and flow.state == (t,) and flow.h == h
    assert bea.modified_flow(E, [t], K, method=opt).order == K
    assert _relation_residuals(flow, step) == [0] * len(step.relation().equations)


def _relation_residuals(flow, step) -> list:
    """The step's relation along the iterates θ_{n+s} = φ_{sh}(θ_n) of the truncated flow (and
    the fast variables on the slow manifold), at a rational point, through O(h^{K+1}): zero
    when step and flow agree."""
    rel = step.relation()
    F = flow.vector_field()
    point = {t: sp.Rational(3, 7)}
    sub = {}
    for s, syms in rel.shifted.items():
        for sym, e in zip(syms, _lie_series(F, (t,), s * h, K + 1), strict=True):
            sub[sym] = e
    if rel.fast:
        W = sum((h**k * w for k, w in enumerate(flow.slow_manifold)), sp.zeros(2, 1))
        for s, syms in rel.fast.items():
            at = {t: _lie_series(F, (t,), s * h, K + 1)[0]}
            for sym, w in zip(syms, W, strict=True):
                sub[sym] = w.xreplace(at)
    out = []
    for i, eq in enumerate(rel.equations):
        # the state rows hold to O(h^{K+2}); the fast rows to the order of the slow manifold
        top = K + 2 if i < len(step.state) else K + 1
        r = eq.xreplace(sub).xreplace(point)
        worst = 0.0
        for m in range(top):  # Taylor coefficients in h at h = 0, to 60 digits
            worst = max(worst, abs(float(sp.N(r.subs(h, 0), 60))) / math.factorial(m))
            r = sp.diff(r, h)
        out.append(0 if worst < 1e-40 else worst)
    return out


def test_the_relation_check_fails_for_a_wrong_flow():
    opt = _numeric(OPTIMIZERS["heavy-ball"])
    flow, step = opt.flow_and_step(E, (t,), h, K)
    wrong = ModifiedFlow.from_exprs([flow.terms[0], -flow.terms[1]], (t,), h)
    assert any(r != 0 for r in _relation_residuals(wrong, step))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_numeric_verification_measures_local_order_p_plus_2(name):
    """Local order p + 2 when f_{p+1} ≠ 0; in general (first j > p with f_j ≠ 0) + 1, which
    matters for second-order methods (AB2, leapfrog: f₁ = 0). The orders checked are 0 and the
    first non-zero correction q."""
    steps = np.geomspace(2e-4, 4e-3, 8)
    opt = _numeric(OPTIMIZERS[name])
    terms = opt.flow(E, (t,), h, 3).terms
    nonzero = [j for j in range(1, 4) if sp.simplify(terms[j][0]) != 0]
    q = nonzero[0]
    expected = [q + 1, min([j for j in nonzero if j > q], default=4) + 1]
    v = bea.verify(E, [t], [[0.8]], orders=(0, q), steps=steps, horizon=0.25, method=opt)
    assert np.allclose([v.local_slopes[0], v.local_slopes[q]], expected, atol=0.1)
