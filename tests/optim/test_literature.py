"""Optimizers beyond GD: literature results reproduced by derivation, checked by independent
routes (hand derivations, the tree route for implicit Euler) and numerically."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import bea
from bea.bseries.rk import IMPLICIT_EULER
from bea.numeric import compile_flow, fit_slope, integrate_flows
from bea.optim import (
    GD,
    SGD,
    Adam,
    AdamW,
    HeavyBall,
    Nesterov,
    ProximalPoint,
    RMSProp,
    WeightDecay,
)

a, b, h, beta = sp.symbols("a b h beta")
E = (a * b - sp.Rational(3, 5)) ** 2 / 2
G2 = sp.diff(E, a) ** 2 + sp.diff(E, b) ** 2
H_G = [sp.diff(G2, v) / 2 for v in (a, b)]  # H ∇E = ∇‖∇E‖²/2


def test_relation_route_reproduces_gd():
    # GD written as a relation θ' − θ + h∇E(θ) = 0 must give the Taylor route's flow
    from bea.relation import relation_modified_equation

    nxt = sp.symbols("a1 b1")
    rel = [n - v + h * sp.diff(E, v) for n, v in zip(nxt, (a, b), strict=True)]
    got = relation_modified_equation(rel, [a, b], {1: nxt}, h, 3)
    ref = bea.modified_flow(E, [a, b], 3)
    assert all(
        (got.terms[j] - ref.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1) for j in range(4)
    )


def test_proximal_point_is_implicit_euler_and_flips_the_sign_of_the_regularizer():
    flow = bea.modified_flow(E, [a, b], 3, method=ProximalPoint())
    trees = bea.modified_equation(
        IMPLICIT_EULER, [a, b], h, 3, field=[-sp.diff(E, v) for v in (a, b)]
    )
    assert all(
        (flow.terms[j] - trees.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1) for j in range(4)
    )
    assert sp.expand(flow.potential(1) + G2 / 4) == sp.expand(flow.potential(1) + G2 / 4).subs(
        {a: 0, b: 0}
    )  # V1 = −‖∇E‖²/4 + const


def test_heavy_ball_ghosh_et_al_factor_one_plus_beta_over_one_minus_beta():
    step = bea.modified_flow(E, [a, b], 2, method=HeavyBall(beta))
    # by hand (Lie series of θ_{n±1}): F0 = −∇E/(1−β), F1 = −(1+β)/(2(1−β)³) H∇E
    assert all(
        sp.simplify(step.terms[0][i] + sp.diff(E, v) / (1 - beta)) == 0
        for i, v in enumerate((a, b))
    )
    assert all(
        sp.simplify(step.terms[1][i] + (1 + beta) / (2 * (1 - beta) ** 3) * H_G[i]) == 0
        for i in range(2)
    )
    eff = bea.modified_flow(E, [a, b], 1, method=HeavyBall(beta, "effective"))
    gd = bea.modified_flow(E, [a, b], 1)
    ratio = sp.factor(eff.potential(1) / gd.potential(1))
    assert sp.simplify(ratio - (1 + beta) / (1 - beta)) == 0
    assert step.first_non_gradient() == 2  # like GD, no modified loss at order 2 on this model


def test_nesterov_first_order_term_by_hand():
    flow = bea.modified_flow(E, [a, b], 2, method=Nesterov(beta))
    # ∇E at θ + β(θ − θ_{n−1}) = ∇E + βh H F0 + …  gives F1 = −(1 − β + 2β²)/(2(1−β)³) H∇E
    coeff = (1 - beta + 2 * beta**2) / (2 * (1 - beta) ** 3)
    assert all(sp.simplify(flow.terms[1][i] + coeff * H_G[i]) == 0 for i in range(2))
    hb = bea.modified_flow(E, [a, b], 0, method=HeavyBall(beta))
    assert (flow.terms[0] - hb.terms[0]).applyfunc(sp.simplify) == sp.zeros(2, 1)


def test_momentum_with_beta_zero_is_gd():
    hb = bea.modified_flow(E, [a, b], 2, method=HeavyBall(0))
    gd = bea.modified_flow(E, [a, b], 2)
    assert all((hb.terms[j] - gd.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1) for j in range(3))


def test_sgd_shuffled_mean_smith_et_al_and_fixed_order_remainder():
    C1 = (a - 1) ** 2 / 2 + a * b**2
    C2 = (b + 1) ** 2 / 2 - a * b**2 + a**2 * b / 2
    C = (C1 + C2) / 2
    g2 = [sp.diff(c, a) ** 2 + sp.diff(c, b) ** 2 for c in (C1, C2)]
    mean = bea.modified_flow(C, [a, b], 1, method=SGD([C1, C2], shuffle=True))
    expected_f1 = [-sp.diff(h / 8 * (g2[0] + g2[1]), v) / h for v in (a, b)]  # (h/4m) Σ‖∇C_k‖²
    assert all(sp.expand(mean.terms[1][i] - expected_f1[i]) == 0 for i in range(2))
    fixed = bea.modified_flow(C, [a, b], 1, method=SGD([C1, C2], shuffle=False))
    assert fixed.first_non_gradient() == 1  # a fixed order leaves a non-gradient remainder
    swapped = bea.modified_flow(C, [a, b], 1, method=SGD([C2, C1], shuffle=False))
    remainder = (fixed.terms[1] - mean.terms[1]).applyfunc(sp.expand)
    assert remainder != sp.zeros(2, 1)
    assert (remainder + swapped.terms[1] - mean.terms[1]).applyfunc(sp.expand) == sp.zeros(2, 1)


def test_weight_decay_wrapper_is_gd_on_the_l2_loss():
    lam = sp.Symbol("lam")
    wd = bea.modified_flow(E, [a, b], 2, method=WeightDecay(GD(), lam))
    ref = bea.modified_flow(E + lam / 2 * (a**2 + b**2), [a, b], 2)
    assert all(
        (wd.terms[j] - ref.terms[j]).applyfunc(sp.expand) == sp.zeros(2, 1) for j in range(3)
    )


def test_heavy_ball_after_the_transient_follows_its_modified_flow_numerically():
    # θ_{−1} = φ_{−h}(θ_0) puts the run on the invariant manifold; then the global error of the
    # order-p flow at time T must shrink like h^{p+1}
    bval = sp.Rational(1, 2)
    flow = bea.modified_flow(E, [a, b], 2, method=HeavyBall(bval))
    field = compile_flow(flow)
    steps = np.geomspace(0.004, 0.03, 7)
    T = 1.0
    steps = T / np.round(T / steps)
    y0 = np.array([1.5, 0.8])
    back = integrate_flows(lambda Y, H: -field(Y, H), y0, steps, 3)  # φ_{−h}, orders 0..2
    ref = integrate_flows(field, y0, steps, 3, horizon=T)
    grad = sp.lambdify((a, b), [sp.diff(E, v) for v in (a, b)])
    errs = np.empty((3, steps.size))
    for p in range(3):
        prev = back.states[p, :, 0]  # (n_h, 2)
        cur = np.broadcast_to(y0, prev.shape).copy()
        n = np.round(T / steps).astype(int)
        out = np.empty_like(cur)
        for k in range(1, n.max() + 1):  # vectorized over step sizes
            g = np.stack(grad(cur[:, 0], cur[:, 1]), -1)
            cur, prev = cur - steps[:, None] * g + 0.5 * (cur - prev), cur
            done = n == k
            out[done] = cur[done]
        errs[p] = np.linalg.norm(out - ref.states[p, :, 0], axis=-1)
    slopes = [fit_slope(steps, errs[p], np.zeros_like(steps)).slope for p in range(3)]
    assert slopes == pytest.approx([1, 2, 3], abs=0.15)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: HeavyBall(1), r"beta must lie in \[0, 1\)"),
        (lambda: HeavyBall(-0.1), r"beta must lie"),
        (lambda: HeavyBall(0.5, time="wall"), "time must be"),
        (lambda: WeightDecay(GD(), -1), "lam must lie"),
        (lambda: SGD([]), "at least one"),
        (lambda: Adam(0.9, 0.99, 0), r"eps must lie in \(0"),
        (lambda: Adam(0.9, 1, 0.1), r"beta2 must lie in \[0, 1\)"),
        (lambda: RMSProp(-0.5), r"rho must lie in \[0, 1\)"),
    ],
)
def test_bad_hyper_parameters_are_clear_errors(make, message):
    with pytest.raises(bea.InputError, match=message):
        make()


def test_sgd_losses_must_average_to_the_loss():
    with pytest.raises(bea.InputError, match="mean of the SGD"):
        bea.modified_flow(E, [a, b], 1, method=SGD([E, 2 * E]))


def test_method_names_and_symbolic_beta():
    flow = bea.modified_flow(E, [a, b], 1, method="heavy-ball")
    assert beta in flow.terms[0].free_symbols
    with pytest.raises(bea.InputError, match="unknown method"):
        bea.modified_flow(E, [a, b], 1, method="lion")


def test_games_simultaneous_is_explicit_euler_and_alternating_adds_the_coupling_term():
    from bea.optim import Game

    x1, x2, y1 = sp.symbols("x1 x2 y1")
    nu = sp.Symbol("nu", positive=True)
    L1 = x1**2 * y1 + x2 * y1 - x1 * x2**2 / 2
    L2 = -L1 + y1**4 / 4
    X = sp.Matrix([x1, x2, y1])
    g1 = [sp.diff(L1, v) for v in (x1, x2)]
    g2 = [sp.diff(L2, y1)]
    f0 = sp.Matrix([-g1[0], -g1[1], -nu * g2[0]])
    half = -(f0.jacobian(X) * f0) / 2
    sim = Game(L1, L2, [x1, x2], [y1], nu).flow(order=1)
    assert (sim.terms[0] - f0).applyfunc(sp.expand) == sp.zeros(3, 1)
    assert (sim.terms[1] - half).applyfunc(sp.expand) == sp.zeros(3, 1)
    alt = Game(L1, L2, [x1, x2], [y1], nu, alternating=True).flow(order=1)
    # by hand: y' = y − νh g2(x − h g1, y) adds ν (∂_x g2 · g1) h² to the step, so to f_1
    coupling = nu * sum(sp.diff(g2[0], v) * gv for v, gv in zip((x1, x2), g1, strict=True))
    expected = half + sp.Matrix([0, 0, coupling])
    assert (alt.terms[1] - expected).applyfunc(sp.expand) == sp.zeros(3, 1)


def test_bilinear_game_rosca_et_al_simultaneous_diverges_alternating_preserves_area():
    from bea.optim import Game

    x, y = sp.symbols("x y")
    sim = Game(x * y, -x * y, [x], [y]).flow(order=1)
    alt = Game(x * y, -x * y, [x], [y], alternating=True).flow(order=1)
    X = sp.Matrix([x, y])
    assert sim.terms[1].jacobian(X).trace() == 1  # divergence h: outward spiral
    assert alt.terms[1].jacobian(X).trace() == 0  # divergence-free at first order


def test_game_bad_inputs():
    from bea.optim import Game

    x, y = sp.symbols("x y")
    with pytest.raises(bea.InputError, match="ratio must lie"):
        Game(x * y, -x * y, [x], [y], ratio=0)
    with pytest.raises(bea.InputError, match="different symbols"):
        Game(x * y, -x * y, [x], [x])


@pytest.mark.parametrize(
    "method", [HeavyBall(0.5), Nesterov(0.3), WeightDecay(GD(), 0.1)], ids=lambda m: m.name
)
def test_bea_verify_measures_p_plus_1_for_each_optimizer(method):
    v = bea.verify(
        "(a*b - 0.6)**2/2", ["a", "b"], [[1.5, 0.8], [0.5, 2.0]], orders=(0, 1, 2), method=method
    )
    assert [v.global_slopes[p] for p in (0, 1, 2)] == pytest.approx([1, 2, 3], abs=0.12)
    assert [v.local_slopes[p] for p in (0, 1, 2)] == pytest.approx([2, 3, 4], abs=0.12)


def test_bea_verify_momentum_from_the_shell(capsys):
    from bea.cli import main

    args = [
        "verify",
        "--loss",
        "(a*b - 0.6)**2/2",
        "--params",
        "a",
        "b",
        "--point",
        "1.5",
        "0.8",
        "--method",
        "heavy-ball",
        "--orders",
        "0",
        "1",
        "--json",
    ]
    assert main([*args, "--beta", "0.5"]) == 0
    import json

    slopes = json.loads(capsys.readouterr().out)["global_slopes"]
    assert slopes["1"] == pytest.approx(2, abs=0.12)
    assert main(args) == 2
    assert "needs numeric hyper-parameters" in capsys.readouterr().err
    assert (
        main(
            [
                "verify",
                "--loss",
                "a**2",
                "--params",
                "a",
                "--point",
                "1",
                "--method",
                "adam",
            ]
        )
        == 2
    )
    assert "needs numeric hyper-parameters" in capsys.readouterr().err


def _adam_first_order_by_hand(E, params, b1, b2, eps, outside=False):
    """D = m'φ(v') with φ(u) = 1/√(u + ε) (or 1/(√u + ε) with ε outside the root). With the
    slaved moments m = g − hβ₁/(1−β₁)HF0, v = g² − hβ₂/(1−β₂)·2g·HF0 (expanded by hand):
    F0 = −gφ(g²), F1 = −½F0′F0 + β₁/(1−β₁) HF0 φ(g²) + β₂/(1−β₂)·2g²·HF0 φ′(g²).
    Inside: φ′(g²) = −½X^{−3/2}, X = g² + ε; outside: φ′(g²) = −1/(2|g|(|g| + ε)²)."""
    X = sp.Matrix(params)
    g = sp.Matrix([sp.diff(E, v) for v in params])
    u = sp.Symbol("u", positive=True)
    phi = 1 / (sp.sqrt(u) + eps) if outside else 1 / sp.sqrt(u + eps)
    dphi = sp.diff(phi, u)
    at = [{u: gi**2} for gi in g]
    F0 = sp.Matrix([-g[i] * phi.subs(at[i]) for i in range(len(params))])
    HF0 = g.jacobian(X) * F0
    F1 = -F0.jacobian(X) * F0 / 2 + sp.Matrix(
        [
            b1 / (1 - b1) * HF0[i] * phi.subs(at[i])
            + b2 / (1 - b2) * 2 * g[i] ** 2 * HF0[i] * dphi.subs(at[i])
            for i in range(len(params))
        ]
    )
    return F0, F1


@pytest.mark.parametrize("outside", [False, True], ids=["eps-inside", "eps-outside"])
@pytest.mark.parametrize(
    ("b1", "b2"),
    [(sp.Rational(9, 10), sp.Rational(99, 100)), (0, sp.Rational(9, 10))],
    ids=["adam", "rmsprop"],
)
def test_adam_and_rmsprop_first_order_match_the_hand_derivation(b1, b2, outside):
    from bea.optim import Adam

    eps = sp.Rational(1, 10)
    E1 = (a * b - sp.Rational(3, 5)) ** 2 / 2
    flow = bea.modified_flow(E1, [a, b], 1, method=Adam(b1, b2, eps, eps_outside=outside))
    F0, F1 = _adam_first_order_by_hand(E1, [a, b], b1, b2, eps, outside)
    for pt in ({a: sp.Rational(3, 2), b: sp.Rational(-1, 3)}, {a: sp.Rational(1, 5), b: 2}):
        for j, F in enumerate((F0, F1)):
            assert all(abs(sp.N((flow.terms[j][i] - F[i]).subs(pt), 40)) < 1e-30 for i in range(2))
    assert not flow.is_gradient(0)  # a preconditioned gradient, not a gradient


def test_eps_outside_and_inside_differ_and_agree_as_eps_vanishes():
    """PyTorch's ε (outside the root) against the textbook ε (inside): different fields for
    ε > 0, the same field at ε = 0, and RMSProp takes the same switch."""
    from bea.optim import Adam, RMSProp

    eps = sp.Symbol("epsilon", positive=True)
    b1, b2 = sp.Rational(1, 2), sp.Rational(3, 4)
    E1 = (a * b - sp.Rational(3, 5)) ** 2 / 2
    inside = bea.modified_flow(E1, [a, b], 1, method=Adam(b1, b2, eps))
    outside = bea.modified_flow(E1, [a, b], 1, method=Adam(b1, b2, eps, eps_outside=True))
    pt = {a: sp.Rational(3, 2), b: sp.Rational(-1, 3)}
    for j in range(2):
        for u, v in zip(inside.terms[j], outside.terms[j], strict=True):
            assert abs(sp.N((u - v).subs(pt).subs(eps, 0), 40)) < 1e-30
            assert abs(sp.N((u - v).subs(pt).subs(eps, sp.Rational(1, 10)), 40)) > 1e-3
    rms = bea.modified_flow(E1, [a, b], 1, method=RMSProp(b2, eps, eps_outside=True))
    adam0 = bea.modified_flow(E1, [a, b], 1, method=Adam(0, b2, eps, eps_outside=True))
    for j in range(2):
        for u, v in zip(rms.terms[j], adam0.terms[j], strict=True):
            assert sp.N((u - v).subs(pt).subs(eps, sp.Rational(1, 10)), 40) == 0
    with pytest.raises(bea.InputError, match="eps_outside"):
        Adam(b1, b2, eps, eps_outside="yes")


def test_adam_is_a_preconditioned_gradient_and_cattaneo_sign_of_the_one_norm_term():
    from bea.optim import Adam, preconditioned_loss

    t = sp.Symbol("t")
    eps = sp.Symbol("epsilon", positive=True)
    b1, b2 = sp.Rational(9, 10), sp.Rational(999, 1000)
    opt = Adam(b1, b2, eps)
    E1 = t**4 / 4 + t**2 / 2
    flow = bea.modified_flow(E1, [t], 1, method=opt)
    loss = preconditioned_loss(flow, opt.preconditioner(E1, [t]), closed_form=True)
    assert sp.simplify(loss.subs(h, 0) - E1) == 0
    # as ε → 0 the h-term is h(β₁/(1−β₁) − β₂/(1−β₂)) |E′| (+ const): with β₁ < β₂ it is negative,
    # so Adam hinders the reduction of the gradient's one-norm (Cattaneo, Klusowski & Shigida)
    V1 = sp.limit(sp.diff(loss, h), eps, 0, "+")
    coeff = b1 / (1 - b1) - b2 / (1 - b2)
    g = sp.diff(E1, t)
    assert (
        sp.simplify(
            sp.diff(V1, t).subs(t, sp.Rational(1, 2))
            - coeff * sp.diff(g, t).subs(t, sp.Rational(1, 2))
        )
        == 0
    )
    assert coeff < 0


def test_alternating_game_follows_its_modified_flow_numerically():
    from bea.optim import Game

    x, y = sp.symbols("x y")
    g = Game(x * y + x**2 / 2, -x * y + y**2 / 4, [x], [y], 2, alternating=True)
    v = bea.verify_flow(
        g.flow(h, 2),
        g.step_map(h),
        [[0.5, 0.3]],
        orders=(0, 1, 2),
        steps=[0.005 * 1.3**k for k in range(10)],
    )
    assert [v.global_slopes[p] for p in (0, 1, 2)] == pytest.approx([1, 2, 3], abs=0.1)


@pytest.mark.parametrize(
    "method",
    [
        Adam(sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 10)),
        RMSProp(sp.Rational(3, 4), sp.Rational(1, 10)),
        Adam(sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 10), eps_outside=True),
        RMSProp(sp.Rational(3, 4), sp.Rational(1, 10), eps_outside=True),
    ],
    ids=["adam", "rmsprop", "adam-eps-outside", "rmsprop-eps-outside"],
)
def test_adaptive_methods_started_on_the_slow_manifold_follow_their_flows(method):
    # with ε outside the root the global errors reach their asymptotic range at smaller h (the
    # default steps, up to 0.019, give a global slope of 2.14 for order 1; these give 2.06)
    steps = np.geomspace(0.0005, 0.004, 6) if method.eps_outside else None
    v = bea.verify(
        "t**4/4 + t**2/2", ["t"], [[0.8], [-1.2]], orders=(0, 1), method=method, steps=steps
    )
    assert [v.global_slopes[p] for p in (0, 1)] == pytest.approx([1, 2], abs=0.1)
    assert [v.local_slopes[p] for p in (0, 1)] == pytest.approx([2, 3], abs=0.1)


def test_extragradient_first_order_term_is_plus_half_H_grad_like_the_proximal_point_method():
    from bea.optim import Extragradient

    eg = bea.modified_flow(E, [a, b], 2, method=Extragradient())
    gd = bea.modified_flow(E, [a, b], 2)
    pp = bea.modified_flow(E, [a, b], 2, method=ProximalPoint())
    # by hand: θ − h∇E(θ − h∇E) = θ − hg + h²Hg + O(h³), so f₁ = Hg − ½Hg = +½Hg
    assert all(sp.expand(eg.terms[1][i] - H_G[i] / 2) == 0 for i in range(2))
    assert (eg.terms[1] + gd.terms[1]).applyfunc(sp.expand) == sp.zeros(2, 1)
    assert (eg.terms[1] - pp.terms[1]).applyfunc(sp.expand) == sp.zeros(2, 1)
    assert (eg.terms[2] - pp.terms[2]).applyfunc(sp.expand) != sp.zeros(2, 1)  # they part at h²


def test_adamw_decay_is_not_preconditioned_unlike_l2_decay_inside_adam():
    """Loshchilov & Hutter (ICLR 2019): with an adaptive method, decoupled weight decay is not L2
    regularisation. To leading order AdamW follows −P∇E − λθ, L2 decay inside Adam follows
    −P̃(∇E + λθ) (P̃ from the decayed gradient): the two stop at different points."""
    a, b = sp.symbols("a b")
    E = (a * b - sp.Rational(3, 5)) ** 2 / 2 + a**4 / 4
    b1, b2, eps, lam = sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 10), sp.Rational(1, 5)
    decoupled = bea.modified_flow(E, [a, b], 1, method=AdamW(b1, b2, eps, lam))
    coupled = bea.modified_flow(E, [a, b], 1, method=WeightDecay(Adam(b1, b2, eps), lam))
    g = [sp.diff(E, s) for s in (a, b)]
    point = {a: sp.Rational(4, 5), b: sp.Rational(-1, 3)}
    for i, s in enumerate((a, b)):
        want = -g[i] / sp.sqrt(g[i] ** 2 + eps) - lam * s
        assert abs(sp.N((decoupled.terms[0][i] - want).xreplace(point), 40)) < 1e-35
        gl = g[i] + lam * s
        want = -gl / sp.sqrt(gl**2 + eps)
        assert abs(sp.N((coupled.terms[0][i] - want).xreplace(point), 40)) < 1e-35
    # with λ = 0 AdamW is Adam, term by term
    plain = bea.modified_flow(E, [a, b], 1, method=Adam(b1, b2, eps))
    no_decay = bea.modified_flow(E, [a, b], 1, method=AdamW(b1, b2, eps, 0))
    for j in range(2):
        for u, v in zip(plain.terms[j], no_decay.terms[j], strict=True):
            assert abs(sp.N((u - v).xreplace(point), 40)) < 1e-35
    # and it follows its flow numerically: local error O(h^(p+2))
    v = bea.verify(E, [a, b], [[0.8, -0.3]], orders=(0, 1), method=AdamW(b1, b2, eps, lam))
    assert np.allclose([v.local_slopes[0], v.local_slopes[1]], [2, 3], atol=0.15)


def test_effective_time_heavy_ball_is_verified_numerically():
    """Ghosh et al.'s normalisation (one step = time h/(1 − β)) is measured like the step-time
    flow: local slopes p + 2 and global slopes p + 1."""
    v = bea.verify(
        "(a*b - 0.6)**2/2",
        ["a", "b"],
        [1.5, 0.8],
        orders=(0, 1, 2),
        method=HeavyBall(sp.Rational(1, 2), "effective"),
    )
    for p in (0, 1, 2):
        assert abs(v.local_slopes[p] - (p + 2)) < 0.15
        assert abs(v.global_slopes[p] - (p + 1)) < 0.15
