"""The front door of the derivations: :func:`modified_flow`, :func:`modified_loss` and
:func:`modified_equation`.

An optimizer on a loss goes through its step map (see :class:`bea.optim.Optimizer`); any one-step
map, step of another kind or Runge–Kutta tableau goes through :func:`modified_equation`, which
picks the route for its kind (:mod:`bea.routes`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sympy as sp

from ._checks import check_order
from .bseries.rk import EXPLICIT_EULER
from .errors import InputError
from .flow import ModifiedFlow
from .optim import GD, Optimizer, resolve_method
from .parsing import H, parse_expression, prepare_loss
from .routes import modified_equation

__all__ = [
    "H",
    "load_json",
    "modified_equation",
    "modified_flow",
    "modified_loss",
    "prepare_loss",
]


def modified_flow(
    loss: sp.Expr | str,
    params: Sequence[sp.Symbol | str],
    order: int = 1,
    method: str | Optimizer = "gd",
    *,
    h: sp.Symbol | None = None,
    route: str = "taylor",
    max_order: int | None = None,
) -> ModifiedFlow:
    """Modified flow that an optimizer on ``loss`` follows, to a given order in the step size.

    Parameters
    ----------
    loss : sympy expression or str
        The loss E(θ); other free symbols are constants (data, hyper-parameters). Strings are read
        by bea's safe parser; expressions get the same checks.
    params : sequence of sympy Symbol or str
        The parameters θ.
    order : int, default 1
        Highest power of ``h`` kept (at most 12 unless ``max_order`` is raised).
    method : str or bea.optim.Optimizer, default "gd"
        The optimizer: a name (``"gd"``, ``"proximal-point"``, ``"extragradient"``,
        ``"heavy-ball"``, ``"nesterov"``, ``"adam"``, ``"rmsprop"``; symbolic hyper-parameters)
        or an instance such as ``bea.optim.HeavyBall(0.9)``.
    h : sympy Symbol, optional
        The step-size symbol (default ``h``).
    route : {"taylor", "bseries"}
        For gradient descent: ``"taylor"`` matches the Lie series of the modified field with the
        Taylor expansion of the step (the default: the faster one, see ``benchmarks/``);
        ``"bseries"`` computes the modified equation on rooted trees (gradient descent is
        explicit Euler on −∇E) and evaluates it on the loss. Both give identical terms.
    max_order : int, optional
        Raise the bound on ``order``.

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
    order = check_order(order, **({} if max_order is None else {"maximum": max_order}))
    method = resolve_method(method, params, h)
    if route == "bseries":
        if not isinstance(method, GD):
            raise InputError(f"route='bseries' is available for method 'gd', not {method.name!r}")
        field = [-sp.diff(loss, p) for p in params]
        flow = modified_equation(EXPLICIT_EULER, params, h, order, field=field, max_order=max_order)
        return flow.with_method(method.name, loss)
    if route != "taylor":
        raise InputError(f"route must be 'taylor' or 'bseries', got {route!r}")
    return method.flow(loss, params, h, order).with_method(method.name, loss)


def modified_loss(
    loss: sp.Expr | str,
    params: Sequence[sp.Symbol | str],
    order: int = 1,
    method: str | Optimizer = "gd",
    *,
    h: sp.Symbol | None = None,
    closed_form: bool = False,
) -> sp.Expr:
    """Modified loss Ẽ whose gradient flow the optimizer follows to the given order.

    Σ_{j ≤ order} h^j f_j = −∇Ẽ. For gradient descent at order 1 this is the paper's
    E + (h/4)‖∇E‖² = E + λ R_IG.

    Parameters
    ----------
    loss, params, order, method, h
        As in :func:`modified_flow`.
    closed_form : bool
        As in :meth:`bea.ModifiedFlow.potential`: a term whose potential bea finds in no closed
        form is an exact, unevaluated ray integral unless this asks sympy's integrator (slow).

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
    return modified_flow(loss, params, order, method, h=h).modified_loss(closed_form=closed_form)


#: Fields of bea's JSON that hold one expression each (besides the terms).
_EXPRESSION_FIELDS = ("loss", "modified_loss")


def load_json(text: str) -> dict:
    """Read what ``ModifiedFlow.to_json`` or ``bea derive --format json`` wrote, back into sympy.

    Every expression is read by bea's safe parser (never evaluated) with the symbols declared
    in the document, so each comes back equal to the original — ``beta`` stays a symbol (not
    sympy's beta function), ``E`` and ``I`` stay symbols, a positive ``epsilon`` stays positive.

    Parameters
    ----------
    text : str
        The JSON document.

    Returns
    -------
    dict
        The document with ``terms`` (a list of sympy Matrix), ``loss`` and ``modified_loss``
        (sympy expressions, where present) and ``flow``: the :class:`~bea.ModifiedFlow`.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a, beta = sp.symbols("a beta")
    >>> flow = bea.modified_flow(a**2 / 2, [a], 1, method=bea.optim.HeavyBall(beta))
    >>> back = load_json(flow.to_json())
    >>> back["flow"].vector_field() == flow.vector_field()
    True
    """
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as err:
        raise InputError(f"not a bea JSON document: {err}") from None
    if not isinstance(data, dict) or not {"terms", "params", "h", "symbols"} <= set(data):
        raise InputError("not a bea JSON document: it needs terms, params, h and symbols")
    symbols = {}
    for name, facts in data["symbols"].items():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise InputError(f"bad symbol name {name!r} in the JSON document")
        if not isinstance(facts, dict) or not all(isinstance(v, bool) for v in facts.values()):
            raise InputError(f"bad assumptions for the symbol {name} in the JSON document")
        try:
            symbols[name] = sp.Symbol(name, **facts)
        except (TypeError, ValueError) as err:
            raise InputError(f"bad assumptions for the symbol {name}: {err}") from None
    known = list(symbols.values())

    def read(text, what):  # a modified loss may hold a ray integral (a potential's, unevaluated)
        return parse_expression(text, known, what=what, integrals=what == "modified loss")

    try:
        state = [symbols[p] for p in data["params"]]
        h = symbols[data["h"]]
    except (KeyError, TypeError):
        raise InputError("the JSON document does not declare its parameters and h") from None
    terms = [sp.Matrix([read(e, "term") for e in t]) for t in data["terms"]]
    out = dict(data)
    out["terms"] = terms
    for key in _EXPRESSION_FIELDS:
        if data.get(key) is not None:
            out[key] = read(data[key], key.replace("_", " "))
    out["flow"] = ModifiedFlow.from_exprs(
        terms, state, h, method=str(data.get("method", "map")), loss=out.get("loss")
    )
    return out
