"""Two-player games: simultaneous and alternating gradient descent (Rosca, Wu, Dherin & Barrett,
*Discretization drift in two-player games*, ICML 2021)."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._checks import check_order, check_step_symbol, check_symbols, hyper_parameter
from ..errors import InputError
from ..flow import ModifiedFlow
from ..parsing import H, as_expression
from ..routes import derive_step
from ..step import StepMap
from .base import substituted

__all__ = ["Game"]


@dataclass(frozen=True)
class Game:
    """Two-player gradient descent: player 1 moves x on loss L₁ with learning rate h, player 2
    moves y on L₂ with learning rate νh, either simultaneously or alternating (x first).

    Games have no single loss, so they derive with :meth:`flow` rather than through
    :func:`bea.modified_flow`. The modified field is in the time of player 1's steps.

    Parameters
    ----------
    L1, L2 : sympy expressions or str
        The players' losses (a zero-sum game has L₂ = −L₁).
    x, y : sequences of sympy Symbol or str
        The players' parameters.
    ratio : number or sympy Symbol
        ν = (player 2's learning rate) / (player 1's), > 0.
    alternating : bool
        Player 2 sees player 1's new x (alternating) or the old one (simultaneous).

    Examples
    --------
    Rosca, Wu, Dherin & Barrett (ICML 2021): simultaneous GD on the bilinear game L₁ = xy = −L₂
    drifts outwards; the drift is a gradient term that makes x² + y² grow:

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> flow = Game(x * y, -x * y, [x], [y]).flow(order=1)
    >>> flow.terms[0].T, flow.terms[1].T
    (Matrix([[-y, x]]), Matrix([[x/2, y/2]]))
    """

    L1: object
    L2: object
    x: tuple
    y: tuple
    ratio: object = 1
    alternating: bool = False

    def __post_init__(self):
        x = check_symbols([self.x] if isinstance(self.x, str | sp.Symbol) else self.x, "x")
        y = check_symbols([self.y] if isinstance(self.y, str | sp.Symbol) else self.y, "y")
        if set(x) & set(y):
            raise InputError("the two players' parameters must be different symbols")
        for name in ("L1", "L2"):
            value = as_expression(getattr(self, name), x + y, what=f"loss {name}")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        ratio = hyper_parameter(self.ratio, "ratio", lo=0, hi=None, lo_open=True, reserved=x + y)
        object.__setattr__(self, "ratio", ratio)

    @property
    def name(self) -> str:
        """``"alternating-gd"`` or ``"simultaneous-gd"``."""
        return "alternating-gd" if self.alternating else "simultaneous-gd"

    def step_map(self, h: sp.Symbol | None = None) -> StepMap:
        """One round of both players' updates, as a step map in (x, y).

        Examples
        --------
        >>> import sympy as sp
        >>> x, y = sp.symbols("x y")
        >>> Game(x * y, -x * y, [x], [y], alternating=True).step_map().step.T
        Matrix([[-h*y + x, -h*(h*y - x) + y]])
        """
        h = check_step_symbol(h, default=H)
        if h in (self.L1.free_symbols | self.L2.free_symbols | set(self.x) | set(self.y)):
            raise InputError(f"the step size {h} cannot appear in the losses or be a parameter")
        gx = [sp.diff(self.L1, v) for v in self.x]
        x_new = [v - h * g for v, g in zip(self.x, gx, strict=True)]
        gy = [sp.diff(self.L2, v) for v in self.y]
        if self.alternating:
            gy = substituted(gy, self.x, x_new)
        y_new = [v - self.ratio * h * g for v, g in zip(self.y, gy, strict=True)]
        return StepMap(sp.Matrix(x_new + y_new), self.x + self.y, h, self.name)

    def flow(self, h: sp.Symbol | None = None, order: int = 1) -> ModifiedFlow:
        """The modified flow of the game in (x, y), to ``order`` (Taylor route)."""
        order = check_order(order)
        return derive_step(self.step_map(h), order).with_method(self.name)
