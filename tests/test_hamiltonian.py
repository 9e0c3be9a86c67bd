"""Modified Hamiltonians of symplectic methods (Hairer, Lubich & Wanner, Geometric Numerical
Integration, ch. IX), each checked by an independent route: the truncated H̃ must be conserved by
the method's own step map to the order the truncation promises (an exact series in h), and the
harmonic oscillator's Störmer–Verlet series must match its closed form."""

from __future__ import annotations

import pytest
import sympy as sp

import bea

q, p, h = sp.symbols("q p h")
T = p**2 / 2 + p**4 / 4  # a separable, non-quadratic H = T(p) + U(q)
U = q**4 / 4 + q**2 / 2


def symplectic_euler(T, U):
    """p' = p − hU′(q), q' = q + hT′(p') (explicit for separable H)."""
    p1 = p - h * sp.diff(U, q)
    return sp.Matrix([q + h * sp.diff(T, p).subs(p, p1), p1])


def stormer_verlet(T, U):
    """Kick–drift–kick: p½ = p − (h/2)U′(q), q' = q + hT′(p½), p' = p½ − (h/2)U′(q')."""
    half = p - h / 2 * sp.diff(U, q)
    q1 = q + h * sp.diff(T, p).subs(p, half)
    return sp.Matrix([q1, half - h / 2 * sp.diff(U, q).subs(q, q1)])


def conservation_defect(H, step, upto):
    """Coefficients of h¹ … h^upto in H(Φ_h(y)) − H(y), expanded exactly."""
    if H.is_polynomial(q, p, h) and all(c.is_polynomial(h) for c in step):
        # a polynomial: drop the powers of h above upto from the step first (they cannot reach
        # the coefficients wanted), then expand
        ring = sp.ring([q, p, h], sp.QQ)[0]
        cut = [ring(sp.expand(c)) for c in step]
        cut = [ring.from_terms([t for t in c.terms() if t[0][2] <= upto]) for c in cut]
        moved = ring(sp.expand(H)).compose([(ring.gens[0], cut[0]), (ring.gens[1], cut[1])])
        moved -= ring(sp.expand(H))
        return [
            sp.expand(sum((c * q ** m[0] * p ** m[1] for m, c in moved.terms() if m[2] == k), 0))
            for k in range(1, upto + 1)
        ]
    moved = H.subs({q: step[0], p: step[1]}, simultaneous=True) - H
    series = sp.series(moved, h, 0, upto + 1).removeO()
    return [sp.expand(series.coeff(h, k)) for k in range(1, upto + 1)]


def test_symplectic_euler_h1_and_h2_match_hlw_and_are_conserved_to_order_h3():
    H = T + U
    flow = bea.modified_equation(symplectic_euler(T, U), [q, p], h, order=2)
    Hq, Hp = sp.diff(H, q), sp.diff(H, p)
    assert flow.hamiltonian(0, hamiltonian=H) == H
    assert sp.expand(flow.hamiltonian(1) + Hp * Hq / 2) == 0  # H₁ = −½ H_p H_q
    # HLW IX.3: H₂ = (H_pp H_q² + H_qq H_p² + 4 H_pq H_p H_q)/12 (H_pq = 0 here)
    H2 = (sp.diff(H, p, 2) * Hq**2 + sp.diff(H, q, 2) * Hp**2) / 12
    assert sp.expand(flow.hamiltonian(2) - H2) == 0
    Ht = flow.modified_hamiltonian(hamiltonian=H)
    # the method follows the flow of H̃ up to O(h⁴) per step, so it conserves H̃ to O(h⁴)
    assert conservation_defect(Ht, symplectic_euler(T, U), 3) == [0, 0, 0]
    # the control: H itself is conserved only to O(h²), and a wrong H₂ shows at h³
    assert conservation_defect(H, symplectic_euler(T, U), 2)[1] != 0
    wrong = Ht - h**2 * H2 / 2
    assert conservation_defect(wrong, symplectic_euler(T, U), 3)[2] != 0


def test_stormer_verlet_has_only_even_terms_and_conserves_h_tilde_to_order_h5():
    H = T + U
    step = stormer_verlet(T, U)
    flow = bea.modified_equation(step, [q, p], h, order=3)
    assert flow.hamiltonian(1) == 0 and flow.hamiltonian(3) == 0
    Ht = flow.modified_hamiltonian(hamiltonian=H)
    assert conservation_defect(Ht, step, 4) == [0, 0, 0, 0]


