"""Linear multistep methods on the gradient flow θ̇ = −∇E: leapfrog, Adams–Bashforth 2, BDF2, or
any :class:`~bea.bseries.relations.LinearRelation`.

The modified flow is that of the method's *underlying one-step method* (Hairer, Lubich & Wanner
XV.2), computed on rooted trees from the relation and evaluated on f = −∇E. The parasitic
solutions are not in it: they are a transient, damped for AB2 and BDF2 (parasitic roots 0 and
1/3 at h = 0) but not for leapfrog (root −1), whose parasitic component on a gradient flow grows
like e^{λt} for every positive curvature λ. Verification starts on the underlying method's flow,
where the parasitic component is only as large as the flow's truncation error.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..bseries.relations import LinearRelation, adams_bashforth2, bdf2, leapfrog
from ..errors import InputError
from ..flow import ModifiedFlow
from ..routes import modified_equation
from ..step import TwoStepMap
from .base import Optimizer, gradient, shifted, substituted

__all__ = ["Multistep"]

#: Named linear multistep methods.
SCHEMES = {"leapfrog": leapfrog, "ab2": adams_bashforth2, "bdf2": bdf2}


@dataclass(frozen=True)
class Multistep(Optimizer):
    """A linear multistep method applied to the gradient flow θ̇ = −∇E.

    Parameters
    ----------
    scheme : {"leapfrog", "ab2", "bdf2"} or LinearRelation
        ``"leapfrog"``: θ_{n+1} = θ_{n−1} − 2h∇E(θ_n); ``"ab2"``:
        θ_{n+1} = θ_n − h(3∇E(θ_n) − ∇E(θ_{n−1}))/2; ``"bdf2"`` (implicit):
        (3/2)θ_{n+1} − 2θ_n + (1/2)θ_{n−1} = −h∇E(θ_{n+1}); or any linear relation.

    Notes
    -----
    Explicit two-step methods (shifts −1, 0, 1, f not evaluated at θ_{n+1}) have a step map and
    are verified numerically like heavy ball; implicit ones (BDF2) are derived only.

    Examples
    --------
    AB2 is second order (f₁ = 0); its f₂ is −(5/12)(f″(f, f) + f′f′f), the error constant 5/12
    (here f = −t², f″(f, f) + f′f′f = −6t⁴):

    >>> import sympy as sp, bea
    >>> t = sp.Symbol("t")
    >>> flow = bea.modified_flow(t**3 / 3, [t], 2, method=Multistep("ab2"))
    >>> flow.terms[1], flow.terms[2]
    (Matrix([[0]]), Matrix([[5*t**4/2]]))
    """

    scheme: object = "ab2"

    def __post_init__(self):
        scheme = self.scheme
        if isinstance(scheme, str):
            if scheme not in SCHEMES:
                known = ", ".join(sorted(SCHEMES))
                raise InputError(f"unknown multistep scheme {scheme!r}; known: {known}")
            scheme = SCHEMES[scheme]()
        if not isinstance(scheme, LinearRelation):
            raise InputError("scheme must be a name or a bea.bseries.LinearRelation")
        object.__setattr__(self, "scheme", scheme)

    @property
    def name(self) -> str:
        """The scheme's name, in lower case."""
        return self.scheme.name.lower().replace(" ", "-")

    @property
    def explicit(self) -> bool:
        """True for a two-step method that never evaluates ∇E at θ_{n+1}."""
        rel = self.scheme
        return (
            set(rel.shifts) <= {-1, 0, 1}
            and rel.alpha.get(1, 0) != 0
            and all(mu.get(1, 0) == 0 for _, mu in rel.evaluations)
        )

    def flow(self, loss, params, h, order) -> ModifiedFlow:
        """The underlying one-step method's modified flow, on trees, for f = −∇E."""
        field = [-g for g in gradient(loss, params)]
        return modified_equation(self.scheme, params, h, order, field=field).with_method(
            self.name, loss
        )

    def step_map(self, loss, params, h):
        """θ_{n+1} = Ψ_h(θ_n, θ_{n−1}) for an explicit two-step scheme."""
        if not self.explicit:
            raise InputError(
                f"{self.scheme.name} is implicit or not a two-step method: bea derives its "
                "modified flow but has no step map to verify it numerically"
            )
        rel = self.scheme
        prev = shifted(params, "prev")
        at = {0: list(params), -1: list(prev)}
        g = gradient(loss, params)
        new = []
        for i in range(len(params)):
            rhs = -sum(_exact(rel.alpha.get(s, 0)) * at[s][i] for s in (0, -1))
            for gamma, mu in rel.evaluations:
                point = [
                    sum(_exact(m) * at[s][k] for s, m in mu.items()) for k in range(len(params))
                ]
                rhs -= h * _exact(gamma) * substituted([g[i]], params, point)[0]
            new.append(sp.expand(rhs / _exact(rel.alpha[1])))
        return TwoStepMap(sp.Matrix(new), tuple(params), h, prev, self.name, loss)


def _exact(coefficient) -> sp.Expr:
    """A relation's coefficient (a Fraction or a sympy expression) as a sympy number."""
    return sp.sympify(coefficient)
