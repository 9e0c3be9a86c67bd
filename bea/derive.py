"""Public entry points for optimizers on a loss: :func:`modified_flow` and :func:`modified_loss`."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import sympy as sp

from .errors import InputError
from .flow import ModifiedFlow
from .methods import METHODS
from .parsing import parse_loss, parse_params
from .series import _check_order, modified_equation

__all__ = ["modified_flow", "modified_loss", "prepare_loss"]

#: The step-size symbol bea uses unless told otherwise.
H = sp.Symbol("h")


def prepare_loss(
    loss: sp.Expr | str, params: Sequence[sp.Symbol | str], h: sp.Symbol | None = None
) -> tuple[sp.Expr, tuple[sp.Symbol, ...], sp.Symbol]:
    """Validate a loss and its parameters; parse strings safely; make decimals exact.

    Parameters
    ----------
    loss : sympy expression or str
        The loss (a string is read by :func:`bea.parse_loss`).
    params : sequence of sympy Symbol or str
        The parameters; each must occur in the loss.
    h : sympy Symbol, optional
        The step-size symbol (default ``h``); it must not occur in the loss.

    Returns
    -------
    (loss, params, h)

    Examples
    --------
    >>> prepare_loss("0.5*w**2", ["w"])
    (w**2/2, (w,), h)
    """
    params = parse_params(params)
    if isinstance(loss, str):
        loss = parse_loss(loss, params)
    else:
        try:
            loss = sp.sympify(loss, strict=True)
        except sp.SympifyError:
            raise InputError(
                f"the loss must be a sympy expression or a string, got {loss!r}"
            ) from None
        if not isinstance(loss, sp.Expr) or isinstance(loss, sp.MatrixBase):
            raise InputError("the loss must be a scalar sympy expression")
        missing = [str(p) for p in params if p not in loss.free_symbols]
        if missing:
            raise InputError(f"parameter(s) {', '.join(missing)} do not occur in the loss {loss}")
        loss = loss.xreplace({f: sp.Rational(str(f)) for f in loss.atoms(sp.Float)})
    h = H if h is None else h
    if not isinstance(h, sp.Symbol):
        raise InputError(f"h must be a sympy Symbol, got {h!r}")
    if h in loss.free_symbols:
        raise InputError(
            f"the loss uses the symbol {h}, which stands for the step size; rename it or pass "
            "another step-size symbol with h=..."
        )
    return loss, params, h


def modified_flow(
    loss: sp.Expr | str,
    params: Sequence[sp.Symbol | str],
    order: int = 1,
    method: str = "gd",
    *,
    h: sp.Symbol | None = None,
    route: str = "taylor",
) -> ModifiedFlow:
    """Modified flow that an optimizer on ``loss`` follows, to a given order in the step size.

    Parameters
    ----------
    loss : sympy expression or str
        The loss E(θ); other free symbols are constants (data, hyper-parameters).
    params : sequence of sympy Symbol or str
        The parameters θ.
    order : int, default 1
        Highest power of ``h`` kept.
    method : str or bea.optim.Optimizer, default "gd"
        The optimizer: a name (``"gd"``, ``"proximal-point"``, ``"heavy-ball"``, ``"nesterov"``;
        momentum then has a symbolic β) or an instance such as ``bea.optim.HeavyBall(0.9)``.
    h : sympy Symbol, optional
        The step-size symbol (default ``h``).
    route : {"taylor", "bseries"}
        The derivation: ``"taylor"`` matches the Lie series of the modified field with the Taylor
        expansion of the step (the default: the faster one, see ``benchmarks/``);
        ``"bseries"`` computes the modified equation on rooted trees (gradient descent is
        explicit Euler on −∇E) and evaluates it on the loss. Both give identical terms.

    Returns
    -------
    ModifiedFlow
        With ``terms[0] = −∇E`` for gradient descent.

    Examples
    --------
    The paper's first-order term, −(1/2) H ∇E:

    >>> import sympy as sp, bea
    >>> a, b = sp.symbols("a b")
    >>> flow = bea.modified_flow(a**2 * b / 2, [a, b], order=1)
    >>> flow.terms[1].T
    Matrix([[-a**3/4 - a*b**2/2, -a**2*b/2]])
    """
    loss, params, h = prepare_loss(loss, params, h)
    order = _check_order(order)
    from .optim import OPTIMIZERS, Optimizer, resolve_method

    method = resolve_method(method)
    if isinstance(method, Optimizer):
        if route != "taylor":
            raise InputError("route= applies to method 'gd' only")
        if h in method_symbols(method):
            raise InputError(f"the step size {h} cannot also be a hyper-parameter")
        flow = method.flow(loss, params, h, order)
        return dataclasses.replace(flow, method=method.name, loss=loss)
    try:
        make_step = METHODS[method]
    except (KeyError, TypeError):
        known = sorted(set(METHODS) | set(OPTIMIZERS))
        raise InputError(f"unknown method {method!r}; known: {', '.join(known)}") from None
    step = make_step(loss, params, h)
    if route == "taylor":
        flow = modified_equation(step.step, step.state, h, order)
    elif route == "bseries":
        if method != "gd":
            raise InputError(f"route='bseries' is available for method 'gd', not {method!r}")
        from .bseries.rk import EXPLICIT_EULER

        field = [-sp.diff(loss, p) for p in params]
        flow = modified_equation(EXPLICIT_EULER, params, h, order, field=field)
    else:
        raise InputError(f"route must be 'taylor' or 'bseries', got {route!r}")
    return dataclasses.replace(flow, method=step.name, loss=step.loss)


def method_symbols(method) -> set:
    """Free symbols of an optimizer's hyper-parameters."""
    out = set()
    for value in vars(method).values():
        if isinstance(value, sp.Basic):
            out |= value.free_symbols
    return out


def modified_loss(
    loss: sp.Expr | str,
    params: Sequence[sp.Symbol | str],
    order: int = 1,
    method: str = "gd",
    *,
    h: sp.Symbol | None = None,
) -> sp.Expr:
    """Modified loss Ẽ whose gradient flow the optimizer follows to the given order.

    Σ_{j ≤ order} h^j f_j = −∇Ẽ. For gradient descent at order 1 this is the paper's
    E + (h/4)‖∇E‖² = E + λ R_IG.

    Parameters
    ----------
    loss, params, order, method, h
        As in :func:`modified_flow`.

    Returns
    -------
    sympy expression

    Raises
    ------
    NotAGradientError
        Naming the first order j whose term is not a gradient field (no modified loss exists).

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a, b, x, y = sp.symbols("a b x y")
    >>> bea.modified_loss((y - a*b*x)**2 / 2, [a, b])
    h*x**2*(a**2 + b**2)*(a*b*x - y)**2/4 + (-a*b*x + y)**2/2
    """
    return modified_flow(loss, params, order, method, h=h).modified_loss()
