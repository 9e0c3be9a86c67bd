"""Splitting and composition methods: the modified field of a product of exact sub-flows.

A splitting method for ẏ = f_A(y) + f_B(y) advances by exact flows of the parts, e.g. Strang's
φ^A_{h/2} ∘ φ^B_h ∘ φ^A_{h/2}. Its step map is not explicit in general, but its Taylor series in h
is: for any function u, u ∘ φ^X_{ch} = exp(c h L_X) u with the Lie derivative L_X u = f_X · ∇u,
so u ∘ Φ_h = exp(c₁hL₁) exp(c₂hL₂) ⋯ u for the sub-flows applied in the order 1, 2, … (Hairer,
Lubich & Wanner, III.5). bea sums these Lie series exactly in its differential ring, to the power
of h an order needs, and hands the resulting map to the Taylor route: the modified field is then
the BCH series of the method (Lie–Trotter: f_A + f_B + (h/2)[f_A, f_B] + …).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.polys.domains import QQ

from ._checks import check_order, check_step_symbol, check_symbols
from .diffring import DiffRing
from .errors import InputError
from .flow import ModifiedFlow
from .parsing import as_expression, as_matrix
from .routes import modified_equation

__all__ = ["Splitting"]


@dataclass(frozen=True)
class Splitting:
    """A composition of exact flows of vector fields f_1, …, f_m, each run for c·h.

    Parameters
    ----------
    fields : sequence of columns of expressions
        The parts f_X of the field (strings are read by bea's safe parser).
    sequence : sequence of (int, number or symbol)
        ``(X, c)``: run the exact flow of ``fields[X]`` for time c·h; the first pair acts first.

    Examples
    --------
    Lie–Trotter on the pendulum split into drift and kick is symplectic Euler (q first):

    >>> import sympy as sp
    >>> q, p, h = sp.symbols("q p h")
    >>> lt = Splitting.lie_trotter([p, 0], [0, -sp.sin(q)])
    >>> lt.modified_equation([q, p], h, 1).terms[1].T
    Matrix([[sin(q)/2, -p*cos(q)/2]])
    """

    fields: tuple[tuple[sp.Expr, ...], ...]
    sequence: tuple[tuple[int, sp.Expr], ...]

    def __post_init__(self):
        if isinstance(self.fields, str) or len(self.fields) < 1:
            raise InputError("a splitting needs a list of vector fields")
        fields = tuple(
            tuple(as_matrix(f, what=f"field {k} of the splitting"))
            for k, f in enumerate(self.fields)
        )
        if len({len(f) for f in fields}) != 1:
            raise InputError("the fields of a splitting must have the same number of components")
        sequence = []
        for item in self.sequence:
            if isinstance(item, str) or len(item) != 2:
                raise InputError(
                    f"each step of a splitting is a pair (field index, c), got {item!r}"
                )
            part, c = item
            if isinstance(part, bool) or not isinstance(part, int) or not 0 <= part < len(fields):
                raise InputError(f"field index must be in 0..{len(fields) - 1}, got {part!r}")
            c = as_expression(c, what="splitting coefficient")
            sequence.append((part, c))
        if not sequence:
            raise InputError("a splitting needs at least one step")
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "sequence", tuple(sequence))

    @classmethod
    def lie_trotter(cls, f_a, f_b) -> Splitting:
        """φ^B_h ∘ φ^A_h (first A, then B): order 1.

        Examples
        --------
        >>> Splitting.lie_trotter(["1", "0"], ["0", "1"]).sequence
        ((0, 1), (1, 1))
        """
        return cls((f_a, f_b), ((0, 1), (1, 1)))

    @classmethod
    def strang(cls, f_a, f_b) -> Splitting:
        """φ^A_{h/2} ∘ φ^B_h ∘ φ^A_{h/2}: symmetric, order 2.

        Examples
        --------
        >>> Splitting.strang(["1", "0"], ["0", "1"]).sequence
        ((0, 1/2), (1, 1), (0, 1/2))
        """
        half = sp.Rational(1, 2)
        return cls((f_a, f_b), ((0, half), (1, 1), (0, half)))

    @classmethod
    def composition(cls, f_a, f_b, gammas: Sequence) -> Splitting:
        """Strang steps of sizes γ₁h, γ₂h, … in turn (adjacent half steps of A merged); the
        triple jump is γ = (γ₁, γ₂, γ₁) with 2γ₁ + γ₂ = 1 and 2γ₁³ + γ₂³ = 0 (order 4).

        Examples
        --------
        >>> g1, g2 = sp.symbols("g1 g2")
        >>> Splitting.composition(["1", "0"], ["0", "1"], [g1, g2, g1]).sequence
        ((0, g1/2), (1, g1), (0, g1/2 + g2/2), (1, g2), (0, g1/2 + g2/2), (1, g1), (0, g1/2))
        """
        if isinstance(gammas, str) or not len(gammas):
            raise InputError("give the step fractions gammas as a non-empty list")
        gammas = [as_expression(g, what="composition step") for g in gammas]
        seq: list[tuple[int, sp.Expr]] = [(0, gammas[0] / 2)]
        for k, g in enumerate(gammas):
            seq.append((1, g))
            nxt = gammas[k + 1] / 2 if k + 1 < len(gammas) else 0
            seq.append((0, g / 2 + nxt))
        return cls((f_a, f_b), tuple(seq))

    def step_series(self, state: Sequence[sp.Symbol], h: sp.Symbol, degree: int) -> sp.Matrix:
        """The Taylor polynomial of degree ``degree`` in h of the step map Φ_h(y).

        Examples
        --------
        >>> y, h = sp.symbols("y h")
        >>> Splitting.lie_trotter([y], [1]).step_series([y], h, 3).T  # y·e^h + h
        Matrix([[h**3*y/6 + h**2*y/2 + h*y + h + y]])
        """
        state = check_symbols(state, "state")
        h = check_step_symbol(h)
        n = len(state)
        if any(len(f) != n for f in self.fields):
            raise InputError(f"the fields have {len(self.fields[0])} components, the state {n}")
        if h in state:
            raise InputError(f"the step size {h} cannot also be a state variable")
        exprs = [e for f in self.fields for e in f] + [c * h for _, c in self.sequence]
        ring = DiffRing([*exprs, h, *state], state)
        fields = [[ring.to_ring(e) for e in f] for f in self.fields]
        where = ring.ring.gens.index(ring.to_ring(h))

        def cut(p):
            return ring.ring.from_dict({m: c for m, c in p.items() if m[where] <= degree})

        def lie(g, u):  # Σ_i g_i ∂u/∂y_i
            return ring.dot(g, [ring.diff(u, i) for i in range(n)])

        out = []
        for i in range(n):
            u = ring.to_ring(state[i])
            for part, c in reversed(self.sequence):  # u ∘ Φ = exp(c₁hL₁)(exp(c₂hL₂)(⋯ u))
                ch = ring.to_ring(c * h)
                total, term = u, u
                for k in range(1, degree + 1):
                    term = cut(lie(fields[part], term) * ch * QQ(1, k))
                    if not term:
                        break
                    total += term
                u = total
            out.append(ring.to_sympy(u))
        return sp.Matrix(out)

    def modified_equation(
        self, state: Sequence[sp.Symbol], h: sp.Symbol, order: int = 1
    ) -> ModifiedFlow:
        """The modified field of the splitting, terms f_0 … f_order.

        Examples
        --------
        Strang splitting is symmetric: no odd terms.

        >>> q, p, h = sp.symbols("q p h")
        >>> st = Splitting.strang([0, -q**3], [p, 0])
        >>> [st.modified_equation([q, p], h, 3).terms[j] == sp.zeros(2, 1) for j in (1, 3)]
        [True, True]
        """
        order = check_order(order)
        step = self.step_series(state, h, order + 1)
        flow = modified_equation(step, list(state), h, order)
        return flow.with_method(f"splitting ({len(self.sequence)} sub-flows)")