def test_stormer_verlet_on_the_oscillator_matches_its_closed_form():
    """Kick–drift–kick on H = (p² + q²)/2 conserves I = p² + (1 − h²/4)q² exactly and turns by
    ω̃h = arccos(1 − h²/2) per step, so H̃ = ω̃ I / (2√(1 − h²/4)) — expanded here to h⁴."""
    H = (p**2 + q**2) / 2
    step = stormer_verlet(p**2 / 2, q**2 / 2)
    invariant = p**2 + (1 - h**2 / 4) * q**2
    assert sp.expand(invariant.subs({q: step[0], p: step[1]}, simultaneous=True) - invariant) == 0
    omega = sp.acos(1 - h**2 / 2) / h
    closed = sp.series(omega / (2 * sp.sqrt(1 - h**2 / 4)), h, 0, 5).removeO() * invariant
    closed = sp.expand(sp.series(sp.expand(closed), h, 0, 5).removeO())
    flow = bea.modified_equation(step, [q, p], h, order=4)
    assert sp.expand(flow.modified_hamiltonian(hamiltonian=H) - closed) == 0


def test_the_pendulum_modified_energy_with_symplectic_euler():
    H = p**2 / 2 - sp.cos(q)
    step = symplectic_euler(p**2 / 2, -sp.cos(q))
    flow = bea.modified_equation(step, [q, p], h, order=2)
    assert flow.hamiltonian(1, hamiltonian=H) == -p * sp.sin(q) / 2
    Ht = flow.modified_hamiltonian(hamiltonian=H)
    assert [sp.simplify(c) for c in conservation_defect(Ht, step, 3)] == [0, 0, 0]


def test_explicit_euler_is_not_hamiltonian_and_the_error_says_where():
    step = sp.Matrix([q + h * p, p - h * q])  # explicit Euler on the oscillator
    flow = bea.modified_equation(step, [q, p], h, order=2)
    # f₁ = (q, p)/2 is not Hamiltonian; for a linear field f = Jy every f_j is c_j J^{j+1}y
    # and J² = −I, so the even terms are Hamiltonian again (f₂ = −Jy/3)
    assert [flow.is_hamiltonian(j) for j in range(3)] == [True, False, True]
    with pytest.raises(bea.NotHamiltonianError, match="f_1 .*not Hamiltonian") as err:
        flow.modified_hamiltonian(hamiltonian=(p**2 + q**2) / 2)
    assert err.value.order == 1 and err.value.obstruction != sp.zeros(2, 2)
    assert "\n" not in str(err.value)
    assert sp.expand(flow.modified_hamiltonian(0) - (p**2 + q**2) / 2) == 0  # order 0 exists


def test_a_given_poisson_matrix_and_bad_structures():
    """State (p, q) with B = −J gives the same H_j as the canonical (q, p)."""
    H = T + U
    canonical = bea.modified_equation(symplectic_euler(T, U), [q, p], h, order=2)
    swapped_step = symplectic_euler(T, U)[::-1, :]
    swapped = bea.modified_equation(swapped_step, [p, q], h, order=2)
    B = [[0, -1], [1, 0]]
    for j in range(3):
        assert sp.expand(swapped.hamiltonian(j, poisson=B) - canonical.hamiltonian(j)) == 0
        # the canonical J on (p, q) is −B: every H_j changes sign
        assert sp.expand(swapped.hamiltonian(j) + canonical.hamiltonian(j)) == 0
    one = bea.modified_equation(sp.Matrix([q - h * q]), [q], h, order=1)
    with pytest.raises(bea.InputError, match="even dimension"):
        one.hamiltonian(0)
    for bad, message in [
        ([[0, 1], [1, 0]], "antisymmetric"),
        ([[0, 0], [0, 0]], "invertible"),
        ([[0, "x"], ["-x", 0]], "exact rational"),
        ("[[0, 1], [-1, 0]]", "list of entries"),
    ]:
        with pytest.raises(bea.InputError, match=message):
            canonical.hamiltonian(1, poisson=bad)
    with pytest.raises(bea.InputError, match="not allowed|never accepted"):
        canonical.hamiltonian(0, hamiltonian="__import__('os').getcwd()")
    assert canonical.hamiltonian(0, hamiltonian=str(H)) == H
    with pytest.raises(bea.InputError, match="is not B∇H for the given Hamiltonian"):
        canonical.hamiltonian(1, hamiltonian=H + q**3)


