"""Exceptions raised by bea.

Every error that a user can cause derives from :class:`BeaError`, so that the command line can turn
it into one line on stderr, and Python users can catch bea's errors as a group.
"""

from __future__ import annotations

__all__ = ["BeaError", "InputError", "NotAGradientError", "NotHamiltonianError"]


class BeaError(Exception):
    """Base class of every error bea raises on purpose.

    Examples
    --------
    >>> import bea
    >>> issubclass(bea.NotAGradientError, bea.BeaError)
    True
    """


class InputError(BeaError, ValueError):
    """Bad user input: an unsafe or malformed expression, unknown symbols, a bad order or step size.

    Examples
    --------
    >>> import bea
    >>> try:
    ...     bea.parse_loss("__import__('os')", ["a"])
    ... except bea.InputError as err:
    ...     print(err)
    name '__import__' is not allowed: names starting with '_' are never accepted
    """


class NotAGradientError(BeaError):
    """A term of a modified field is not a gradient field, so no modified loss exists at that order.

    Attributes
    ----------
    order : int
        The power ``j`` of ``h`` whose coefficient ``f_j`` is not a gradient field.
    obstruction : sympy.Matrix
        The antisymmetric part ``(J - J^T)/2`` of the Jacobian ``J`` of ``f_j``; it is non-zero.

    Examples
    --------
    >>> import sympy as sp, bea
    >>> a, b = sp.symbols("a b")
    >>> try:
    ...     bea.modified_loss((sp.Rational(3, 5) - a*b)**2/2, [a, b], order=2)
    ... except bea.NotAGradientError as err:
    ...     print(err.order)
    2
    """

    def __init__(self, order: int, obstruction, message: str | None = None):
        self.order = order
        self.obstruction = obstruction
        if message is None:
            message = _describe(order, obstruction)
        super().__init__(message)


class NotHamiltonianError(BeaError):
    """A term f_j of a modified field is not Hamiltonian (B⁻¹f_j is not a gradient field for the
    Poisson matrix B), so no modified Hamiltonian exists at that order.

    Attributes
    ----------
    order : int
        The power ``j`` of ``h`` whose coefficient is not Hamiltonian.
    obstruction : sympy.Matrix
        The antisymmetric part of the Jacobian of B⁻¹f_j; it is non-zero.

    Examples
    --------
    Explicit Euler on the harmonic oscillator q' = p, p' = −q is not symplectic: its f₁ = (q, p)/2
    is not Hamiltonian.

    >>> import sympy as sp, bea
    >>> q, p, h = sp.symbols("q p h")
    >>> flow = bea.modified_equation(sp.Matrix([q + h * p, p - h * q]), [q, p], h, order=1)
    >>> try:
    ...     flow.modified_hamiltonian()
    ... except bea.NotHamiltonianError as err:
    ...     print(err.order)
    1
    """

    def __init__(self, order: int, obstruction):
        self.order = order
        self.obstruction = obstruction
        super().__init__(
            f"the h^{order} term f_{order} of the modified field is not Hamiltonian, so no "
            f"modified Hamiltonian exists at order {order}: B^-1 f_{order} is not a gradient field "
            f"(antisymmetric part of its Jacobian: {_entries(obstruction)})"
        )


def _entries(obstruction) -> str:
    """The first three non-zero entries above the diagonal, as ``(i, j): value``."""
    rows, cols = obstruction.shape
    entries = [
        f"({i}, {j}): {obstruction[i, j]}"
        for i in range(rows)
        for j in range(i + 1, cols)
        if obstruction[i, j] != 0
    ]
    return "; ".join(entries[:3]) + ("; ..." if len(entries) > 3 else "")


def _describe(order: int, obstruction) -> str:
    return (
        f"the h^{order} term f_{order} of the modified field is not a gradient field, so no "
        f"modified loss exists at order {order}: the antisymmetric part (J - J^T)/2 of its "
        f"Jacobian is non-zero, entries {_entries(obstruction)}"
    )
