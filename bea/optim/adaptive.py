"""Adaptive methods after the transient: Adam and RMSProp (ε inside the square root, or outside
it as PyTorch and TensorFlow place it), whose modified fields are preconditioned gradients
(Cattaneo, Klusowski & Shigida, ICML 2024)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .._checks import hyper_parameter
from ..errors import InputError
from ..flow import ModifiedFlow
from ..parsing import as_matrix
from ..step import SlowFastMap
from .base import Optimizer, gradient, shifted

__all__ = ["Adam", "AdamW", "RMSProp", "preconditioned_loss"]


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam with ε inside the square root, after the bias corrections have died out:

        m' = β₁m + (1 − β₁)∇E(θ),  v' = β₂v + (1 − β₂)∇E(θ)²,  θ' = θ − h m'/√(v' + ε).

    The moments are fast variables slaved to the gradient (m = ∇E + O(h), v = ∇E² + O(h)); the
    relation route solves for them with the flow, and verification starts on that slow manifold.
    The modified field is a *preconditioned* gradient, −P∇E + O(h) with
    P = diag(1/√(∇E² + ε)), not a gradient field: use :meth:`preconditioner` and
    :func:`preconditioned_loss`.

    Parameters
    ----------
    beta1, beta2 : number or sympy Symbol
        In [0, 1); ``beta1 = 0`` is RMSProp.
    eps : number or sympy Symbol
        > 0.
    eps_outside : bool, keyword only
        ``True``: θ' = θ − h m'/(√v' + ε), the form of PyTorch's and TensorFlow's Adam. The
        slow manifold has v = ∇E², so the field holds √(∂ᵢE²) = ∣∂ᵢE∣: it is smooth, and the
        expansion valid, where no component of the gradient vanishes.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> t = sp.Symbol("t")
    >>> flow = bea.modified_flow(t**2 / 2, [t], 0, method=Adam(0.9, 0.999, 1e-8))
    >>> flow.terms[0]
    Matrix([[-t/sqrt(t**2 + 1/100000000)]])
    >>> outside = Adam(0.9, 0.999, 1e-8, eps_outside=True)
    >>> bea.modified_flow(t**2 / 2, [t], 0, method=outside).terms[0]
    Matrix([[-t/(sqrt(t**2) + 1/100000000)]])
    """

    beta1: object = sp.Symbol("beta1")
    beta2: object = sp.Symbol("beta2")
    eps: object = sp.Symbol("epsilon", positive=True)
    eps_outside: bool = field(default=False, kw_only=True)
    name = "adam"  # RMSProp when beta1 = 0

    def __post_init__(self):
        object.__setattr__(self, "beta1", hyper_parameter(self.beta1, "beta1", lo=0, hi=1))
        object.__setattr__(self, "beta2", hyper_parameter(self.beta2, "beta2", lo=0, hi=1))
        object.__setattr__(self, "eps", _eps(self.eps))
        _check_outside(self.eps_outside)

    def _scale(self, v):
        """1/√(v + ε), or 1/(√v + ε) with ε outside the root."""
        return 1 / (sp.sqrt(v) + self.eps) if self.eps_outside else 1 / sp.sqrt(v + self.eps)

    def preconditioner(self, loss, params) -> sp.Matrix:
        """P = diag(1/√(∂ᵢE² + ε)) (or 1/(∣∂ᵢE∣ + ε) with ε outside), the order-0 preconditioner.

        Examples
        --------
        >>> import sympy as sp
        >>> t = sp.Symbol("t")
        >>> Adam(0.9, 0.999, 1).preconditioner(t**2 / 2, [t])
        Matrix([[1/sqrt(t**2 + 1)]])
        """
        return sp.diag(*[self._scale(g**2) for g in gradient(loss, params)])

    def step_map(self, loss, params, h):
        """The step on (θ, m, v); θ uses the new moments m', v'."""
        m0, v0 = shifted(params, "m"), shifted(params, "v")
        g = gradient(loss, params)
        m1 = [self.beta1 * a + (1 - self.beta1) * gi for a, gi in zip(m0, g, strict=True)]
        v1 = [self.beta2 * b + (1 - self.beta2) * gi**2 for b, gi in zip(v0, g, strict=True)]
        new = [p - h * a * self._scale(b) for p, a, b in zip(params, m1, v1, strict=True)]
        return SlowFastMap(sp.Matrix(new + m1 + v1), tuple(params), h, m0 + v0, self.name, loss)


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, ICLR 2019), ε inside the root:

        m' = β₁m + (1 − β₁)∇E(θ),  v' = β₂v + (1 − β₂)∇E(θ)²,  θ' = θ − h(m'/√(v' + ε) + λθ),

    PyTorch's ``AdamW`` step θ ← θ(1 − hλ) − h m'/√(v' + ε) after the bias corrections have died
    out. The decay is not preconditioned: the leading field is −P∇E − λθ, where L2 decay inside
    Adam (``WeightDecay(Adam(...), lam)``) gives −P̃(∇E + λθ) with P̃ built from ∇E + λθ.

    Parameters
    ----------
    beta1, beta2, eps
        As :class:`Adam`.
    lam : number or sympy Symbol
        The weight decay λ ≥ 0.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> t = sp.Symbol("t")
    >>> flow = bea.modified_flow(t**2 / 2, [t], 0, method=AdamW(0.9, 0.999, 1, 0.1))
    >>> flow.terms[0]
    Matrix([[-t/10 - t/sqrt(t**2 + 1)]])
    """

    lam: object = sp.Symbol("lam")
    name = "adamw"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "lam", hyper_parameter(self.lam, "lam", lo=0, hi=None))

    def step_map(self, loss, params, h):
        """Adam's step on (θ, m, v) with θ also shrunk by hλθ."""
        adam = super().step_map(loss, params, h)
        d = len(params)
        new = [adam.step[i] - h * self.lam * params[i] for i in range(d)]
        return SlowFastMap(
            sp.Matrix(new + list(adam.step[d:])), tuple(params), h, adam.fast, self.name, loss
        )


def _check_outside(value):
    if not isinstance(value, bool):
        raise InputError(f"eps_outside must be True or False, got {value!r}")


def _eps(value):
    """ε: a number, or a name (a positive symbol)."""
    if isinstance(value, str) and value.strip().isidentifier():
        value = sp.Symbol(value.strip(), positive=True)
    return hyper_parameter(value, "eps", lo=0, hi=None, lo_open=True)


@dataclass(frozen=True)
class RMSProp(Optimizer):
    """RMSProp: v' = ρv + (1 − ρ)∇E², θ' = θ − h∇E/√(v' + ε) — Adam with β₁ = 0 and β₂ = ρ.

    Parameters
    ----------
    rho : number or sympy Symbol
        In [0, 1).
    eps : number or sympy Symbol
        > 0.
    eps_outside : bool, keyword only
        As :class:`Adam`: θ' = θ − h∇E/(√v' + ε).

    Examples
    --------
    >>> RMSProp(0.9, 1e-8).beta1, RMSProp(0.9, 1e-8).beta2
    (0, 9/10)
    """

    rho: object = sp.Symbol("rho")
    eps: object = sp.Symbol("epsilon", positive=True)
    eps_outside: bool = field(default=False, kw_only=True)
    name = "rmsprop"

    def __post_init__(self):
        object.__setattr__(self, "rho", hyper_parameter(self.rho, "rho", lo=0, hi=1))
        object.__setattr__(self, "eps", _eps(self.eps))
        _check_outside(self.eps_outside)

    def _scale(self, v):
        return Adam._scale(self, v)

    @property
    def beta1(self):
        """0: RMSProp keeps no first moment."""
        return sp.Integer(0)

    @property
    def beta2(self):
        """ρ."""
        return self.rho

    def preconditioner(self, loss, params) -> sp.Matrix:
        """P = diag(1/√(∂ᵢE² + ε)) (or 1/(∣∂ᵢE∣ + ε)), as for :class:`Adam`."""
        return Adam.preconditioner(self, loss, params)

    def step_map(self, loss, params, h):
        """The step on (θ, m, v) of :class:`Adam` with β₁ = 0."""
        return Adam.step_map(self, loss, params, h)


def preconditioned_loss(
    flow: ModifiedFlow, P: sp.Matrix, order: int | None = None, *, closed_form: bool = False
) -> sp.Expr:
    """The loss Ẽ with Σ_{j ≤ order} h^j f_j = −P∇Ẽ, if P⁻¹f_j is a gradient for each j.

    The fields P⁻¹f_j are built exactly and handed to :class:`~bea.flow.ModifiedFlow`, so the
    gradient test and the potentials are the same as for :meth:`ModifiedFlow.modified_loss`.

    Parameters
    ----------
    flow : ModifiedFlow
    P : sympy Matrix
        The invertible preconditioner (for Adam: :meth:`Adam.preconditioner`).
    order : int, optional
        Truncation order (default: all terms).
    closed_form : bool
        As in :meth:`ModifiedFlow.potential`: ``True`` asks sympy's integrator for potentials
        bea finds no closed form for (otherwise exact ray integrals).

    Raises
    ------
    NotAGradientError
        At the first j whose P⁻¹f_j is not a gradient field.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> t = sp.Symbol("t")
    >>> opt = Adam(sp.Rational(9, 10), sp.Rational(99, 100), 1)
    >>> flow = bea.modified_flow(t**2 / 2, [t], 0, method=opt)
    >>> preconditioned_loss(flow, opt.preconditioner(t**2 / 2, [t]))
    t**2/2
    """
    P = as_matrix(P, flow.state, what="preconditioner")
    n = len(flow.state)
    if P.shape != (n, n):
        raise InputError(f"the preconditioner must be {n}x{n}, got {P.shape}")
    Pinv = sp.diag(*[1 / P[i, i] for i in range(n)]) if P.is_diagonal() else P.inv()
    order = flow.order if order is None else order
    fields = [(Pinv * flow.terms[j]).applyfunc(sp.expand) for j in range(order + 1)]
    q = ModifiedFlow.from_exprs(fields, flow.state, flow.h, method=flow.method, loss=flow.loss)
    return q.modified_loss(closed_form=closed_form)