# ---------------------------------------------------------------- bea.hamiltonian_flow and CLI
def test_the_named_methods_are_the_hand_written_maps():
    H = T + U
    for name, step in [("symplectic-euler", symplectic_euler), ("stormer-verlet", stormer_verlet)]:
        flow = bea.hamiltonian_flow(H, [q], [p], 2, name)
        hand = bea.modified_equation(step(T, U), [q, p], h, 2)
        assert flow.method == name
        for j in range(3):
            assert sp.expand(flow.terms[j] - hand.terms[j]) == sp.zeros(2, 1)


def test_the_adjoint_of_symplectic_euler_flips_the_odd_terms():
    """f*_j = (−1)^j f_j for the adjoint method (HLW IX.2), so H₁* = −H₁ = H_pH_q/2."""
    H = T + U
    flow = bea.hamiltonian_flow(H, [q], [p], 2, "symplectic-euler")
    adjoint = bea.hamiltonian_flow(H, [q], [p], 2, "symplectic-euler-adjoint")
    assert sp.expand(adjoint.hamiltonian(1) - sp.diff(H, p) * sp.diff(H, q) / 2) == 0
    assert sp.expand(adjoint.hamiltonian(2) - flow.hamiltonian(2)) == 0


@pytest.mark.parametrize(
    "method, first_bad",
    [
        ("symplectic-euler", None),
        ("symplectic-euler-adjoint", None),
        ("stormer-verlet", None),
        ("implicit-midpoint", None),
        ("gauss-order-4", None),
        ("explicit-euler", 1),
        ("implicit-euler", 1),
        ("heun", 3),
        ("explicit-midpoint", 2),
        ("trapezoid", 2),
    ],
)
def test_symplectic_methods_have_a_modified_hamiltonian_and_others_do_not(method, first_bad):
    """Symplecticity (HLW VI.4): the Gauss methods and the symplectic Euler / Störmer–Verlet maps
    are symplectic; a method of order r that is not has a non-Hamiltonian term at some j ≥ r.
    The h² term is Hamiltonian iff the modified-equation coefficients of the 3-node trees satisfy
    b([•,•]) + b([[•]]) = 0 (b(u∘v) + b(v∘u) = 0), with b(τ) = a(τ) − 1/γ(τ) for an order-2
    method: Heun (b, c = (½, ½), (0, 1)) gives ½ − ⅓ + 0 − ⅙ = 0, so its first non-Hamiltonian
    term is f₃; the explicit midpoint rule gives ¼ − ⅓ − ⅙ ≠ 0 and the trapezoidal rule
    ½ − ⅓ + ¼ − ⅙ ≠ 0 (f₂)."""
    flow = bea.hamiltonian_flow(T + U, [q], [p], 3, method)
    flags = [flow.is_hamiltonian(j) for j in range(4)]
    assert (None if all(flags) else flags.index(False)) == first_bad


def test_a_non_separable_hamiltonian_and_bad_input():
    H = p**2 / 2 + p * q**2
    flow = bea.hamiltonian_flow(H, [q], [p], 2, "implicit-midpoint")
    assert flow.hamiltonian(1) == 0 and flow.is_hamiltonian(2)
    with pytest.raises(bea.InputError, match="unknown method"):
        bea.hamiltonian_flow(H, [q], [p], 1, "leapfrog-ish")
    with pytest.raises(bea.InputError, match="as many momenta"):
        bea.hamiltonian_flow(H, [q, p], [p], 1)
    with pytest.raises(bea.InputError, match="depends on none"):
        bea.hamiltonian_flow("1 + 0*q", [q], [p], 1)


def test_cli_method_names_are_the_library_names():
    from bea.cli import HAMILTONIAN_METHOD_NAMES
    from bea.hamiltonian import HAMILTONIAN_METHODS

    assert HAMILTONIAN_METHOD_NAMES == HAMILTONIAN_METHODS


