"""Adam's bias-correction transient against its closed-form size h·H F₀·kβᵏ/(1 − βᵏ)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import bea
from bea.optim import Adam, AdamW, RMSProp

HALF, THREE_QUARTERS, TENTH = sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(1, 10)


@pytest.mark.parametrize(
    ("loss", "params", "point", "method"),
    [
        ("t**4/4 + t**2/2", ["t"], [0.8], Adam(HALF, THREE_QUARTERS, TENTH)),
        ("t**4/4 + t**2/2", ["t"], [0.8], Adam(HALF, THREE_QUARTERS, TENTH, eps_outside=True)),
        ("(a*b - 0.6)**2/2 + a**4/4", ["a", "b"], [1.2, 0.9], AdamW(HALF, 0.8, TENTH, 0.2)),
    ],
    ids=["adam", "adam-eps-outside", "adamw-2d"],
)
def test_the_transient_has_its_predicted_size_to_leading_order(loss, params, point, method):
    steps = np.array([0.02, 0.01, 0.005])
    tr = bea.bias_correction_transient(loss, params, point, method, steps=steps, n=12)
    for key in ("m", "v"):
        for k in (0, 1, 4):  # steps 1, 2 and 5, inside the transient
            gap = np.abs(tr.measured[key][:, k] / tr.predicted[key][:, k] - 1)
            # measured = predicted·(1 + O(h)): the gap halves with h, and is small
            assert gap[2] < 0.25 and gap[2] < 0.65 * gap[1] < 0.65**2 * gap[0], (key, k, gap)
    # the corrected deviation is O(h), the uncorrected one O(1)
    first = tr.measured["m"][:, 0]
    assert first[2] < 0.6 * first[0]
    assert np.all(tr.measured["m, no correction"][:, 0] > 5 * first)


def test_rmsprop_has_no_first_moment_transient_and_the_length_follows_beta2():
    tr = bea.bias_correction_transient(
        "t**2/2", ["t"], [1.0], RMSProp(THREE_QUARTERS, TENTH), steps=[0.01], n=200
    )
    assert np.all(tr.predicted["m"] == 0)
    n_fast = tr.length(1e-6)
    slow = bea.bias_correction_transient(
        "t**2/2", ["t"], [1.0], RMSProp(sp.Rational(9, 10), TENTH), steps=[0.01], n=400
    )
    # kβᵏ < c: the length grows like 1/(1 − β) log(1/c), here about 2.5× from β = 0.75 to 0.9
    assert 2 < slow.length(1e-6) / n_fast < 4
    with pytest.raises(bea.InputError, match="still above"):
        tr.length(1e-300)
    for bad in ("1e-3", -1.0, float("nan")):
        with pytest.raises(bea.InputError, match="tolerance"):
            tr.length(bad)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": bea.optim.GD()}, "Adam"),
        ({"method": Adam()}, "numeric"),
        ({"point": [1.0, 2.0]}, "point"),
        ({"point": "1"}, "point"),
        ({"steps": [0.0]}, "positive"),
        ({"n": 0}, "n must be"),
    ],
)
def test_bad_input_is_one_clear_error(kwargs, message):
    args = {"loss": "t**2/2", "params": ["t"], "point": [1.0], "method": Adam(0.5, 0.75, 0.1)}
    with pytest.raises(bea.InputError, match=message):
        bea.bias_correction_transient(**{**args, **kwargs})


T_ = sp.Symbol("t")
E_ADAM = T_**4 / 4 + T_**2 / 2


def _bias_corrected_adam(hv: float, n: int, theta: float = 0.8) -> list[float]:
    """θ₀ … θ_n of Adam (β₁ = 1/2, β₂ = 3/4, ε = 1/10) with bias correction from m₀ = v₀ = 0."""
    grad = sp.lambdify(T_, sp.diff(E_ADAM, T_))
    m = v = 0.0
    out = [theta]
    for k in range(1, n + 1):  # one trajectory: each step needs the last
        g = grad(theta)
        m, v = 0.5 * m + 0.5 * g, 0.75 * v + 0.25 * g**2
        theta -= hv * (m / (1 - 0.5**k)) / np.sqrt(v / (1 - 0.75**k) + 0.1)
        out.append(theta)
    return out


def _along_flow(orders, hv: float, start: float, time: float) -> dict[int, float]:
    """θ(time) along bea's truncated Adam flows of the given orders, from ``start``."""
    from scipy.integrate import solve_ivp

    flow = bea.modified_flow(E_ADAM, [T_], max(orders), method=Adam(HALF, THREE_QUARTERS, TENTH))
    out = {}
    for p in orders:
        f = sp.lambdify((T_, flow.h), flow.vector_field(p)[0])
        ref = solve_ivp(
            lambda s, y, f=f: [f(y[0], hv)],
            (0, time),
            [start],
            rtol=1e-13,
            atol=1e-16,
            method="DOP853",
        )
        out[p] = ref.y[0, -1]
    return out


def _slopes(steps, errors: dict) -> dict:
    return {p: np.polyfit(np.log(steps), np.log(e), 1)[0] for p, e in errors.items()}


STEPS = np.array([0.02, 0.01, 0.005, 0.0025])


def test_from_zero_moments_the_transient_caps_the_global_order_at_two():
    """Bias-corrected Adam from m₀ = v₀ = 0 against bea's flows started at the same θ₀: the
    transient shifts the trajectory by O(h²), so the global error at T = 1 is O(h) for p = 0 and
    O(h²) for every p ≥ 2 (not O(h^{p+1}))."""
    errors = {0: [], 2: []}
    for hv in STEPS:
        theta = _bias_corrected_adam(hv, round(1 / hv))[-1]
        for p, ref in _along_flow((0, 2), hv, 0.8, 1.0).items():
            errors[p].append(abs(ref - theta))
    slopes = _slopes(STEPS, errors)
    assert abs(slopes[0] - 1) < 0.2 and abs(slopes[2] - 2) < 0.3, slopes


def test_past_the_transient_the_flows_hold_again_one_step_at_a_time():
    """From t = 0.5 (K = 0.5/h bias-corrected steps in, where h·Kβᵏ is below any power of h),
    one more step has local error O(h^{p+2}) against bea's flows: slopes 2 and 3 for p = 0, 1."""
    errors = {0: [], 1: []}
    for hv in STEPS:
        run = _bias_corrected_adam(hv, round(0.5 / hv) + 1)
        for p, ref in _along_flow((0, 1), hv, run[-2], hv).items():
            errors[p].append(abs(ref - run[-1]))
    slopes = _slopes(STEPS, errors)
    assert abs(slopes[0] - 2) < 0.25 and abs(slopes[1] - 3) < 0.25, slopes
