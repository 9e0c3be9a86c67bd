"""Optimizers as first-class objects: each writes its update once, as a step of a kind of
:mod:`bea.step`, and bea derives and verifies its modified flow from that step.

Hyper-parameters are numbers (read exactly) or sympy symbols. Pass an instance (or a registry
name) as ``method=`` to :func:`bea.modified_flow`, :func:`bea.modified_loss` and
:func:`bea.verify`. The contract for adding one is the docstring of :class:`Optimizer`.

* :class:`GD`, :class:`ProximalPoint` (implicit GD), :class:`Extragradient`, :class:`WeightDecay`
  (L2 form: the loss gains λ‖θ‖²/2) — :mod:`bea.optim.gd`, :mod:`bea.optim.extragradient`;
* :class:`HeavyBall`, :class:`Nesterov` — :mod:`bea.optim.momentum`;
* :class:`Multistep`: leapfrog, AB2, BDF2 or any linear relation on −∇E —
  :mod:`bea.optim.multistep`;
* :class:`SGD`: epochs of mini-batch steps, fixed order or random shuffling — :mod:`bea.optim.sgd`;
* :class:`Adam`, :class:`AdamW` (decoupled weight decay), :func:`RMSProp` and
  :func:`preconditioned_loss` — :mod:`bea.optim.adaptive`;
* :class:`Game`: simultaneous or alternating GD for two players — :mod:`bea.optim.games`.

Time: GD-type flows count one step as time h. Momentum methods take ``time="step"`` (the same) or
``time="effective"``: time measured in effective learning rate η = h/(1 − β) per step, the flow then
expanded in powers of η (Ghosh et al., ICLR 2023, compare methods this way).
"""

from __future__ import annotations

from ..errors import InputError
from .adaptive import Adam, AdamW, RMSProp, preconditioned_loss
from .base import Optimizer, hyper_symbols
from .extragradient import Extragradient
from .games import Game
from .gd import GD, ProximalPoint, WeightDecay
from .momentum import HeavyBall, Nesterov
from .multistep import Multistep
from .sgd import SGD

__all__ = [
    "GD",
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "Extragradient",
    "Game",
    "HeavyBall",
    "Multistep",
    "Nesterov",
    "Optimizer",
    "ProximalPoint",
    "RMSProp",
    "WeightDecay",
    "preconditioned_loss",
    "resolve_method",
]

#: Optimizers by name, with default (symbolic) hyper-parameters.
OPTIMIZERS: dict[str, Optimizer] = {
    "gd": GD(),
    "proximal-point": ProximalPoint(),
    "extragradient": Extragradient(),
    "heavy-ball": HeavyBall(),
    "nesterov": Nesterov(),
    "rmsprop": RMSProp(),
    "adam": Adam(),
    "adamw": AdamW(),
    "leapfrog": Multistep("leapfrog"),
    "ab2": Multistep("ab2"),
}


def resolve_method(method, params=(), h=None) -> Optimizer:
    """An optimizer from a registry name (its default instance) or an instance, checked against
    the parameters and the step size (a hyper-parameter may not reuse their symbols).

    Examples
    --------
    >>> resolve_method("nesterov").name, resolve_method(GD()).name
    ('nesterov', 'gd')
    """
    if isinstance(method, str) and method in OPTIMIZERS:
        method = OPTIMIZERS[method]
    if not isinstance(method, Optimizer):
        known = ", ".join(sorted(OPTIMIZERS))
        raise InputError(f"unknown method {method!r}; known: {known}, or an Optimizer instance")
    clash = hyper_symbols(method) & (set(params) | ({h} if h is not None else set()))
    if clash:
        names = ", ".join(sorted(map(str, clash)))
        raise InputError(
            f"the hyper-parameters of {method.name} use {names}, which is a parameter or the "
            "step size"
        )
    return method
