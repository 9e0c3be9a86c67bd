"""Named models used by examples, tests, figures and the command line (one definition each)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .errors import InputError

__all__ = ["MODELS", "TwoParameter"]

_a, _b, _x, _y, _h = sp.symbols("a b x y h")


def _pair(theta) -> tuple[np.ndarray, np.ndarray]:
    theta = np.asarray(theta, dtype=float)
    if theta.shape[-1:] != (2,):
        raise InputError(f"expected points (a, b) on the last axis, got shape {theta.shape}")
    return theta[..., 0], theta[..., 1]


@dataclass(frozen=True)
class TwoParameter:
    """The paper's two-parameter model E(a, b) = (y − abx)²/2 (Barrett & Dherin 2021, Section 4).

    The model has one data point (x, y) and two weights in series. Its exact facts are available
    symbolically (``symbolic_*``) and as vectorized NumPy functions of points ``theta`` of shape
    ``(..., 2)``. Every one of them is checked in the tests against bea's generic engine:

    * minima on the hyperbola ab = y/x (the *valley*), where the Hessian has eigenvalues 0 and
      x²(a² + b²) (the *sharpness*); the flattest, and minimum-norm, minimum is a = b = √(y/x);
    * gradient flow conserves the *imbalance* a² − b², so its end point is known in closed form;
    * one gradient-descent step multiplies a² − b² by exactly 1 − h²x²r² with r = y − abx, so GD
      drains the imbalance and drifts towards the flat minimum;
    * R_IG = x²(a² + b²)E, and the order-1 modified loss is E(1 + (h/2)x²(a² + b²)).

    Parameters
    ----------
    x, y : number
        Data (exact: decimals are read as fractions). Defaults x = 1, y = 0.6; x must be non-zero.

    Examples
    --------
    >>> m = TwoParameter()
    >>> m.loss, m.params, m.start
    ((-a*b + 3/5)**2/2, (a, b), (2.8, 3.5))
    >>> m.flat_minimum
    (0.7745966692414834, 0.7745966692414834)
    >>> round(float(m.sharpness(m.flat_minimum)), 12), float(m.loss_value(m.flat_minimum)) < 1e-30
    (1.2, True)
    """

    x: float = 1
    y: float = 0.6

    def __post_init__(self):
        for name in ("x", "y"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (
                isinstance(value, int | float) and np.isfinite(value)
            ):
                raise InputError(f"the model's {name} must be a finite number, got {value!r}")
            if abs(value) > 1000:
                raise InputError(
                    f"the model's {name} = {value:g} is out of range: |{name}| <= 1000 keeps its "
                    "float64 runs meaningful"
                )
        if self.x == 0:
            raise InputError("the model's x must be non-zero (with x = 0 the loss is constant)")

    # ---- symbolic -----------------------------------------------------------------------------
    @property
    def params(self) -> tuple[sp.Symbol, sp.Symbol]:
        """The parameters (a, b)."""
        return (_a, _b)

    @property
    def symbolic_loss(self) -> sp.Expr:
        """E with the data x, y left as symbols."""
        return (_y - _a * _b * _x) ** 2 / 2

    @property
    def values(self) -> dict[sp.Symbol, sp.Rational]:
        """The data as exact rationals."""
        return {_x: sp.Rational(str(self.x)), _y: sp.Rational(str(self.y))}

    @property
    def loss(self) -> sp.Expr:
        """E with the data substituted exactly."""
        return self.symbolic_loss.xreplace(self.values)

    @property
    def start(self) -> tuple[float, float]:
        """The paper's starting point (2.8, 3.5)."""
        return (2.8, 3.5)

    @property
    def far_start(self) -> tuple[float, float]:
        """A far, nearly balanced start (75, 74.925), where gradient flow ends at a sharp minimum."""
        return (75.0, 74.925)

    @staticmethod
    def symbolic_rig() -> sp.Expr:
        """R_IG = x²(a² + b²)E, the closed form (data symbolic).

        Examples
        --------
        >>> TwoParameter.symbolic_rig()
        x**2*(a**2 + b**2)*(-a*b*x + y)**2/2
        """
        return _x**2 * (_a**2 + _b**2) * (_y - _a * _b * _x) ** 2 / 2

    @staticmethod
    def symbolic_modified_loss(h: sp.Symbol = _h) -> sp.Expr:
        """E(1 + (h/2)x²(a² + b²)), the order-1 modified loss of GD (data symbolic).

        Examples
        --------
        >>> TwoParameter.symbolic_modified_loss()
        (-a*b*x + y)**2*(h*x**2*(a**2 + b**2)/2 + 1)/2
        """
        return (_y - _a * _b * _x) ** 2 / 2 * (1 + h / 2 * _x**2 * (_a**2 + _b**2))

    @staticmethod
    def symbolic_imbalance_factor(h: sp.Symbol = _h) -> sp.Expr:
        """1 − h²x²r², the factor by which one GD step multiplies a² − b² (data symbolic).

        Examples
        --------
        >>> TwoParameter.symbolic_imbalance_factor()
        -h**2*x**2*(-a*b*x + y)**2 + 1
        """
        return 1 - h**2 * _x**2 * (_y - _a * _b * _x) ** 2

    # ---- numeric, vectorized over points of shape (..., 2) -------------------------------------
    def residual(self, theta) -> np.ndarray:
        """r = y − abx."""
        a, b = _pair(theta)
        return self.y - self.x * a * b

    def loss_value(self, theta) -> np.ndarray:
        """E(θ) for points of shape (..., 2).

        Examples
        --------
        >>> float(TwoParameter().loss_value([1.0, 1.0]))
        0.08000000000000002
        """
        return self.residual(theta) ** 2 / 2

    def gradient(self, theta) -> np.ndarray:
        """∇E(θ) = −x r (b, a), shape (..., 2).

        Examples
        --------
        >>> TwoParameter().gradient([1.0, 2.0])
        array([2.8, 1.4])
        """
        a, b = _pair(theta)
        r = self.residual(theta)
        return np.stack([-self.x * r * b, -self.x * r * a], axis=-1)

    def hessian(self, theta) -> np.ndarray:
        """∇²E(θ), shape (..., 2, 2).

        Examples
        --------
        >>> TwoParameter().hessian([1.0, 2.0])
        array([[4. , 3.4],
               [3.4, 1. ]])
        """
        a, b = _pair(theta)
        x, r = self.x, self.residual(theta)
        off = x * x * a * b - r * x
        return np.stack(
            [np.stack([x * x * b * b, off], -1), np.stack([off, x * x * a * a], -1)], -2
        )

    def sharpness(self, theta) -> np.ndarray:
        """x²(a² + b²): the Hessian's non-zero eigenvalue on the valley, and R_IG / E everywhere.

        Examples
        --------
        >>> float(TwoParameter().sharpness([1.0, 2.0]))
        5.0
        """
        a, b = _pair(theta)
        return self.x**2 * (a * a + b * b)

    def imbalance(self, theta) -> np.ndarray:
        """a² − b², conserved by gradient flow.

        Examples
        --------
        >>> float(TwoParameter().imbalance([1.0, 2.0]))
        -3.0
        """
        a, b = _pair(theta)
        return a * a - b * b

    def rig(self, theta) -> np.ndarray:
        """R_IG(θ) = (1/2)‖∇E‖² = x²(a² + b²)E.

        Examples
        --------
        >>> float(TwoParameter().rig([1.0, 1.0]))
        0.16000000000000003
        """
        return self.sharpness(theta) * self.loss_value(theta)

    def gd_step(self, theta, h) -> np.ndarray:
        """One gradient-descent step θ − h∇E(θ); ``h`` broadcasts against ``theta[..., 0]``.

        Examples
        --------
        >>> TwoParameter().gd_step([1.0, 2.0], 0.1)
        array([0.72, 1.86])
        """
        theta = np.asarray(theta, dtype=float)
        r = self.residual(theta)  # θ − h∇E = θ + h x r (b, a): (b, a) is θ reversed
        return theta + (np.asarray(h, dtype=float) * self.x * r)[..., None] * theta[..., ::-1]

    def valley(self, a) -> np.ndarray:
        """The minima: b = y/(x a) on the hyperbola ab = y/x.

        Examples
        --------
        >>> float(TwoParameter().valley(2.0))
        0.3
        """
        return self.y / (self.x * np.asarray(a, dtype=float))

    @property
    def flat_minimum(self) -> tuple[float, float]:
        """The flattest (and minimum-norm) minimum a = b = √(y/x), for y/x > 0."""
        q = self.y / self.x
        if q <= 0:
            raise InputError("the flat minimum a = b = sqrt(y/x) needs y/x > 0")
        return (float(np.sqrt(q)), float(np.sqrt(q)))

    def stability_limit(self, theta) -> np.ndarray:
        """2/λ_max(∇²E(θ)): the largest step size for which GD is linearly stable at θ.

        Examples
        --------
        >>> round(float(TwoParameter().stability_limit(TwoParameter().flat_minimum)), 12)
        1.666666666667
        """
        return 2.0 / np.linalg.eigvalsh(self.hessian(theta))[..., -1]

    def gradient_flow_limit(self, theta0) -> np.ndarray:
        """Where gradient flow from ``theta0`` ends, in closed form (shape (..., 2)).

        Gradient flow conserves c = a² − b² and ends on ab = q = y/x, so the larger of abs(a), abs(b)
        keeps its sign and a²·b² = q², a² − b² = c give a² = (c + √(c² + 4q²))/2. Starts on the
        stable manifold of the saddle at the origin (a = ±b with ab·q < 0, or the origin) are
        not covered.

        Examples
        --------
        >>> m = TwoParameter()
        >>> end = m.gradient_flow_limit(m.start)
        >>> float(m.imbalance(end)), float(m.loss_value(end)) < 1e-30
        (-4.41, True)
        """
        a0, b0 = _pair(theta0)
        q = self.y / self.x
        c = a0 * a0 - b0 * b0
        big = np.sqrt((np.abs(c) + np.sqrt(c * c + 4 * q * q)) / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            a_big = np.where(a0 >= 0, 1.0, -1.0) * big
            b_big = np.where(b0 >= 0, 1.0, -1.0) * big
            a = np.where(c >= 0, a_big, q / b_big)
            b = np.where(c >= 0, q / a_big, b_big)
        return np.stack([a, b], axis=-1)


#: Named models for ``--model`` on the command line.
MODELS = {"two-parameter": TwoParameter}
