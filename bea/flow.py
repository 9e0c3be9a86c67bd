"""The result of a backward error analysis: a modified vector field, term by term.

:class:`ModifiedFlow` holds the terms f₀, f₁, …, f_K of the modified field f̃ = Σ h^j f_j and answers
the questions a user asks of them: is f_j a gradient field, what is its potential, what is the
modified loss, how does it print.

Gradient test. On a simply connected domain a smooth field is a gradient iff its Jacobian is
symmetric; bea computes the antisymmetric part (J − Jᵀ)/2 exactly in its differential ring. When
the ring's atoms are related (exp(u) and exp(−u), tanh and exp, …) a non-zero ring element can
still be zero as a function; then the zero test is an identity test at random points to 60 digits
(:meth:`bea.diffring.DiffRing.vanishes`), never a symbolic simplification.

Potentials. The potential V_j with f_j = −∇V_j is first sought as a combination of the loss's
elementary potentials (E, ‖∇E‖², ∇EᵀH∇E, ‖H∇E‖², ∇³E[∇E, ∇E, ∇E] — one per free tree with j + 1
nodes, which span the gradient terms of B-series methods such as gradient descent), with rational
coefficients fitted at random points and the result checked by the identity test: this gives
E + (h/4)‖∇E‖² for gradient descent on any smooth loss in seconds. Otherwise polynomial terms are
integrated one variable at a time, exactly, and checked by differentiating back; other terms are
the exact line integral along the ray from a base point θ₀, V(θ) = ∫₀¹ ∇V(θ₀ + t(θ − θ₀))·(θ − θ₀)
dt, left unevaluated (``sp.Integral``: no integrator runs; exports and
:func:`bea.numeric.compile_expressions` evaluate it by Gauss–Legendre quadrature, and
``closed_form=True`` asks sympy's integrator instead — slow, bounded by the CLI's ``--timeout``).
A potential is only defined up to an additive constant; bea fixes it so that it vanishes at the
critical points of the loss when they can be computed exactly (polynomial losses, by a Gröbner
basis of ∇E), at θ₀ for a ray integral, and otherwise drops the state-free terms.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import PolyElement
from sympy.printing.str import StrPrinter

from . import codegen
from .diffring import DiffRing
from .errors import BeaError, InputError, NotAGradientError, NotHamiltonianError
from .io import dumps
from .parsing import as_expression, as_matrix, numeric_values

__all__ = ["ModifiedFlow", "common_denominator", "expression_text", "symbol_table"]


def _integrate_poly(p: PolyElement, k: int) -> PolyElement:
    """Antiderivative of a polynomial ring element along generator ``k`` (no constant)."""
    out = {}
    for monom, coeff in p.terms():
        e = monom[k] + 1
        new = monom[:k] + (e,) + monom[k + 1 :]
        out[new] = coeff * QQ(1, e)
    return p.ring.from_dict(out) if out else p.ring.zero


def _random_values(symbols, rng: random.Random) -> dict:
    return {s: sp.Rational(rng.randint(500, 1500), 1000) for s in symbols}


def _numerically_nonzero(expr: sp.Expr, symbols, tries: int = 4) -> bool | None:
    """True if ``expr`` is clearly non-zero at a random point, False if zero at all tried points,
    None if it could not be evaluated (outside its domain everywhere tried)."""
    rng = random.Random(20210312)
    evaluated = False
    for _ in range(tries):
        val = sp.N(expr.xreplace(_random_values(symbols, rng)), 40)
        if not val.is_number or val.has(sp.nan, sp.zoo, sp.oo):
            continue
        evaluated = True
        if abs(complex(val)) > 1e-25:
            return True
    return False if evaluated else None


class _LazyTerms(Sequence):
    """The terms f_0 … f_K of a flow derived in a ring, as sympy column vectors built on first
    access, one term at a time (the conversion can cost more than the derivation, and the
    gradient test, the potentials and the export work on the ring elements). Behaves as the tuple
    of the terms: indexing, slicing, ``len``, iteration and comparison with a tuple."""

    __slots__ = ("_cache", "_ring", "_ring_terms")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, ring: DiffRing, ring_terms: tuple):
        self._ring, self._ring_terms, self._cache = ring, ring_terms, {}

    def __len__(self) -> int:
        return len(self._ring_terms)

    def __getitem__(self, j):
        if isinstance(j, slice):
            return tuple(self[i] for i in range(*j.indices(len(self))))
        n = len(self._ring_terms)
        j = j.__index__()
        if j < 0:
            j += n
        if not 0 <= j < n:
            raise IndexError("term index out of range")
        if j not in self._cache:
            ring = self._ring
            self._cache[j] = sp.Matrix([ring.to_sympy(ring.reduce(p)) for p in self._ring_terms[j]])
        return self._cache[j]

    def __eq__(self, other) -> bool:
        if isinstance(other, _LazyTerms | tuple | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __repr__(self) -> str:
        return repr(tuple(self))


@dataclass(frozen=True, eq=False)
class ModifiedFlow:
    """Modified vector field f̃ = f₀ + h f₁ + … + h^K f_K of a one-step map.

    Create it with :func:`bea.modified_equation` (any one-step map) or :func:`bea.modified_flow`
    (an optimizer on a loss) rather than directly.

    Attributes
    ----------
    terms : tuple of sympy Matrix
        ``terms[j]`` is f_j, the coefficient of ``h**j`` (column vectors over ``state``). For a
        flow derived by bea each term is built from the exact ring on first access (a sequence
        that behaves as the tuple): the gradient test, potentials and export never need it.
    state : tuple of sympy Symbol
        The state variables.
    h : sympy Symbol
        The step-size symbol.
    method : str
        What produced the flow (``"gd"``, ``"map"``, …).
    loss : sympy expression or None
        The loss whose optimizer this is, when there is one; then f₀ = −∇loss.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a, b = sp.symbols("a b")
    >>> flow = bea.modified_flow(a**2 * b**2 / 2, [a, b], order=2)
    >>> flow.order, flow.is_gradient(1), flow.is_gradient(2)
    (2, True, False)
    """

    terms: tuple[sp.Matrix, ...]
    state: tuple[sp.Symbol, ...]
    h: sp.Symbol
    method: str = "map"
    loss: sp.Expr | None = None
    slow_manifold: tuple[sp.Matrix, ...] | None = field(default=None, repr=False)
    _ring: DiffRing | None = field(default=None, repr=False)
    _ring_terms: tuple | None = field(default=None, repr=False)

    @classmethod
    def from_ring(
        cls,
        ring: DiffRing,
        ring_terms,
        *,
        state,
        h: sp.Symbol,
        method: str = "map",
        loss: sp.Expr | None = None,
        slow_manifold=None,
    ) -> ModifiedFlow:
        """A flow from terms that are elements of a :class:`~bea.diffring.DiffRing`.

        Parameters
        ----------
        ring : DiffRing
        ring_terms : sequence of sequences of ring elements
            ``ring_terms[j][i]`` is component i of f_j.
        state, h, method, loss
            As the attributes.
        slow_manifold : sequence of sympy Matrix, optional
            For methods with fast variables: their expansion w = Σ h^k W_k(θ) after the transient.

        Returns
        -------
        ModifiedFlow

        Examples
        --------
        >>> import sympy as sp
        >>> t, h = sp.symbols("t h")
        >>> R = DiffRing([t], [t])
        >>> ModifiedFlow.from_ring(R, [[R.to_ring(-t)]], state=[t], h=h).terms
        (Matrix([[-t]]),)
        """
        terms = _LazyTerms(ring, tuple(tuple(t) for t in ring_terms))
        manifold = (
            None
            if slow_manifold is None
            else tuple(sp.Matrix([_strict(e) for e in w]) for w in slow_manifold)
        )
        return cls(
            terms,
            tuple(state),
            h,
            method,
            loss,
            manifold,
            ring,
            tuple(tuple(t) for t in ring_terms),
        )

    @classmethod
    def from_exprs(
        cls,
        terms,
        state,
        h: sp.Symbol,
        *,
        method: str = "map",
        loss: sp.Expr | None = None,
        slow_manifold=None,
    ) -> ModifiedFlow:
        """A flow from its terms given as sympy expressions (built exactly in a fresh ring).

        Each component is written over one state-free common denominator where there is one
        (such as a power of 1 − β), so that the ring stays canonical.

        Parameters
        ----------
        terms : sequence of column vectors (sympy Matrix or lists of expressions)
            ``terms[j]`` is f_j.
        state, h, method, loss, slow_manifold
            As in :meth:`from_ring`.

        Returns
        -------
        ModifiedFlow

        Examples
        --------
        >>> import sympy as sp
        >>> t, h = sp.symbols("t h")
        >>> flow = ModifiedFlow.from_exprs([[-t], [-t / 2]], [t], h)
        >>> flow.vector_field()
        Matrix([[-h*t/2 - t]])
        """
        state = tuple(state)
        exprs = common_denominator([sp.Matrix([_strict(e) for e in t]) for t in terms], state)
        ring = DiffRing([e for t in exprs for e in t], state)
        ring_terms = [[ring.to_ring(e) for e in t] for t in exprs]
        return cls.from_ring(
            ring,
            ring_terms,
            state=state,
            h=h,
            method=method,
            loss=loss,
            slow_manifold=slow_manifold,
        )

    def with_method(self, method: str, loss: sp.Expr | None = None) -> ModifiedFlow:
        """The same flow labelled with the method that produced it and its loss.

        Examples
        --------
        >>> import sympy as sp
        >>> t, h = sp.symbols("t h")
        >>> ModifiedFlow.from_exprs([[-t]], [t], h).with_method("gd", t**2 / 2).method
        'gd'
        """
        return dataclasses.replace(self, method=method, loss=loss)

    # ------------------------------------------------------------------ basic views
    @property
    def order(self) -> int:
        """Highest power of ``h`` kept."""
        return len(self.terms) - 1

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        """The parameters of the loss (equal to ``state`` for memoryless methods)."""
        return self.state

    def vector_field(self, order: int | None = None) -> sp.Matrix:
        """The truncated modified field Σ_{j ≤ order} h^j f_j.

        Parameters
        ----------
        order : int, optional
            Truncation order (default: all terms).

        Returns
        -------
        sympy Matrix

        Examples
        --------
        >>> import sympy as sp, bea
        >>> t = sp.Symbol("t")
        >>> bea.modified_flow(t**2 / 2, [t], order=2).vector_field()
        Matrix([[-h**2*t/3 - h*t/2 - t]])
        """
        order = self._index(order if order is not None else self.order)
        return sum(
            (self.h**j * self.terms[j] for j in range(order + 1)), sp.zeros(*self.terms[0].shape)
        )

    def _index(self, j) -> int:
        if isinstance(j, bool) or not isinstance(j, int | sp.Integer) or not 0 <= j <= self.order:
            raise InputError(f"term index must be a whole number in 0..{self.order}, got {j!r}")
        return int(j)

    # ------------------------------------------------------------------ ring access
    @cached_property
    def _ring_view(self) -> tuple[DiffRing, tuple]:
        if self._ring is not None:
            return self._ring, self._ring_terms
        exprs = [e for t in self.terms for e in t]
        ring = DiffRing(exprs, self.state)
        return ring, tuple(tuple(ring.to_ring(e) for e in t) for t in self.terms)

    def _is_zero(self, p: PolyElement) -> bool:
        """Zero test: exact for polynomials in independent symbols, else an identity test at
        random points to 60 digits (:meth:`bea.diffring.DiffRing.vanishes`)."""
        if not p:
            return True
        ring = self._ring_view[0]
        if len(ring.ring.gens) == len(ring.state) + len(ring.constants):
            return False  # a non-zero polynomial in independent symbols
        verdict = ring.vanishes(p)  # atoms may be related: an identity test, no simplify
        if verdict is None:
            raise BeaError(f"bea could not decide whether {ring.to_sympy(p)} is zero")
        return verdict

    # ------------------------------------------------------------------ gradient structure
    def antisymmetric_jacobian(self, j: int) -> sp.Matrix:
        """The antisymmetric part (J − Jᵀ)/2 of the Jacobian J of f_j; zero iff f_j is a gradient.

        Parameters
        ----------
        j : int
            The power of ``h``.

        Returns
        -------
        sympy Matrix
            Antisymmetric ``d × d`` matrix; for d = 2 its (0, 1) entry is −curl(f_j)/2.

        Examples
        --------
        >>> import sympy as sp, bea
        >>> a, b = sp.symbols("a b")
        >>> bea.modified_flow(a**2 + a*b + 3*b**2, [a, b], order=2).antisymmetric_jacobian(2)
        Matrix([
        [0, 0],
        [0, 0]])
        """
        j = self._index(j)
        n = len(self.state)
        out = sp.zeros(n, n)
        for r, c, a in self._antisymmetric_entries(j):
            out[r, c] = _tidy(self._ring_view[0].to_sympy(a))
            out[c, r] = -out[r, c]
        return out

    def _antisymmetric_entries(self, j: int):
        """(r, c, ((J − Jᵀ)/2)[r, c]) for the entries above the diagonal that are not zero, as
        ring elements, lazily (the gradient test stops at the first)."""
        ring, f = self._ring_view[0], self._ring_view[1][j]
        n = len(self.state)
        half = QQ(1, 2)
        for r in range(n):
            for c in range(r + 1, n):  # two derivatives per entry, taken only when reached
                a = (ring.diff(f[r], c) - ring.diff(f[c], r)) * half
                if not self._is_zero(a):
                    yield r, c, a

    def is_gradient(self, j: int) -> bool:
        """Whether f_j is a gradient field (f_j = −∇V for some scalar V) on the state space.

        Parameters
        ----------
        j : int
            The power of ``h``.

        Returns
        -------
        bool

        Examples
        --------
        The order-2 term of gradient descent on the paper's two-parameter model is not a gradient:

        >>> import sympy as sp, bea
        >>> a, b, x, y = sp.symbols("a b x y")
        >>> flow = bea.modified_flow((y - a*b*x)**2 / 2, [a, b], order=2)
        >>> [flow.is_gradient(j) for j in range(3)]
        [True, True, False]
        """
        return self._gradient_flags[self._index(j)]

    @cached_property
    def _gradient_flags(self) -> dict[int, bool]:
        return _Memo(self._is_gradient_term)

    def _is_gradient_term(self, j: int) -> bool:
        """The zero test of (J − Jᵀ)/2 in the ring, without building the display form."""
        return next(self._antisymmetric_entries(j), None) is None

    def first_non_gradient(self) -> int | None:
        """The smallest j whose term f_j is not a gradient field, or None if all are.

        Examples
        --------
        >>> import sympy as sp, bea
        >>> a, b = sp.symbols("a b")
        >>> bea.modified_flow((1 - a*b)**2 / 2, [a, b], order=3).first_non_gradient()
        2
        """
        for j in range(self.order + 1):
            if not self._gradient_flags[j]:
                return j
        return None

    def potential(self, j: int, *, closed_form: bool = False) -> sp.Expr:
        """The scalar V_j with f_j = −∇V_j, when f_j is a gradient field.

        Parameters
        ----------
        j : int
            The power of ``h``.
        closed_form : bool
            Only matters when bea's own routes find no closed form (a non-polynomial term whose
            potential is not a combination of the loss's elementary potentials): by default V_j
            is then the exact ray integral ∫₀¹ −f_j(θ₀ + t(θ − θ₀))·(θ − θ₀) dt, unevaluated
            (``sp.Integral``; θ₀ is the origin, or the first of (1, …, 1), (−1, …, −1),
            (1/2, …, 1/2) where f_j is finite), which costs nothing, exports as quadrature and
            reads back from JSON. ``closed_form=True`` asks sympy's integrator instead, one
            variable at a time: slow (bound it with the CLI's ``--timeout``), and a
            :class:`~bea.BeaError` when it finds no closed form.

        Returns
        -------
        sympy expression
            Exact, factored where that is shorter. Fixed up to its additive constant as described
            in the module docstring (a ray integral vanishes at its base point θ₀).

        Raises
        ------
        NotAGradientError
            If f_j is not a gradient field; the error carries the antisymmetric Jacobian.

        Examples
        --------
        >>> import sympy as sp, bea
        >>> a, b, x, y = sp.symbols("a b x y")
        >>> flow = bea.modified_flow((y - a*b*x)**2 / 2, [a, b], order=1)
        >>> flow.potential(1)
        x**2*(a**2 + b**2)*(a*b*x - y)**2/4

        A potential with no closed form among the loss's own (here ∫ E′E″² of a logistic loss)
        is the ray integral from the origin; sympy's integrator finds a closed form on request:

        >>> w = sp.Symbol("w")
        >>> flow = bea.modified_flow(sp.log(1 + sp.exp(-w)), [w], order=2)
        >>> flow.potential(2).has(sp.Integral), flow.potential(2, closed_form=True).has(sp.Integral)
        (True, False)
        """
        j = self._index(j)
        if not self._gradient_flags[j]:
            raise NotAGradientError(j, self.antisymmetric_jacobian(j))
        return (self._closed_potentials if closed_form else self._potentials)[j]

    @cached_property
    def _potentials(self) -> dict[int, sp.Expr]:
        return _Memo(self._compute_potential)

    @cached_property
    def _closed_potentials(self) -> dict[int, sp.Expr]:
        return _Memo(self._compute_closed_potential)

    def _compute_potential(self, j: int) -> sp.Expr:
        ring, rterms = self._ring_view
        target = [-p for p in rterms[j]]  # we want grad V = -f_j
        polynomial = all(ring.is_polynomial(p) for p in target)
        exprs = None
        if j >= 1 or not polynomial:  # first: a combination of the loss's elementary potentials
            exprs = [ring.to_sympy(p) for p in target]
            V_expr = _potential_from_loss(self.loss, self.state, exprs, j)
            if V_expr is not None:
                return _tidy(V_expr)
        if polynomial:
            V = ring.ring.zero
            for k in range(len(self.state)):
                residual = target[k] - ring.diff(V, k)
                V += _integrate_poly(residual, k)
            if any(ring.diff(V, k) != target[k] for k in range(len(self.state))):
                raise BeaError(
                    f"internal error: the potential of f_{j} does not differentiate back"
                )
            V_expr = sp.expand(ring.to_sympy(V))
            V_expr -= _critical_value(V_expr, self.loss, self.state)
        else:
            V_expr = _ray_potential(exprs, self.state, j, self.h)
        return _tidy(V_expr)

    def _compute_closed_potential(self, j: int) -> sp.Expr:
        """The potential in closed form: :meth:`_compute_potential`, whose ray integral (if any)
        is replaced by sympy's integrator one variable at a time (slow; may fail)."""
        V = self._potentials[j]
        if not V.has(sp.Integral):
            return V
        ring, rterms = self._ring_view
        exprs = [ring.to_sympy(-p) for p in rterms[j]]
        return _tidy(_integrate_sympy(exprs, self.state, j))

    def modified_loss(self, order: int | None = None, *, closed_form: bool = False) -> sp.Expr:
        """The modified loss Ẽ = V₀ + h V₁ + … with Σ_{j ≤ order} h^j f_j = −∇Ẽ.

        Parameters
        ----------
        order : int, optional
            Truncation order (default: all terms).
        closed_form : bool
            As in :meth:`potential`: by default a term with no closed form bea finds itself is
            an exact ray integral; ``True`` asks sympy's integrator (slow).

        Returns
        -------
        sympy expression
            ``loss + h*V_1 + ...``: V₀ is the loss itself when f₀ = −∇E (gradient descent),
            else the potential of f₀ (momentum: E/(1 − β); weight decay: E + λ‖θ‖²/2).

        Raises
        ------
        NotAGradientError
            Naming the first j ≤ order whose f_j is not a gradient field.

        Examples
        --------
        >>> import sympy as sp, bea
        >>> t = sp.Symbol("t")
        >>> bea.modified_flow(t**4 / 4, [t], order=1).modified_loss()
        h*t**6/4 + t**4/4
        """
        order = self._index(order if order is not None else self.order)
        return self._v0(order) + sum(
            self.h**j * self.potential(j, closed_form=closed_form) for j in range(1, order + 1)
        )

    def _v0(self, order: int) -> sp.Expr:
        """V₀ after checking that f_0 … f_order are gradient fields (else NotAGradientError)."""
        for j in range(order + 1):
            if not self._gradient_flags[j]:
                raise NotAGradientError(j, self.antisymmetric_jacobian(j))
        return self.loss if self._loss_is_potential else self.potential(0)

    @cached_property
    def _loss_is_potential(self) -> bool:
        """Whether f₀ = −∇E for the recorded loss E (then V₀ = E, kept in the user's form)."""
        if self.loss is None:
            return False
        for comp, s in zip(self.terms[0], self.state, strict=True):
            diff = sp.expand(comp + sp.diff(self.loss, s))
            if diff != 0:
                ring = DiffRing([diff], self.state)  # an identity test, no simplify
                if not ring.vanishes(ring.to_ring(diff)):
                    return False
        return True

    # ------------------------------------------------------------------ Hamiltonian structure
    def is_hamiltonian(self, j: int, *, poisson=None) -> bool:
        """Whether f_j = B∇H_j for some scalar H_j (B the Poisson matrix).

        Parameters
        ----------
        j : int
            The power of ``h``.
        poisson : square matrix of numbers, optional
            The constant, invertible, antisymmetric Poisson matrix B of ẏ = B∇H. Default: the
            canonical J = [[0, I], [−I, 0]] on a state written (q₁ … q_d, p₁ … p_d), so that
            q̇ = ∂H/∂p and ṗ = −∂H/∂q.

        Returns
        -------
        bool

        Examples
        --------
        Symplectic Euler on the pendulum H = p²/2 − cos q is symplectic, so every term is
        Hamiltonian:

        >>> import sympy as sp, bea
        >>> q, p, h = sp.symbols("q p h")
        >>> p1 = p - h * sp.sin(q)
        >>> flow = bea.modified_equation(sp.Matrix([q + h * p1, p1]), [q, p], h, order=2)
        >>> [flow.is_hamiltonian(j) for j in range(3)]
        [True, True, True]
        """
        j = self._index(j)
        return self._hamiltonian_view(poisson, None).is_gradient(j)

    def hamiltonian(
        self,
        j: int,
        *,
        poisson=None,
        hamiltonian: sp.Expr | None = None,
        closed_form: bool = True,
    ) -> sp.Expr:
        """The Hamiltonian H_j of the term f_j = B∇H_j.

        Parameters
        ----------
        j : int
            The power of ``h``.
        poisson : square matrix of numbers, optional
            As in :meth:`is_hamiltonian` (default: canonical, state = (q, p)).
        hamiltonian : sympy expression, optional
            The Hamiltonian H of the exact system (f₀ = B∇H); it is returned as H₀ in the user's
            form and its pieces help to find the H_j of non-polynomial systems.
        closed_form : bool
            As in :meth:`potential`, but on by default: mechanical Hamiltonians are polynomial or
            trigonometric, where sympy's integrator is quick and a closed form is what one
            compares with the literature. ``False`` gives the exact ray integral where bea's own
            routes find no closed form (instant; exp/log systems).

        Returns
        -------
        sympy expression
            Exact; fixed up to an additive constant as potentials are (module docstring).

        Raises
        ------
        NotHamiltonianError
            If B⁻¹f_j is not a gradient field.

        Examples
        --------
        Symplectic Euler on the pendulum: H₁ = −H_p H_q / 2 (Hairer, Lubich & Wanner IX.3):

        >>> import sympy as sp, bea
        >>> q, p, h = sp.symbols("q p h")
        >>> p1 = p - h * sp.sin(q)
        >>> flow = bea.modified_equation(sp.Matrix([q + h * p1, p1]), [q, p], h, order=1)
        >>> flow.hamiltonian(1, hamiltonian=p**2 / 2 - sp.cos(q))
        -p*sin(q)/2
        """
        j = self._index(j)
        base = self._hamiltonian_view(poisson, None)
        view = base if hamiltonian is None else self._hamiltonian_view(poisson, hamiltonian)
        if hamiltonian is not None and not view._loss_is_potential:
            raise InputError(f"f_0 is not B∇H for the given Hamiltonian H = {view.loss}")
        if not base.is_gradient(j):  # the test does not depend on H: one view answers it
            raise NotHamiltonianError(j, base.antisymmetric_jacobian(j))
        if j == 0 and view._loss_is_potential:
            return view.loss
        return (view._closed_potentials if closed_form else view._potentials)[j]

    def modified_hamiltonian(
        self,
        order: int | None = None,
        *,
        poisson=None,
        hamiltonian: sp.Expr | None = None,
        closed_form: bool = True,
    ) -> sp.Expr:
        """The modified Hamiltonian H̃ = H₀ + h H₁ + … with Σ_{j ≤ order} h^j f_j = B∇H̃.

        A symplectic method applied to a Hamiltonian system follows the exact flow of H̃ (to the
        order kept), so it nearly conserves H̃ over long times (Hairer, Lubich & Wanner, ch. IX).

        Parameters
        ----------
        order : int, optional
            Truncation order (default: all terms).
        poisson, hamiltonian, closed_form
            As in :meth:`hamiltonian`.

        Returns
        -------
        sympy expression

        Raises
        ------
        NotHamiltonianError
            Naming the first j ≤ order whose f_j is not Hamiltonian.

        Examples
        --------
        Störmer–Verlet (kick–drift–kick) on the harmonic oscillator, H = (p² + q²)/2:
        H̃ = H + h²(p²/12 − q²/24) + … (the method conserves p² + (1 − h²/4)q² exactly and turns by
        arccos(1 − h²/2) per step, which gives the same series):

        >>> import sympy as sp, bea
        >>> q, p, h = sp.symbols("q p h")
        >>> half = p - h / 2 * q
        >>> q1 = q + h * half
        >>> step = sp.Matrix([q1, half - h / 2 * q1])
        >>> flow = bea.modified_equation(step, [q, p], h, order=2)
        >>> sp.expand(flow.modified_hamiltonian(hamiltonian=(p**2 + q**2) / 2))
        h**2*p**2/12 - h**2*q**2/24 + p**2/2 + q**2/2
        """
        order = self._index(order if order is not None else self.order)
        return sum(
            (
                self.h**j
                * self.hamiltonian(
                    j, poisson=poisson, hamiltonian=hamiltonian, closed_form=closed_form
                )
                for j in range(order + 1)
            ),
            sp.Integer(0),
        )

    def _hamiltonian_view(self, poisson, hamiltonian) -> ModifiedFlow:
        """The flow of the terms −B⁻¹f_j (same ring): its potentials are the H_j."""
        n = len(self.state)
        if poisson is None:
            if n % 2:
                raise InputError(
                    f"the canonical symplectic structure needs a state (q, p) of even dimension, "
                    f"got {n} variables; give poisson= for another structure"
                )
            d = n // 2
            B = sp.zeros(n, n)
            for i in range(d):
                B[i, d + i], B[d + i, i] = 1, -1
        else:
            B = as_matrix(poisson, self.state, what="Poisson matrix")
            if B.shape != (n, n) or not all(e.is_Rational for e in B):
                raise InputError(
                    f"poisson must be a {n} x {n} matrix of exact rational numbers, got {poisson!r}"
                )
            if B.T != -B or B.det() == 0:
                raise InputError("poisson must be antisymmetric and invertible")
        views = self.__dict__.setdefault("_hamiltonian_views", {})
        key = tuple(B)
        if key not in views:
            ring, terms = self._ring_view
            minus_inv = -B.inv()
            coeff = [[QQ(e.p, e.q) for e in minus_inv.row(r)] for r in range(n)]
            new = [
                [ring.combine(list(zip(coeff[r], f, strict=True))) for r in range(n)] for f in terms
            ]
            views[key] = ModifiedFlow.from_ring(
                ring, new, state=self.state, h=self.h, method=self.method
            )
        if hamiltonian is None:
            return views[key]
        hamiltonian = as_expression(hamiltonian, self.state, what="Hamiltonian")
        if (key, hamiltonian) not in views:  # the same terms and ring, H recorded as the loss
            views[(key, hamiltonian)] = dataclasses.replace(views[key], loss=hamiltonian)
        return views[(key, hamiltonian)]

    # ------------------------------------------------------------------ export
    _EXPORTS = ("field", "loss", "regularizer")

    def _about(self) -> str:
        """``"gd on the loss E = …"``: what an export says it came from."""
        if self.loss is None:
            return self.method
        return f"{self.method} on the loss E = {expression_text(self.loss)}"

    def _export(self, what: str, order, backend: str, values) -> codegen.Source:
        """One exported function (see :meth:`to_source`)."""
        if what not in self._EXPORTS:
            raise InputError(f"what must be one of {', '.join(self._EXPORTS)}, got {what!r}")
        order = self._index(order if order is not None else self.order)
        given = numeric_values(values, [*self.state, self.h])
        by_name = {k.name: v for k, v in given.items()}
        params = ", ".join(map(str, self.state))
        about = self._about()
        if what == "field":
            terms = [list(self.terms[j]) for j in range(order + 1)]
            series = ["f_0", "f_0 + h f_1", "f_0 + h f_1 + h^2 f_2"]
            sum_text = series[order] if order < 3 else f"f_0 + h f_1 + ... + h^{order} f_{order}"
            title = f"The modified vector field of {about}: {sum_text}."
            returns = f"array of shape (..., {len(self.state)})"
        else:
            v0 = self._v0(order)  # raises NotAGradientError naming the first j
            terms = [[v0]] + [[self.potential(j)] for j in range(1, order + 1)]
            if what == "regularizer":
                if self.loss is None:
                    raise InputError(
                        "a regularizer is the modified loss minus the loss: give the loss"
                    )
                terms[0] = [v0 - self.loss]
                title = (
                    f"The regularizer of {about} to order {order} in h: the modified loss minus E, "
                    "so that E + regularizer(theta, h) is the modified loss."
                )
            else:
                title = f"The modified loss of {about}, to order {order} in h: V_0 + h V_1 + ..."
            returns = "array of shape (...)"
        terms = [
            [
                e.xreplace({s: by_name[s.name] for s in e.free_symbols if s.name in by_name})
                for e in t
            ]
            for t in terms
        ]
        constants = sorted(
            {s.name for t in terms for e in t for s in e.free_symbols}
            - {s.name for s in (*self.state, self.h)}
        )
        fixed = ", ".join(f"{k.name} = {v}" for k, v in given.items())
        doc = "\n".join(
            [
                title,
                *([f"Constants fixed at export: {fixed}."] if fixed else []),
                "",
                "Parameters",
                "----------",
                f"theta : array of shape (..., {len(self.state)})",
                f"    The parameters ({params}) on the last axis.",
                "h : float or array",
                "    The step size (an array broadcasts against theta[..., 0]).",
                *(
                    [f"{', '.join(constants)} : float or array", "    Constants of the loss."]
                    if constants
                    else []
                ),
                "",
                "Returns",
                "-------",
                returns,
            ]
        )
        name = {"field": "modified_field", "loss": "modified_loss", "regularizer": "regularizer"}
        return codegen.function_source(
            name[what],
            terms,
            self.state,
            self.h,
            backend=backend,
            vector=what == "field",
            doc=doc,
            prefix="f" if what == "field" else "V",
        )

    def to_source(
        self,
        backend: str = "numpy",
        what: str | Sequence[str] | None = None,
        order: int | None = None,
        values: Mapping | None = None,
    ) -> str:
        """A self-contained Python module that evaluates the field, modified loss or regularizer.

        Each function is ``name(theta, h, *, constants)``: ``theta`` holds the parameters on its
        last axis (any leading batch shape), ``h`` is the step size, the loss's other symbols
        are keyword arguments unless ``values`` fixes them. Paste it into a training script; the
        same text is what :meth:`to_function` runs.

        Parameters
        ----------
        backend : {"numpy", "jax"}
            ``"jax"`` code works under ``jax.jit``, ``jax.grad`` and ``jax.vmap`` (enable
            ``jax_enable_x64`` for float64).
        what : str or sequence of str, optional
            Any of ``"field"`` (``modified_field``), ``"loss"`` (``modified_loss``) and
            ``"regularizer"`` (the modified loss minus the loss). Default: the field, and the
            modified loss and regularizer at the highest order at which a modified loss exists.
        order : int, optional
            Truncation order (default: every term, or as said above).
        values : mapping, optional
            Numeric values of constants (data, hyper-parameters), substituted exactly.

        Returns
        -------
        str

        Examples
        --------
        >>> import sympy as sp, bea
        >>> t, y = sp.symbols("t y")
        >>> print(bea.modified_flow((t - y)**2 / 2, [t], order=1).to_source(what="regularizer"))
        ... # doctest: +ELLIPSIS
        \"\"\"Regularizer of gd on the loss E = (t - y)**2/2, exported from its exact modified flow.
        ...
        def regularizer(theta, h, *, y):
            \"\"\"The regularizer of gd on the loss E = (t - y)**2/2 to order 1 in h: ...
        ...
            t = theta[..., 0]
            V_1 = (1/4)*(-t + y)**2
            return numpy.broadcast_arrays(h * V_1, theta[..., 0])[0]
        <BLANKLINE>
        """
        if what is None:
            k = self.first_non_gradient()
            top = self.order if k is None else k - 1
            if order is not None:
                top = min(top, self._index(order))
            jobs = [("field", order)]
            if top >= 0:
                jobs.append(("loss", top))
                if self.loss is not None:
                    jobs.append(("regularizer", top))
        else:
            names = [what] if isinstance(what, str) else list(what)
            jobs = [(w, order) for w in names]
        sources = [self._export(w, o, backend, values) for w, o in jobs]
        kinds = {"field": "Modified field", "loss": "Modified loss", "regularizer": "Regularizer"}
        title = " and ".join(kinds[w] for w, _ in jobs[:1]) + "".join(
            f", {kinds[w].lower()}" for w, _ in jobs[1:]
        )
        about = self._about()
        header = codegen.header_text(
            f"{title} of {about}, exported from its exact modified flow.",
            {"parameters (theta[..., i])": ", ".join(map(str, self.state)), "backend": backend},
        )
        return codegen.module_source(sources, header)

    def to_function(
        self,
        backend: str = "numpy",
        what: str = "field",
        order: int | None = None,
        values: Mapping | None = None,
    ):
        """The modified field, modified loss or regularizer as a plain callable.

        Parameters
        ----------
        backend, order, values
            As in :meth:`to_source`.
        what : {"field", "loss", "regularizer"}
            ``"regularizer"`` is the modified loss minus the loss, so that
            ``E(θ) + regularizer(θ, h)`` is the modified loss.

        Returns
        -------
        callable
            ``F(theta, h, **constants)`` vectorised over the leading axes of ``theta``: shape
            ``(..., m)`` for the field, ``(...)`` for a loss.

        Raises
        ------
        NotAGradientError
            For a loss or regularizer at an order where no modified loss exists.

        Examples
        --------
        >>> import numpy as np, sympy as sp, bea
        >>> a, b = sp.symbols("a b")
        >>> flow = bea.modified_flow((0.6 - a * b)**2 / 2, [a, b], order=1)
        >>> R = flow.to_function(what="regularizer")
        >>> theta = np.array([[1.0, 0.5], [2.0, 1.0]])
        >>> np.round(R(theta, 0.1), 7)       # (h/4)·‖∇E‖², two points at once
        array([0.0003125, 0.245    ])
        """
        if not isinstance(what, str):
            raise InputError("to_function makes one function: what is a string")
        source = self._export(what, order, backend, values)
        return codegen.compile_sources([source])[source.name]

    # ------------------------------------------------------------------ printing
    def __str__(self) -> str:
        lines = [
            f"ModifiedFlow({self.method}) in {', '.join(map(str, self.state))}; "
            f"step size {self.h}; terms f_0..f_{self.order}"
        ]
        for j, t in enumerate(self.terms):
            flag = "gradient" if self._gradient_flags[j] else "NOT a gradient"
            lines.append(f"  f_{j} ({flag}):")
            for s, comp in zip(self.state, t, strict=True):
                lines.append(f"    [{s}] {comp}")
        return "\n".join(lines)

    def latex(self) -> str:
        """LaTeX of the modified field, one line per term.

        Returns
        -------
        str
            An ``aligned`` block; :meth:`_repr_latex_` wraps it for Jupyter.

        Examples
        --------
        >>> import sympy as sp, bea
        >>> t = sp.Symbol("t")
        >>> print(bea.modified_flow(t**2 / 2, [t], order=1).latex())
        \\begin{aligned}
        f_{0} &= \\left[\\begin{matrix}- t\\end{matrix}\\right] \\\\
        f_{1} &= \\left[\\begin{matrix}- \\frac{t}{2}\\end{matrix}\\right]
        \\end{aligned}
        """
        rows = [f"f_{{{j}}} &= {sp.latex(t)}" for j, t in enumerate(self.terms)]
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    def to_json(self) -> str:
        """The terms and their gradient flags as JSON (expressions as sympy strings).

        Returns
        -------
        str
            ``{"h": ..., "params": [...], "method": ..., "terms": [[...], ...], "gradient": [...]}``

        Examples
        --------
        >>> import sympy as sp, bea
        >>> t = sp.Symbol("t")
        >>> print(bea.modified_flow(t**2 / 2, [t], order=1).to_json(), end="")
        {
          "h": "h",
          "params": [
            "t"
          ],
          "method": "gd",
          "terms": [
            [
              "-t"
            ],
            [
              "-t/2"
            ]
          ],
          "gradient": [
            true,
            true
          ],
          "symbols": {
            "t": {},
            "h": {}
          }
        }
        """
        return dumps(self.to_dict())

    def to_dict(self) -> dict:
        """The data of :meth:`to_json` as a plain dictionary.

        Expressions are written so that bea's safe parser reads them back exactly
        (:func:`bea.load_json`); ``symbols`` declares every symbol with its assumptions, so that
        names such as ``beta``, ``E`` or ``I`` come back as symbols, not as sympy's functions or
        constants.
        """
        exprs = [e for t in self.terms for e in t]
        return {
            "h": str(self.h),
            "params": [str(s) for s in self.state],
            "method": self.method,
            "terms": [[expression_text(e) for e in t] for t in self.terms],
            "gradient": [self._gradient_flags[j] for j in range(self.order + 1)],
            "symbols": symbol_table([*exprs, *self.state, self.h]),
        }


class _Memo(dict):
    """Per-flow memo keyed by term index, filled on first request (bounded by the number of terms)."""

    def __init__(self, compute):
        super().__init__()
        self._compute = compute

    def __missing__(self, j: int):
        value = self._compute(j)
        self[j] = value
        return value


#: Largest expression (in sympy operations) that :func:`_tidy` tries to factor: factoring is
#: cosmetic, and on large expressions it can take minutes.
TIDY_MAX_OPS = 400


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Factor when that gives a shorter expression: cosmetic, so only on small rational functions
    (polynomial factorisation, bounded by :data:`TIDY_MAX_OPS`). An expression with exp, log, tanh
    … is left as the ring wrote it: factoring it is slow and reads worse (the order-1 potential of
    a logistic loss stays a sum of squared derivatives)."""
    if not _is_rational_function(expr) or sp.count_ops(expr) > TIDY_MAX_OPS:
        return expr
    try:
        factored = sp.factor(expr)
    except (sp.PolynomialError, NotImplementedError):
        return expr
    return factored if sp.count_ops(factored) <= sp.count_ops(expr) else expr


def _is_rational_function(expr: sp.Expr) -> bool:
    """Whether ``expr`` is built from symbols and rationals by +, ×, ÷ and integer powers."""
    return all(
        e.is_Symbol or e.is_Rational or e.is_Add or e.is_Mul or (e.is_Pow and e.exp.is_Integer)
        for e in sp.preorder_traversal(expr)
    )


def _critical_value(V: sp.Expr, loss: sp.Expr | None, state) -> sp.Expr:
    """The value of V on the critical set of a polynomial loss (0 if it cannot be decided)."""
    if loss is None or V == 0:
        return sp.Integer(0)
    grad = [sp.expand(sp.diff(loss, s)) for s in state]
    if not all(g.is_polynomial(*state) for g in grad) or not V.is_polynomial(*state):
        return sp.Integer(0)
    if any(
        a.is_Function or a.is_NumberSymbol or (a.is_Pow and not a.exp.is_Integer)
        for g in [*grad, V]
        for a in sp.preorder_traversal(g)
    ):
        return sp.Integer(0)
    constants = sorted(
        set().union(*(g.free_symbols for g in grad), V.free_symbols) - set(state), key=str
    )
    domain = sp.QQ.frac_field(*constants) if constants else sp.QQ
    try:
        basis = sp.groebner(grad, *state, order="grevlex", domain=domain)
    except (
        sp.PolynomialError,
        sp.polys.polyerrors.CoercionFailed,
        NotImplementedError,
        ValueError,
    ):
        return sp.Integer(0)
    if list(basis.exprs) == [1]:
        return sp.Integer(0)  # no critical points, even complex ones
    _, remainder = basis.reduce(V)
    return remainder if not (remainder.free_symbols & set(state)) else sp.Integer(0)


def _candidates(loss: sp.Expr, state, j: int) -> list[sp.Expr]:
    """The elementary potentials of the loss with j + 1 derivatives of E (one per free tree with
    j + 1 nodes, j ≤ 3): the scalars whose gradients span the h^j terms of a B-series method
    (gradient descent, Runge–Kutta, momentum) on −∇E, as sympy expressions.

    j = 0: E; j = 1: ‖∇E‖²; j = 2: ∇Eᵀ H ∇E; j = 3: ‖H∇E‖² and ∇³E[∇E, ∇E, ∇E].
    """
    m = len(state)
    if j == 0:
        return [loss]
    g = [sp.diff(loss, s) for s in state]
    if j == 1:
        return [sum((gi**2 for gi in g), sp.Integer(0))]
    H = [[sp.diff(g[a], state[b]) for b in range(m)] for a in range(m)]
    Hg = [sum((H[a][b] * g[b] for b in range(m)), sp.Integer(0)) for a in range(m)]
    if j == 2:
        return [sum((g[a] * Hg[a] for a in range(m)), sp.Integer(0))]
    T = sum(
        (
            sp.diff(H[a][b], state[c]) * g[a] * g[b] * g[c]
            for a in range(m)
            for b in range(m)
            for c in range(m)
        ),
        sp.Integer(0),
    )
    return [sum((v**2 for v in Hg), sp.Integer(0)), T]


def _potential_from_loss(loss, state, target, j: int) -> sp.Expr | None:
    """A potential V with ∇V = target, recognised as a combination of the elementary potentials
    of the loss (:func:`_candidates`), or None.

    The coefficients are fitted at two random points to 60 digits, must be rational (they are,
    for a B-series method with numeric hyper-parameters: ¼ for gradient descent at order 1), and
    the result is checked by the identity test of :meth:`bea.diffring.DiffRing.vanishes` on
    ∇V − target. No symbolic integration or simplification.
    """
    import mpmath

    if loss is None or j > 3:
        return None
    cands = [c for c in _candidates(loss, state, j) if c != 0]
    if not cands:
        return None
    ring = DiffRing([*cands, *target], state)
    P = [ring.to_ring(c) for c in cands]
    T = [ring.to_ring(t) for t in target]
    grads = [[ring.diff(p, k) for k in range(len(state))] for p in P]
    n = len(P)
    with mpmath.workdps(60):
        rows, rhs = [], []
        for values in ring.random_points(2, seed=7):
            for k in range(len(state)):
                rows.append([ring.evaluate(grads[i][k], values)[0] for i in range(n)])
                rhs.append(ring.evaluate(T[k], values)[0])
        if len(rows) < n:
            return None
        A, b = mpmath.matrix(rows), mpmath.matrix(rhs)
        try:
            c = mpmath.lu_solve(A.T * A, A.T * b)
        except ZeroDivisionError:
            return None
        coeffs = []
        for i in range(n):
            value = c[i]
            if abs(mpmath.im(value)) > mpmath.mpf(10) ** -40:
                return None
            value = mpmath.re(value)
            q = Fraction(mpmath.nstr(value, 50)).limit_denominator(10**9)
            if abs(value - mpmath.mpf(q.numerator) / q.denominator) > mpmath.mpf(10) ** -35 * (
                1 + abs(value)
            ):
                return None
            coeffs.append(sp.Rational(q.numerator, q.denominator))
    for k in range(len(state)):
        residual = sum((ci * grads[i][k] for i, ci in enumerate(coeffs) if ci), -T[k])
        if residual and not ring.vanishes(residual):
            return None
    return sum((ci * cand for ci, cand in zip(coeffs, cands, strict=True)), sp.Integer(0))


#: Base points tried for the ray integral, in order: the origin, then (1, …, 1), (−1, …, −1),
#: (1/2, …, 1/2) — the first where the field is finite.
_RAY_BASES = (0, 1, -1, sp.Rational(1, 2))


def _ray_variable(exprs, h: sp.Symbol | None = None) -> sp.Symbol:
    """A name for the variable of a ray integral that no symbol of ``exprs`` (or ``h``) uses."""
    used = {s.name for e in exprs for s in e.free_symbols} | ({h.name} if h is not None else set())
    for name in ("t", "s", "tau", "sigma"):
        if name not in used:
            return sp.Symbol(name, real=True)
    k = 0
    while f"t{k}" in used:
        k += 1
    return sp.Symbol(f"t{k}", real=True)


def _ray_potential(target, state, j: int, h: sp.Symbol | None = None) -> sp.Expr:
    """V with ∇V = target, as the exact line integral from a base point θ₀ along the ray:
    V(θ) = ∫₀¹ target(θ₀ + t(θ − θ₀))·(θ − θ₀) dt, left unevaluated (``sp.Integral``).

    Exact for any gradient field whose ray from θ₀ stays in its domain (the gradient test has
    already passed), and instant: no integrator runs. V(θ₀) = 0. ``.doit()`` asks sympy for a
    closed form; bea's exporters evaluate it by Gauss–Legendre quadrature."""
    for c in _RAY_BASES:
        base = {s: sp.Integer(c) if isinstance(c, int) else c for s in state}
        at = [e.xreplace(base) for e in target]
        if all(v.is_finite is not False and not v.has(sp.zoo, sp.nan, sp.I) for v in at):
            break
    else:
        raise BeaError(
            f"f_{j} is a gradient field, but it is singular at every base point bea tries for "
            "its potential's ray integral; use potential(j, closed_form=True)"
        )
    t = _ray_variable(target, h)
    on_ray = {s: base[s] + t * (s - base[s]) for s in state}
    integrand = sum(
        (e.xreplace(on_ray) * (s - base[s]) for e, s in zip(target, state, strict=True)),
        sp.Integer(0),
    )
    if integrand == 0:
        return sp.Integer(0)
    return sp.Integral(integrand, (t, 0, 1))


def _integrate_sympy(target, state, j: int) -> sp.Expr:
    """Potential of a non-polynomial gradient field with sympy's integrator, checked back."""
    V = sp.Integer(0)
    for k, s in enumerate(state):
        residual = sp.simplify(target[k] - sp.diff(V, s))
        part = sp.integrate(residual, s)
        if part.has(sp.Integral):
            raise BeaError(
                f"f_{j} is a gradient field but bea could not integrate it in closed form"
            )
        V += part
    check = [sp.simplify(sp.diff(V, s) - t) for s, t in zip(state, target, strict=True)]
    if any(c != 0 and _numerically_nonzero(c, c.free_symbols) for c in check):
        raise BeaError(f"f_{j} is a gradient field but its integrated potential does not check out")
    V = sp.expand(_even_sines_as_cosines(sp.expand(V)))
    const = sum(
        (t for t in sp.Add.make_args(V) if not (t.free_symbols & set(state))), sp.Integer(0)
    )
    return V - const


def _even_sines_as_cosines(V: sp.Expr) -> sp.Expr:
    """Multiple angles expanded (cos 2u → 2cos²u − 1), then sin(u)^(2k) → (1 − cos(u)²)^k and
    sinh(u)^(2k) → (cosh(u)² − 1)^k: sympy's integrator returns sin²/2 or −cos²/2 for ∫ sin·cos
    depending on the hash seed; the forms differ by a constant, which this normal form (and
    dropping constants afterwards) removes."""

    def even_power(e) -> bool:
        return (
            e.is_Pow
            and isinstance(e.base, sp.sin | sp.sinh)
            and e.exp.is_Integer
            and e.exp > 0
            and e.exp % 2 == 0
        )

    def rewrite(e):
        u, k = e.base.args[0], e.exp // 2
        if isinstance(e.base, sp.sin):
            return (1 - sp.cos(u) ** 2) ** k
        return (sp.cosh(u) ** 2 - 1) ** k

    def multiple_angle(e) -> bool:
        if not isinstance(e, sp.sin | sp.cos | sp.sinh | sp.cosh):
            return False
        c = e.args[0].as_coeff_Mul()[0]
        return c.is_Integer and abs(c) > 1

    V = sp.expand(V.replace(multiple_angle, lambda e: sp.expand_trig(e)))
    return V.replace(even_power, rewrite)


def common_denominator(terms, state) -> list[list[sp.Expr]]:
    """Write every component as N/D with one denominator D free of the state (e.g. a power of
    1 − β), so that a ring built from them holds the single constant atom 1/D and stays canonical.
    Terms with a state-dependent denominator (adaptive methods) are only expanded.

    Examples
    --------
    >>> import sympy as sp
    >>> t, beta = sp.symbols("t beta")
    >>> common_denominator([sp.Matrix([t / (1 - beta) + t])], [t])
    [[(beta*t - 2*t)/(beta - 1)]]
    """
    parts = []
    for f in terms:
        row = []
        for e in f:
            num, den = sp.fraction(sp.cancel(sp.together(sp.expand(e))))
            if den.free_symbols & set(state):  # non-polynomial terms: the ring's atoms handle it
                return [[sp.expand(x) for x in f] for f in terms]
            row.append((num, den))
        parts.append(row)
    D = sp.Integer(1)
    for row in parts:
        for _, den in row:
            D = sp.lcm(D, den)
    D = sp.factor(D)  # a small polynomial in the constants: factored, it prints as (1 - beta)**3
    out = []
    for row in parts:
        cells = []
        for num, den in row:
            N = sp.expand(num * sp.cancel(D / den))
            cells.append(N if D == 1 else sp.Mul(N, sp.Pow(D, -1), evaluate=False))
        out.append(cells)
    return out


def _strict(e) -> sp.Expr:
    """A sympy expression; text is refused (parse it with :mod:`bea.parsing` first)."""
    try:
        return sp.sympify(e, strict=True)
    except sp.SympifyError:
        raise InputError(
            f"terms must be sympy expressions, got {type(e).__name__}; parse text with "
            "bea.parsing.parse_expression"
        ) from None


class _Printer(StrPrinter):
    """sympy's string form, but with Euler's number written exp(1) (a bare E is a symbol)."""

    def _print_Exp1(self, expr):
        return "exp(1)"

    def _print_ImaginaryUnit(self, expr):
        raise BeaError("bea writes real expressions only; found the imaginary unit")


def expression_text(expr) -> str:
    """An expression as text that :func:`bea.parsing.parse_expression` reads back exactly.

    Examples
    --------
    >>> import sympy as sp
    >>> E = sp.Symbol("E")
    >>> expression_text(E * sp.exp(1) + sp.pi / 2)
    'exp(1)*E + pi/2'
    """
    return _Printer().doprint(sp.sympify(expr, strict=True))


def symbol_table(exprs) -> dict[str, dict]:
    """Every symbol of ``exprs`` with its assumptions (what a reader needs to rebuild it).

    Examples
    --------
    >>> import sympy as sp
    >>> symbol_table([sp.Symbol("a") + sp.Symbol("eps", positive=True)])["a"]
    {}
    """
    out: dict[str, dict] = {}
    for e in exprs:
        for sym in sorted(sp.sympify(e, strict=True).free_symbols, key=str):
            facts = {k: v for k, v in sorted(sym.assumptions0.items()) if k != "commutative"}
            if out.setdefault(sym.name, facts) != facts:
                raise BeaError(f"two different symbols are named {sym.name}")
    return out
