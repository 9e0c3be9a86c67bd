"""Exact differential polynomial rings: where bea's symbolic derivations happen.

A smooth expression in the state variables is written as a *polynomial with rational coefficients*
in three kinds of generators: the state variables, the other symbols (constants such as data ``x``,
``y`` or the step size ``h``), and *atoms* — the non-polynomial pieces ``exp(u)``, ``log(u)``,
``1/u``, ``u**e``, ``sin(u)``, … . Every atom's derivative is again a polynomial in the generators
(``d exp(u) = exp(u) du``, ``d log(u) = (1/u) du``, ``d (1/u) = -(1/u)**2 du``, …), so the set of
atoms is closed under differentiation once it is built, and differentiation becomes an exact
derivation of the ring (chain rule over the atoms).

Why: expanded sympy expressions of non-polynomial losses grow without bound under repeated
differentiation (quotients are never recombined), while the same derivatives as polynomials in the
atoms stay compact. Arithmetic is sympy's sparse polynomial arithmetic over ``QQ`` — exact, and
typically 100x faster than manipulating general expressions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import PolyElement, PolyRing

from .errors import InputError
from .functions import NON_SMOOTH, SELF, SMOOTH_FUNCTIONS

__all__ = ["MAX_TERMS", "DiffRing"]

#: Largest number of terms an intermediate expression of a derivation may reach before bea stops
#: with an error instead of exhausting memory (about 200 MB per expression with 30 generators).
#: Ordinary jobs stay far below it (the 3-parameter logistic-and-sine loss at order 7 peaks at
#: about 1,300 terms). Checked at every derivative; raise it by assigning
#: ``bea.diffring.MAX_TERMS``.
MAX_TERMS = 500_000

# For an atom A = F(u): dA/du written with sympy expressions. ``_SELF`` stands for A itself so that
# the rule never asks for a new atom when A's own value will do (exp, tan, tanh, powers).
_SELF = SELF


def _pow_rule(u: sp.Expr, e: sp.Expr) -> sp.Expr:
    # d(u**e)/du = e * u**e * (1/u); for e == -1 this is -A**2 (no new atom needed).
    if e == -1:
        return -(_SELF**2)
    return e * _SELF * (1 / u)


def _expression(e) -> sp.Expr:
    """A sympy expression (strings are refused: the ring never parses text)."""
    try:
        return sp.sympify(e, strict=True)
    except sp.SympifyError:
        raise InputError(
            f"the ring takes sympy expressions, got {type(e).__name__}; parse text with "
            "bea.parsing.parse_expression"
        ) from None


def _exact(number: sp.Expr) -> sp.Rational:
    """A sympy number as an exact Rational; floats are read by their shortest decimal form."""
    if number.is_Rational:
        return sp.Rational(number)
    return sp.Rational(str(number))


def _check_size(p: PolyElement) -> PolyElement:
    if len(p) > MAX_TERMS:
        raise InputError(
            f"an intermediate expression of the derivation reached {len(p):,} terms, above the "
            f"limit of {MAX_TERMS:,} (lower the order or the number of parameters, or raise "
            "bea.diffring.MAX_TERMS)"
        )
    return p


class DiffRing:
    """A polynomial ring over ``QQ`` with exact derivations along the state variables.

    Parameters
    ----------
    exprs : iterable of sympy expressions
        Every expression that will be converted into the ring; their atoms (and the atoms their
        derivatives need) become generators.
    state : sequence of sympy Symbol
        The variables to differentiate along. Every other free symbol is a constant.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> R = DiffRing([sp.log(1 + sp.exp(a * b))], [a, b])
    >>> p = R.to_ring(sp.log(1 + sp.exp(a * b)))
    >>> R.to_sympy(R.diff(p, 0))
    b*exp(a*b)/(exp(a*b) + 1)
    """

    def __init__(self, exprs: Iterable[sp.Expr], state: Sequence[sp.Symbol]):
        exprs = [_expression(e) for e in exprs]
        self.state = tuple(state)
        state_set = set(self.state)
        others: set[sp.Symbol] = set()
        for e in exprs:
            others |= {s for s in e.free_symbols if s not in state_set}
        self.constants = tuple(sorted(others, key=lambda s: s.name))
        self._atoms: dict[sp.Expr, sp.Dummy] = {}
        self._rules: dict[sp.Expr, tuple[sp.Expr, sp.Expr]] = {}  # atom -> (argument, dA/du)
        pending = list(exprs)
        while pending:
            pending.extend(self._discover(pending.pop()))
        atoms = list(self._atoms)
        keys = list(self.state) + list(self.constants) + atoms
        self.ring = PolyRing([*self.state, *self.constants, *self._atoms.values()], QQ)
        self._state_gens = self.ring.gens[: len(self.state)]
        self._gen_of = dict(zip(keys, self.ring.gens, strict=True))
        self._sympy_of = keys
        self._cache: dict[sp.Expr, PolyElement] = {}
        # derivative of each state-dependent atom along each state variable (memoised recursion:
        # an atom's argument only holds smaller atoms)
        self._state_atoms = [a for a in atoms if self._rules[a][0].free_symbols & state_set]
        self._derivs: dict[sp.Expr, list[PolyElement]] = {}
        for atom in self._state_atoms:
            self._atom_derivative(atom)
        self._atom_derivs = [
            (self._gen_of[a], self._derivs[a]) for a in self._state_atoms if any(self._derivs[a])
        ]

    def _atom_derivative(self, atom: sp.Expr) -> list[PolyElement]:
        done = self._derivs.get(atom)
        if done is not None:
            return done
        arg, outer = self._rules[atom]
        outer_p = self.to_ring(outer, _self=self._gen_of[atom])
        arg_p = self.to_ring(arg)
        inner = [a for a in self._state_atoms if arg_p.degree(self._gen_of[a]) > 0]
        for a in inner:
            self._atom_derivative(a)
        derivs = []
        for i, s in enumerate(self._state_gens):
            d = arg_p.diff(s)
            for a in inner:
                d += arg_p.diff(self._gen_of[a]) * self._derivs[a][i]
            derivs.append(outer_p * d)
        self._derivs[atom] = derivs
        return derivs

    # ------------------------------------------------------------------ discovery of the atoms
    def _discover(self, expr: sp.Expr) -> list[sp.Expr]:
        """Register the atoms of ``expr``; return expressions still to be walked."""
        todo: list[sp.Expr] = []
        stack = [expr]
        state_set = set(self.state)
        while stack:
            e = stack.pop()
            kind, data = self._classify(e)
            if kind in ("symbol", "number"):
                continue
            if kind in ("add", "mul"):
                stack.extend(e.args)
            elif kind == "intpow":
                stack.append(data[0])
            elif kind == "atom":
                if e in self._atoms:
                    continue
                arg, outer = data
                self._atoms[e] = sp.Dummy(f"A{len(self._atoms)}")
                self._rules[e] = (arg, outer)
                stack.append(arg)
                if arg.free_symbols & state_set:
                    todo.append(outer)  # _SELF stays a placeholder symbol
        return todo

    def _classify(self, e: sp.Expr):
        if e.is_Symbol:
            return "symbol", None
        if e.is_Rational or e.is_Float:
            return "number", None
        if e.is_Add:
            return "add", None
        if e.is_Mul:
            return "mul", None
        if e.is_Pow:
            base, ex = e.args
            if ex.free_symbols:  # b**u with a non-constant exponent is exp(u*log(b))
                return "atom", (ex * sp.log(base), _SELF)
            if ex.is_Integer and ex >= 0:
                return "intpow", (base, int(ex))
            if ex.is_Integer and ex < -1:
                return "intpow", (sp.Pow(base, -1), int(-ex))
            return "atom", (base, _pow_rule(base, ex))
        if isinstance(e, NON_SMOOTH):
            raise InputError(
                f"{e.func.__name__} is not smooth: backward error analysis needs a smooth loss "
                f"(found {e})"
            )
        rule = SMOOTH_FUNCTIONS.get(e.func)
        if rule is not None:
            if len(e.args) != 1:
                raise InputError(f"{e.func.__name__} takes one argument (found {e})")
            return "atom", (e.args[0], rule(e.args[0]))
        if e.is_number:  # pi, E, EulerGamma, ...: constant atoms
            return "atom", (e, sp.Integer(0))
        raise InputError(f"bea cannot differentiate the function {e.func} (found {e})")

    # ------------------------------------------------------------------------- conversions
    def to_ring(self, expr: sp.Expr, _self: PolyElement | None = None) -> PolyElement:
        """Convert a sympy expression (whose atoms this ring knows) into a ring element."""
        expr = _expression(expr)
        if _self is not None:
            if expr == _SELF:
                return _self
            if not expr.has(_SELF):
                _self = None
        else:
            cached = self._cache.get(expr)
            if cached is not None:
                return cached
        kind, data = self._classify(expr)
        R = self.ring
        if kind == "symbol":
            try:
                out = self._gen_of[expr]
            except KeyError:
                raise InputError(f"unknown symbol {expr}") from None
        elif kind == "number":
            out = R.ground_new(QQ.from_sympy(_exact(expr)))
        elif kind == "add":
            out = R.zero
            for t in expr.args:
                out += self.to_ring(t, _self)
        elif kind == "mul":
            out = R.one
            for t in expr.args:
                out *= self.to_ring(t, _self)
        elif kind == "intpow":
            out = self.to_ring(data[0], _self) ** data[1]
        else:
            try:
                out = self._gen_of[expr]
            except KeyError:
                raise InputError(f"expression {expr} was not declared to this ring") from None
        if _self is None:
            self._cache[expr] = out
        return out

    def vanishes(self, p: PolyElement, *, tries: int = 4, digits: int = 60) -> bool | None:
        """Whether ``p`` is zero as a function, although it may not be as a polynomial (its
        atoms can be related: exp(u) and exp(−u), tanh(u) and exp(2u), …).

        A probabilistic identity test: ``p`` is evaluated at ``tries`` random rational points of
        the state and constants, every atom to ``digits`` digits (mpmath), and declared zero if
        at each point the sum is below 10⁻⁴⁰ of the sum of the terms' magnitudes (a non-zero
        analytic function vanishing at random points to 40 digits has probability zero). No
        symbolic simplification. Returns None if it could not be evaluated at any point (every
        point outside its domain).

        Examples
        --------
        >>> a = sp.Symbol("a")
        >>> R = DiffRing([sp.exp(a), sp.exp(-a)], [a])
        >>> p = R.to_ring(sp.exp(a)) * R.to_ring(sp.exp(-a)) - 1
        >>> bool(p), R.vanishes(p), R.vanishes(p + R.to_ring(a))
        (True, True, False)
        """
        import mpmath

        if not p:
            return True
        evaluated = False
        with mpmath.workdps(digits):
            for values in self.random_points(tries, digits, seed=20210312):
                total, scale = self.evaluate(p, values)
                if not mpmath.isfinite(abs(total)) or not mpmath.isfinite(scale):
                    continue
                evaluated = True
                if abs(total) > mpmath.mpf(10) ** -40 * scale:
                    return False
        return True if evaluated else None

    def random_points(self, count: int, digits: int = 60, *, seed: int = 0):
        """Values of every generator (state, constants, atoms) at up to ``count`` random rational
        points of the state and constants in [0.5, 1.5], as mpmath numbers to ``digits`` digits;
        points where an atom is not a finite number are skipped (at most 4·count tried).

        Examples
        --------
        >>> a = sp.Symbol("a")
        >>> R = DiffRing([sp.exp(a)], [a])
        >>> [len(v) for v in R.random_points(2)]
        [2, 2]
        """
        import random

        import mpmath

        rng = random.Random(seed)
        free = [*self.state, *self.constants]
        found = 0
        with mpmath.workdps(digits):
            for _ in range(4 * count):
                if found == count:
                    return
                point = {s: sp.Rational(rng.randint(500, 1500), 1000) for s in free}
                values = []
                for key in self._sympy_of:
                    v = point.get(key)
                    if v is None:
                        v = sp.N(key.xreplace(point), digits)
                    try:
                        values.append(v._to_mpmath(mpmath.mp.prec))
                    except (AttributeError, TypeError, ValueError):  # nan, zoo, not a number
                        break
                else:
                    found += 1
                    yield values

    @staticmethod
    def evaluate(p: PolyElement, values) -> tuple:
        """(Σ terms, Σ |terms|) of ``p`` at generator values from :meth:`random_points`.

        Examples
        --------
        >>> a = sp.Symbol("a")
        >>> R = DiffRing([a], [a])
        >>> R.evaluate(R.to_ring(a**2 - 3), [2])
        (mpf('1.0'), mpf('7.0'))
        """
        import mpmath

        total, scale = mpmath.mpf(0), mpmath.mpf(0)
        for monom, coeff in p.terms():
            term = mpmath.mpf(coeff.numerator) / coeff.denominator
            for v, e in zip(values, monom, strict=True):
                if e:
                    term *= v**e
            total += term
            scale += abs(term)
        return total, scale

    def to_sympy(self, p: PolyElement) -> sp.Expr:
        """Convert a ring element back into a sympy expression (atoms restored).

        Terms that share a power of a constant denominator atom 1/D (such as 1/(1 − β)) are
        written over that denominator once.

        Examples
        --------
        >>> a, beta = sp.symbols("a beta")
        >>> R = DiffRing([a / (1 - beta)], [a])
        >>> R.to_sympy(R.to_ring(a / (1 - beta) + a**2 / (1 - beta)))
        (a**2 + a)/(1 - beta)
        """
        dens = self._denominators
        if not dens:
            return p.as_expr(*self._sympy_of)
        groups: dict[tuple, dict] = {}
        for monom, coeff in p.terms():
            key = tuple(monom[i] for i, _ in dens)
            rest = list(monom)
            for i, _ in dens:
                rest[i] = 0
            groups.setdefault(key, {})[tuple(rest)] = coeff
        total = sp.Integer(0)
        for key in sorted(groups):
            num = self.ring.from_dict(groups[key])
            den = sp.Integer(1)
            for (_, (coeff, factors)), k in zip(dens, key, strict=True):
                if not k:
                    continue
                den *= coeff**k
                for f, e in factors:  # cancel the factors of D that divide the numerator
                    left = e * k
                    while left:
                        q, r = num.div([f])
                        if r:
                            break
                        num, left = q[0], left - 1
                    if left:
                        den *= f.as_expr(*self._sympy_of) ** left
            expr = num.as_expr(*self._sympy_of)
            total += expr if den == 1 else sp.Mul(expr, sp.Pow(den, -1), evaluate=False)
        return total

    @cached_property
    def _denominators(self) -> list[tuple[int, tuple]]:
        """For each state-free atom 1/D: (generator index, (c, [(factor f, multiplicity)]))
        with D = c Π f^e, each factor f a ring element (the constants are generators)."""
        state = set(self.state)
        out = []
        for i, key in enumerate(self._sympy_of):
            if key.is_Pow and key.exp == -1 and not (key.base.free_symbols & state):
                coeff, factors = sp.factor_list(key.base)
                try:
                    parts = [(self.to_ring(f), e) for f, e in factors]
                except InputError:
                    continue
                out.append((i, (coeff, parts)))
        return out

    @cached_property
    def _reciprocals(self) -> list[tuple[int, PolyElement]]:
        """(generator index, q) for each atom 1/q whose q is a polynomial in the state and the
        constants that involves the state."""
        state = set(self.state)
        plain = len(self.state) + len(self.constants)
        out = []
        for i, key in enumerate(self._sympy_of[plain:], start=plain):
            if key.is_Pow and key.exp == -1 and key.base.free_symbols & state:
                try:
                    q = self.to_ring(key.base)
                except InputError:
                    continue
                if all(not any(m[plain:]) for m in q.monoms()):
                    out.append((i, q))
        return out

    def reduce(self, p: PolyElement) -> PolyElement:
        """``p`` with q·(1/q) = 1 applied for every atom 1/q with q a polynomial in the state (and
        the constants): the coefficient of each power of the atom is divided by q and the quotient
        moved one power down. The result is the same function, written so that no coefficient of
        a power of 1/q is divisible by q's leading term; an expression that is zero as a rational
        function (such as (u₁² + u₂²)/(u₁² + u₂²)⁵ − 1/(u₁² + u₂²)⁴) becomes 0.

        Examples
        --------
        >>> u, v = sp.symbols("u v")
        >>> R = DiffRing([1 / (u**2 + v**2)], [u, v])
        >>> p = R.to_ring(u**2 / (u**2 + v**2) ** 2 + v**2 / (u**2 + v**2) ** 2 - 1 / (u**2 + v**2))
        >>> bool(p), R.reduce(p)
        (True, 0)
        """
        for i, q in self._reciprocals:
            if p.degree(self.ring.gens[i]) <= 0:
                continue
            zero, parts = self.ring.zero, {}
            for monom, coeff in p.terms():
                rest = (*monom[:i], 0, *monom[i + 1 :])
                parts.setdefault(monom[i], {})[rest] = coeff
            polys = {k: self.ring.from_dict(d) for k, d in parts.items()}
            for k in range(max(polys), 0, -1):
                c = polys.get(k)
                if not c:
                    continue
                (quotient,), polys[k] = c.div([q])
                if quotient:
                    polys[k - 1] = polys.get(k - 1, zero) + quotient
            A = self.ring.gens[i]
            p = sum((c * A**k for k, c in polys.items() if c), zero)
        return p

    @property
    def generators(self) -> tuple[sp.Expr, ...]:
        """The sympy expression that each generator of the ring stands for, in the ring's order:
        the state, the constants, then the atoms.

        Examples
        --------
        >>> a, c = sp.symbols("a c")
        >>> DiffRing([c * sp.exp(a)], [a]).generators
        (a, c, exp(a))
        """
        return tuple(self._sympy_of)

    @staticmethod
    def substitute(p: PolyElement, images: Sequence[PolyElement], zero: PolyElement) -> PolyElement:
        """``p`` with its generators replaced by ``images`` (elements of one ring whose zero is
        ``zero``; one image per generator, in the order of :attr:`generators`): the ring
        homomorphism that, say, carries derivatives taken in one ring to a point of another.

        Examples
        --------
        >>> a, b = sp.symbols("a b")
        >>> R, S = DiffRing([a * b], [a, b]), DiffRing([b], [b])
        >>> q = R.substitute(R.to_ring(a * b + a), [S.to_ring(b**2), S.to_ring(b)], S.ring.zero)
        >>> S.to_sympy(q)
        b**3 + b**2
        """
        out = zero
        powers: dict[tuple[int, int], PolyElement] = {}
        for monom, coeff in p.terms():
            term = zero + coeff
            for i, k in enumerate(monom):
                if not k:
                    continue
                img = images[i]
                if not img:
                    term = zero
                    break
                key = (i, k)
                if key not in powers:
                    powers[key] = img**k
                term *= powers[key]
            if term:
                out += term
        return out

    # ------------------------------------------------------------------------- derivations
    def diff(self, p: PolyElement, i: int) -> PolyElement:
        """Exact derivative of ``p`` along the ``i``-th state variable (chain rule over atoms).

        Raises :class:`~bea.errors.InputError` when ``p`` or its derivative has more than
        :data:`MAX_TERMS` terms.
        """
        _check_size(p)
        out = p.diff(self._state_gens[i])
        for gen, derivs in self._atom_derivs:
            if derivs[i] and p.degree(gen) > 0:
                out += p.diff(gen) * derivs[i]
        return _check_size(out)

    def jacobian(self, vec: Sequence[PolyElement]) -> list[list[PolyElement]]:
        """Jacobian matrix ``J[r][c] = d vec[r] / d state[c]``."""
        n = len(self.state)
        return [[self.diff(v, c) for c in range(n)] for v in vec]

    def dot(self, us: Sequence[PolyElement], vs: Sequence[PolyElement]) -> PolyElement:
        """The sum of products ``Σ_q us[q] * vs[q]``, accumulated in one polynomial.

        Summing the products one by one copies the growing sum at every step; here each
        product's terms are added in place.

        Raises :class:`~bea.errors.InputError` when the result has more than :data:`MAX_TERMS`
        terms.

        Examples
        --------
        >>> import sympy as sp
        >>> a, b = sp.symbols("a b")
        >>> R = DiffRing([sp.exp(a)], [a, b])
        >>> x, y, e = R.to_ring(a), R.to_ring(b), R.to_ring(sp.exp(a))
        >>> R.to_sympy(R.dot([x, y], [e, e - x]))
        -a*b + a*exp(a) + b*exp(a)
        """
        out = self.ring.zero
        get, mul, zero = out.get, self.ring.monomial_mul, QQ.zero
        for u, v in zip(us, vs, strict=True):
            if not u or not v:
                continue
            if len(u) < len(v):
                u, v = v, u
            v_terms = list(v.iterterms())
            for m1, c1 in u.iterterms():
                for m2, c2 in v_terms:
                    m = mul(m1, m2)
                    out[m] = get(m, zero) + c1 * c2
        out.strip_zero()
        return _check_size(out)

    def combine(self, pieces: Sequence[tuple[object, PolyElement]]) -> PolyElement:
        """The linear combination ``Σ q * p`` of ``(q, p)`` pairs (``q`` rational), in place.

        Examples
        --------
        >>> import sympy as sp
        >>> a = sp.Symbol("a")
        >>> R = DiffRing([sp.exp(a)], [a])
        >>> p, q = R.to_ring(a + sp.exp(a)), R.to_ring(sp.exp(a))
        >>> R.to_sympy(R.combine([(2, p), (-2, q)]))
        2*a
        """
        out = self.ring.zero
        get, zero, domain = out.get, QQ.zero, self.ring.domain
        for q, p in pieces:
            if not p or not q:
                continue
            q = domain.convert(q)
            for m, coeff in p.iterterms():
                out[m] = get(m, zero) + q * coeff
        out.strip_zero()
        return _check_size(out)

    @property
    def depends_on_atoms(self) -> bool:
        """Whether some atom depends on the state (the ring is then not a plain polynomial ring)."""
        return bool(self._atom_derivs)

    def is_polynomial(self, p: PolyElement) -> bool:
        """Whether ``p`` involves no state-dependent atom (it is a polynomial in the state)."""
        return all(p.degree(g) <= 0 for g, _ in self._atom_derivs)
