"""Partitioned Runge–Kutta methods: a pair of tableaux, one for q and one for p.

For a partitioned system q̇ = f(q, p), ṗ = g(q, p) the method (A, b) for q and (Â, b̂) for p takes

    Qᵢ = q + h Σⱼ aᵢⱼ f(Qⱼ, Pⱼ),   Pᵢ = p + h Σⱼ âᵢⱼ g(Qⱼ, Pⱼ),
    q′ = q + h Σᵢ bᵢ f(Qᵢ, Pᵢ),    p′ = p + h Σᵢ b̂ᵢ g(Qᵢ, Pᵢ)

(Hairer, Lubich & Wanner II.2, VI.4). Symplectic Euler, Störmer–Verlet and the Lobatto IIIA–IIIB
pairs are of this kind, and are symplectic when bᵢâᵢⱼ + b̂ⱼaⱼᵢ = bᵢb̂ⱼ and bᵢ = b̂ᵢ for all i, j
(:meth:`PartitionedRungeKutta.is_symplectic`; HLW VI, Theorem 4.6). Their order comes from the
order conditions on bicoloured trees (P-series, HLW III.2): Φ(τ) = 1/γ(τ) for every tree τ with
black (q) and white (p) vertices, where the elementary weight Φ takes b or b̂ at the root and a or
â on each edge by the colour of the child (:meth:`PartitionedRungeKutta.order_of_accuracy`).

:meth:`PartitionedRungeKutta.step_map` writes the step as a column in h: exactly when both
tableaux are explicit, and otherwise as the stages' Taylor polynomials in h, found by fixed-point
iteration (each pass makes one more power of h exact), exact through the power the modified
equation of the asked order needs. bea's Taylor route then gives the modified field, so no P-series
(bicoloured trees) are needed for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from .._checks import check_order
from ..errors import InputError
from ..parsing import as_matrix
from .trees import density, trees_up_to
from .trees import order as tree_order

__all__ = [
    "LOBATTO_IIIA_IIIB_2",
    "LOBATTO_IIIA_IIIB_3",
    "PRK_METHODS",
    "SYMPLECTIC_EULER",
    "SYMPLECTIC_EULER_ADJOINT",
    "PartitionedRungeKutta",
]


@dataclass(frozen=True)
class PartitionedRungeKutta:
    """A pair of Runge–Kutta tableaux: (A, b) for q, (Â, b̂) for p (see the module docstring).

    Parameters
    ----------
    A, A_hat : s × s matrices (numbers or strings read by the safe parser)
    b, b_hat : length-s sequences
    name : str

    Examples
    --------
    Störmer–Verlet is Lobatto IIIA for q and IIIB for p:

    >>> LOBATTO_IIIA_IIIB_2.is_symplectic(), LOBATTO_IIIA_IIIB_2.explicit
    (True, False)
    """

    A: sp.Matrix
    b: tuple
    A_hat: sp.Matrix
    b_hat: tuple
    name: str = "partitioned Runge-Kutta"

    def __post_init__(self):
        A = as_matrix(self.A, (), what="A")
        Ah = as_matrix(self.A_hat, (), what="A_hat")
        b = tuple(as_matrix([list(self.b)], (), what="b"))
        bh = tuple(as_matrix([list(self.b_hat)], (), what="b_hat"))
        s = len(b)
        if A.shape != (s, s) or Ah.shape != (s, s) or len(bh) != s or s == 0:
            raise InputError("A and A_hat must be s × s and b, b_hat of length s (s ≥ 1)")
        for x in (*A, *Ah, *b, *bh):
            if x.free_symbols:
                raise InputError("tableau entries must be numbers")
        if sum(b) != 1 or sum(bh) != 1:
            raise InputError(f"{self.name}: the weights b and b_hat must each sum to 1")
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "A_hat", Ah)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "b_hat", bh)

    @property
    def stages(self) -> int:
        """s."""
        return len(self.b)

    @property
    def explicit(self) -> bool:
        """Both A and Â strictly lower triangular."""
        s = self.stages
        return all(
            self.A[i, j] == 0 and self.A_hat[i, j] == 0 for i in range(s) for j in range(i, s)
        )

    def is_symplectic(self) -> bool:
        """bᵢâᵢⱼ + b̂ⱼaⱼᵢ = bᵢb̂ⱼ and bᵢ = b̂ᵢ for all i, j (HLW VI, Theorem 4.6), exactly.

        Examples
        --------
        >>> SYMPLECTIC_EULER.is_symplectic()
        True
        """
        s, A, Ah, b, bh = self.stages, self.A, self.A_hat, self.b, self.b_hat
        return all(_zero(b[i] - bh[i]) for i in range(s)) and all(
            _zero(b[i] * Ah[i, j] + bh[j] * A[j, i] - b[i] * bh[j])
            for i in range(s)
            for j in range(s)
        )

    def order_of_accuracy(self, maximum: int = 6) -> int:
        """The largest p ≤ ``maximum`` with Φ(τ) = 1/γ(τ) on every bicoloured tree of ≤ p nodes.

        Each rooted tree of bea's :mod:`~bea.bseries.trees` is taken with every colouring of its
        vertices (q: black, p: white); Φ is computed exactly, stage by stage.

        Examples
        --------
        >>> [m.order_of_accuracy() for m in PRK_METHODS.values()]
        [1, 1, 2, 4]
        """
        if isinstance(maximum, bool) or not isinstance(maximum, int) or not 1 <= maximum <= 8:
            raise InputError(f"maximum must be a whole number from 1 to 8, got {maximum!r}")
        for t in trees_up_to(maximum):
            for colouring in _colourings(t):
                if not _zero(self._weight(colouring) - sp.Rational(1, density(t))):
                    return tree_order(t) - 1
        return maximum

    def _weight(self, coloured) -> sp.Expr:
        """Φ(τ) of a coloured tree (colour, children): b or b̂ at the root."""
        colour, _ = coloured
        stages = self._stage_weights(coloured)
        weights = self.b if colour == 0 else self.b_hat
        return sum((w * x for w, x in zip(weights, stages, strict=True)), sp.Integer(0))

    def _stage_weights(self, coloured) -> list:
        """Per stage i: Π over children σ of Σ_j (a or â)_ij Φ_j(σ), the child's colour choosing
        A (black: its f feeds Q) or Â (white: its g feeds P)."""
        _, children = coloured
        out = [sp.Integer(1)] * self.stages
        for child in children:
            M = self.A if child[0] == 0 else self.A_hat
            inner = self._stage_weights(child)
            out = [
                out[i] * sum(M[i, j] * inner[j] for j in range(self.stages))
                for i in range(self.stages)
            ]
        return out

    def step_map(
        self,
        f: Sequence[sp.Expr],
        g: Sequence[sp.Expr],
        q: Sequence[sp.Symbol],
        p: Sequence[sp.Symbol],
        h: sp.Symbol,
        order: int,
    ) -> sp.Matrix:
        """The step (q′, p′) as a column, exact through h^(order + 1).

        Enough for the modified field to order ``order`` (its term f_j needs the step's h^(j+1)
        coefficient). Explicit pairs give the exact step.

        Parameters
        ----------
        f, g : sequences of sympy expressions
            q̇ = f(q, p), ṗ = g(q, p).
        q, p : sequences of sympy Symbol
        h : sympy Symbol
        order : int

        Examples
        --------
        Symplectic Euler on H = p²/2 + pq² (not separable): p′ solves p′ = p − 2hqp′, so
        p′ = p/(1 + 2hq) = p − 2hqp + 4h²q²p − …

        >>> q, p, h = sp.symbols("q p h")
        >>> step = SYMPLECTIC_EULER.step_map([p + q**2], [-2*p*q], [q], [p], h, 1)
        >>> sp.expand(step[1])
        4*h**2*p*q**2 - 2*h*p*q + p
        """
        q, p, f, g = list(q), list(p), list(f), list(g)
        order = check_order(order)
        if len(f) != len(q) or len(g) != len(p):
            raise InputError("f needs one component per q and g one per p")
        s, n = self.stages, order + 1  # the stages are needed exactly through h^order
        K = [list(f) for _ in range(s)]
        L = [list(g) for _ in range(s)]
        passes = s if self.explicit else n + 1
        for _ in range(passes):
            newK, newL = [], []
            for i in range(s):
                Q = [
                    q[k] + h * sum(self.A[i, j] * K[j][k] for j in range(s)) for k in range(len(q))
                ]
                P = [
                    p[k] + h * sum(self.A_hat[i, j] * L[j][k] for j in range(s))
                    for k in range(len(p))
                ]
                sub = dict(zip(q + p, Q + P, strict=True))
                fi = [e.xreplace(sub) for e in f]
                gi = [e.xreplace(sub) for e in g]
                if not self.explicit:
                    fi = [_truncate(e, h, n - 1) for e in fi]
                    gi = [_truncate(e, h, n - 1) for e in gi]
                newK.append(fi)
                newL.append(gi)
            K, L = newK, newL
        q1 = [q[k] + h * sum(self.b[i] * K[i][k] for i in range(s)) for k in range(len(q))]
        p1 = [p[k] + h * sum(self.b_hat[i] * L[i][k] for i in range(s)) for k in range(len(p))]
        return sp.Matrix(q1 + p1)


def _zero(x: sp.Expr) -> bool:
    """Exactly zero (radicals, as in Gauss tableaux, need simplifying)."""
    x = sp.expand(x)
    return x == 0 or sp.simplify(x) == 0


def _colourings(tree) -> list:
    """Every colouring (0: black, 1: white) of a rooted tree, as nested (colour, children)."""
    options = [_colourings(child) for child in tree]
    return [
        (colour, tuple(children)) for colour in (0, 1) for children in itertools.product(*options)
    ]


def _truncate(expr: sp.Expr, h: sp.Symbol, top: int) -> sp.Expr:
    """The Taylor polynomial of ``expr`` in h through h^top."""
    expr = sp.expand(expr)
    if expr.is_polynomial(h):
        return sum((c * h**k for (k,), c in sp.Poly(expr, h).terms() if k <= top), sp.Integer(0))
    return sp.expand(sp.series(expr, h, 0, top + 1).removeO())


_HALF = sp.Rational(1, 2)
#: p′ = p + h g(q, p′), q′ = q + h f(q, p′).
SYMPLECTIC_EULER = PartitionedRungeKutta([[0]], [1], [[1]], [1], "symplectic Euler")
#: q′ = q + h f(q′, p), p′ = p + h g(q′, p).
SYMPLECTIC_EULER_ADJOINT = PartitionedRungeKutta([[1]], [1], [[0]], [1], "symplectic Euler adjoint")
#: Lobatto IIIA (q) – IIIB (p), two stages: Störmer–Verlet, order 2.
LOBATTO_IIIA_IIIB_2 = PartitionedRungeKutta(
    [[0, 0], [_HALF, _HALF]],
    [_HALF, _HALF],
    [[_HALF, 0], [_HALF, 0]],
    [_HALF, _HALF],
    "Lobatto IIIA-IIIB 2",
)
_S6, _S3, _S24 = sp.Rational(1, 6), sp.Rational(1, 3), sp.Rational(1, 24)
#: Lobatto IIIA (q) – IIIB (p), three stages: order 4.
LOBATTO_IIIA_IIIB_3 = PartitionedRungeKutta(
    [[0, 0, 0], [5 * _S24, _S3, -_S24], [_S6, 4 * _S6, _S6]],
    [_S6, 4 * _S6, _S6],
    [[_S6, -_S6, 0], [_S6, _S3, 0], [_S6, 5 * _S6, 0]],
    [_S6, 4 * _S6, _S6],
    "Lobatto IIIA-IIIB 3",
)
#: The named pairs, by name.
PRK_METHODS = {
    m.name: m
    for m in (SYMPLECTIC_EULER, SYMPLECTIC_EULER_ADJOINT, LOBATTO_IIIA_IIIB_2, LOBATTO_IIIA_IIIB_3)
}