def test_cli_prints_the_modified_hamiltonian_or_says_where_it_stops(capsys):
    import json

    from bea.cli import main

    assert main(["hamiltonian", "p**2/2 - cos(q)", "--q", "q", "--p", "p", "--order", "1"]) == 0
    out = capsys.readouterr().out
    assert "H~ = -h*p*sin(q)/2 + p**2/2 - cos(q)" in out and "NOT" not in out
    argv = ["hamiltonian", "(p**2 + q**2)/2", "--q", "q", "--p", "p", "--method"]
    assert main([*argv, "explicit-euler"]) == 0
    out = capsys.readouterr().out
    assert "order 1: no modified Hamiltonian exists - f_1 is not Hamiltonian" in out
    assert main([*argv, "stormer-verlet", "--order", "2", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hamiltonian_terms"] == [True, True, True]
    assert data["first_non_hamiltonian"] is None and data["modified_hamiltonian_order"] == 2
    Ht = sp.parse_expr(data["modified_hamiltonian"], local_dict={"q": q, "p": p, "h": h})
    assert sp.expand(Ht - (p**2 + q**2) / 2 - h**2 * (p**2 / 12 - q**2 / 24)) == 0
    assert main([*argv, "stormer-verlet", "--format", "latex"]) == 0
    assert "\\tilde H" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["p**2/2 + p*q**2", "--q", "q", "--p", "p", "--order", "-1"], "order"),
        (["__import__('os')", "--q", "q", "--p", "p"], "never accepted|not allowed"),
        (["p**2 + q**2", "--q", "q", "--p", "q"], "both a position and a momentum"),
        (["p**2 + q**2", "--q", "q", "--p", "p", "--method", "lion"], "invalid choice"),
    ],
)
def test_cli_refuses_bad_input_in_one_line(argv, message, capsys):
    from bea.cli import main

    with pytest.raises(SystemExit) if "--method" in argv else _no_raise():
        assert main(["hamiltonian", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bea: error:") and "\n" not in err
    assert __import__("re").search(message, err)


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_implicit_midpoint_on_a_non_separable_hamiltonian_conserves_its_h_tilde():
    """The implicit step y' = y + h f((y + y')/2) is solved as a series in h (each fixed-point
    sweep fixes one more power), and the method conserves bea's H̃ to O(h⁵)."""
    H = p**2 / 2 + p * q**2
    f = sp.Matrix([sp.diff(H, p), -sp.diff(H, q)])
    y = sp.Matrix([q, p])
    step = y
    for _ in range(6):
        mid = (y + step) / 2
        new = y + h * f.subs({q: mid[0], p: mid[1]}, simultaneous=True)
        step = new.applyfunc(lambda e: sp.expand(sp.series(sp.expand(e), h, 0, 6).removeO()))
    flow = bea.hamiltonian_flow(H, [q], [p], 3, "implicit-midpoint")
    Ht = flow.modified_hamiltonian(hamiltonian=H)
    assert conservation_defect(Ht, step, 4) == [0, 0, 0, 0]
    assert conservation_defect(H, step, 3)[2] != 0  # the control: H itself drifts at h³
    Hqq, Hqp, Hpp = sp.diff(H, q, 2), sp.diff(H, q, p), sp.diff(H, p, 2)
    second = Hqq * f[0] ** 2 + 2 * Hqp * f[0] * f[1] + Hpp * f[1] ** 2  # ∇²H(f, f)
    assert sp.expand(flow.hamiltonian(2) + second / 24) == 0


# ------------------------------------------------------------- partitioned Runge-Kutta methods
def test_partitioned_pairs_symplecticity_condition():
    from bea.bseries.prk import PRK_METHODS, PartitionedRungeKutta

    assert all(m.is_symplectic() for m in PRK_METHODS.values())
    lobatto_iiia = [[0, 0], ["1/2", "1/2"]]
    both_iiia = PartitionedRungeKutta(lobatto_iiia, ["1/2", "1/2"], lobatto_iiia, ["1/2", "1/2"])
    assert not both_iiia.is_symplectic()  # Lobatto IIIA alone is the trapezoidal rule
    from bea.bseries.rk import METHODS

    gauss = METHODS["Gauss (order 4)"]  # radicals: the condition must simplify, not compare
    assert PartitionedRungeKutta(gauss.A, gauss.b, gauss.A, gauss.b).is_symplectic()
    with pytest.raises(bea.InputError, match="sum to 1"):
        PartitionedRungeKutta([[0]], [1], [[1]], ["1/2"])
    with pytest.raises(bea.InputError, match="s × s"):
        PartitionedRungeKutta([[0, 0]], [1], [[1]], [1])


@pytest.mark.parametrize(
    ("method", "pair"),
    [("symplectic-euler", "symplectic Euler"), ("stormer-verlet", "Lobatto IIIA-IIIB 2")],
)
def test_pairs_give_the_explicit_maps_fields_on_a_separable_hamiltonian(method, pair):
    from bea.bseries.prk import PRK_METHODS

    H = p**2 / 2 - sp.cos(q)
    explicit = bea.hamiltonian_flow(H, [q], [p], 3, method)
    step = PRK_METHODS[pair].step_map([sp.diff(H, p)], [-sp.diff(H, q)], [q], [p], h, 3)
    paired = bea.modified_equation(step, [q, p], h, 3)
    for j in range(4):
        assert (explicit.terms[j] - paired.terms[j]).applyfunc(sp.simplify) == sp.zeros(2, 1)


def test_stormer_verlet_on_a_non_separable_hamiltonian_is_symmetric_symplectic_and_conserving():
    from bea.bseries.prk import LOBATTO_IIIA_IIIB_2

    H = p**2 / 2 + p * q**2 + q**4 / 4
    flow = bea.hamiltonian_flow(H, [q], [p], 3, "stormer-verlet")
    assert flow.terms[1] == sp.zeros(2, 1) and flow.terms[3] == sp.zeros(2, 1)
    assert all(flow.is_hamiltonian(j) for j in range(4))
    Ht = flow.modified_hamiltonian(hamiltonian=H)
    step = LOBATTO_IIIA_IIIB_2.step_map([sp.diff(H, p)], [-sp.diff(H, q)], [q], [p], h, 3)
    assert conservation_defect(Ht, step, 4) == [0, 0, 0, 0]
    assert conservation_defect(H, step, 3)[2] != 0  # the control: H itself is not conserved


def test_three_stage_lobatto_pair_has_order_four_and_hamiltonian_terms():
    H = p**2 / 2 + p * q**2 + q**4 / 4
    flow = bea.hamiltonian_flow(H, [q], [p], 4, "lobatto-iiia-iiib-3")
    assert [flow.terms[j] == sp.zeros(2, 1) for j in range(5)] == [False, True, True, True, False]
    assert flow.is_hamiltonian(4)
    # a pair that is not symplectic: the first non-zero correction is not Hamiltonian
    from bea.bseries.prk import PartitionedRungeKutta

    half = sp.Rational(1, 2)
    trapezoid = PartitionedRungeKutta(
        [[0, 0], [half, half]], [half, half], [[0, 0], [half, half]], [half, half]
    )
    step = trapezoid.step_map([sp.diff(H, p)], [-sp.diff(H, q)], [q], [p], h, 2)
    assert not bea.modified_equation(step, [q, p], h, 2).is_hamiltonian(2)


def test_pair_orders_from_bicoloured_trees():
    """P-series order conditions: the named pairs have orders 1, 1, 2, 4 (HLW II.2); a pair of
    one tableau has that tableau's order from its B-series (an independent route); and the
    three-stage pair's order 4 is also what its modified field shows (f₁ = f₂ = f₃ = 0, above)."""
    from bea.bseries.prk import PRK_METHODS, PartitionedRungeKutta
    from bea.bseries.rk import METHODS, order_of_accuracy

    orders = {name: m.order_of_accuracy() for name, m in PRK_METHODS.items()}
    assert orders == {
        "symplectic Euler": 1,
        "symplectic Euler adjoint": 1,
        "Lobatto IIIA-IIIB 2": 2,
        "Lobatto IIIA-IIIB 3": 4,
    }
    for name in ("RK4", "Heun", "explicit midpoint", "Gauss (order 4)"):
        rk = METHODS[name]
        pair = PartitionedRungeKutta(rk.A, rk.b, rk.A, rk.b, name)
        assert pair.order_of_accuracy() == order_of_accuracy(rk.bseries(6)), name
    with pytest.raises(bea.InputError, match="maximum"):
        PRK_METHODS["symplectic Euler"].order_of_accuracy(9)


def test_pair_order_from_trees_matches_the_modified_field():
    """Heun for q with the explicit midpoint rule for p: each tableau has order 2, but the
    coupling conditions on bicoloured trees fail, so the pair has order 1 — and its modified field
    on a generic non-separable H has f₁ ≠ 0. Heun with a IIIB-like tableau for p keeps order 2
    (f₁ = 0, f₂ ≠ 0). Two routes: trees, and the Taylor series of the step."""
    from bea.bseries.prk import PartitionedRungeKutta

    r = sp.Rational
    heun = ([[0, 0], [1, 0]], [r(1, 2), r(1, 2)])
    pairs = {
        1: PartitionedRungeKutta(*heun, [[0, 0], [r(1, 2), 0]], [0, 1]),
        2: PartitionedRungeKutta(*heun, [[r(1, 2), 0], [r(1, 2), 0]], [r(1, 2), r(1, 2)]),
    }
    H = p**3 / 3 + p * q**2 + q**4 / 4 + p * q
    for expected, pair in pairs.items():
        assert pair.order_of_accuracy() == expected
        step = pair.step_map([sp.diff(H, p)], [-sp.diff(H, q)], [q], [p], h, 3)
        flow = bea.modified_equation(step, [q, p], h, 3)
        first = next(j for j in range(1, 4) if flow.terms[j] != sp.zeros(2, 1))
        assert first == expected
