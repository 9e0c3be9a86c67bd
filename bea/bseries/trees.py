"""Rooted trees: canonical form, generation, order, symmetry, density, Butcher product, printing.

A rooted tree is a nested tuple of its root's subtrees in canonical (non-increasing) order:
``()`` is the single node •, ``((),)`` is [•] and ``((), ())`` is [•, •]. Equal trees have equal
tuples, so trees are dictionary keys. Generation is by forests of non-increasing subtrees, so
each tree appears once; the counts are OEIS A000081 (1, 1, 2, 4, 9, 20, 48, 115, 286, 719, …).
"""

from __future__ import annotations

from functools import cache, lru_cache
from math import factorial

from .._checks import check_order

__all__ = [
    "Tree",
    "butcher_product",
    "canonical",
    "density",
    "elementary_differential_str",
    "order",
    "symmetry",
    "tree_latex",
    "tree_str",
    "trees",
    "trees_up_to",
]

Tree = tuple  # a canonical nested tuple of subtrees

#: Largest number of nodes bea generates trees for (14: 32,973 trees of that order; each order
#: costs about three times the one before).
MAX_TREE_ORDER = 14

#: The one-node tree •.
NODE: Tree = ()


def canonical(children) -> Tree:
    """The canonical tree with these subtrees (in any order, each already canonical).

    Examples
    --------
    >>> canonical([(), ((),)])
    (((),), ())
    """
    return tuple(sorted(children, reverse=True))


@cache
def order(t: Tree) -> int:
    """Number of nodes ∣τ∣.

    Examples
    --------
    >>> order(((), ((),)))
    4
    """
    return 1 + sum(order(c) for c in t)


@cache
def symmetry(t: Tree) -> int:
    """Symmetry coefficient σ(τ): the order of the tree's automorphism group.

    σ(•) = 1 and σ([τ₁^{m₁}, …, τ_k^{m_k}]) = Π mᵢ! σ(τᵢ)^{mᵢ} for distinct τᵢ.

    Examples
    --------
    >>> symmetry(((), ())), symmetry((((), ()), ((), ())))
    (2, 8)
    """
    out, i = 1, 0
    while i < len(t):
        j = i
        while j < len(t) and t[j] == t[i]:
            j += 1
        out *= factorial(j - i) * symmetry(t[i]) ** (j - i)
        i = j
    return out


@cache
def density(t: Tree) -> int:
    """Density γ(τ) = ∣τ∣ Π γ(τᵢ); the exact flow has B-series coefficients 1/γ(τ).

    Examples
    --------
    >>> density(((),)), density(((), ())), density((((),),))
    (2, 3, 6)
    """
    out = order(t)
    for c in t:
        out *= density(c)
    return out


def butcher_product(t: Tree, u: Tree) -> Tree:
    """τ ∘ u: graft u onto the root of τ as one more subtree.

    Examples
    --------
    >>> butcher_product((), ())
    ((),)
    """
    return canonical((*t, u))


@cache
def trees(n: int) -> tuple[Tree, ...]:
    """All rooted trees with n nodes, each once, in canonical order.

    Examples
    --------
    >>> [len(trees(n)) for n in range(1, 9)]
    [1, 1, 2, 4, 9, 20, 48, 115]
    >>> trees(3)
    ((((),),), ((), ()))
    """
    n = check_order(n, maximum=MAX_TREE_ORDER, what="tree order")
    return _trees(n)


@cache
def _trees(n: int) -> tuple[Tree, ...]:
    if n < 1:
        return ()
    return tuple(sorted((canonical(f) for f in _forests(n - 1, None)), reverse=True))


def _forests(n: int, bound: Tree | None):
    """Non-increasing sequences of trees (each ≤ bound) with n nodes in total."""
    if n == 0:
        yield ()
        return
    for k in range(n, 0, -1):
        for t in _trees(k):
            if bound is not None and t > bound:
                continue
            for rest in _forests(n - k, t):
                yield (t, *rest)


def trees_up_to(n: int) -> list[Tree]:
    """All trees with 1..n nodes, by order.

    Examples
    --------
    >>> len(trees_up_to(9))
    486
    """
    n = check_order(n, maximum=MAX_TREE_ORDER, what="tree order")
    return [t for k in range(1, n + 1) for t in _trees(k)]


@lru_cache(maxsize=4096)
def tree_str(t: Tree) -> str:
    """Bracket notation: •, [•], [•, •], [[•]], …

    Examples
    --------
    >>> tree_str((((),), ()))
    '[[•], •]'
    """
    if not t:
        return "•"
    return "[" + ", ".join(tree_str(c) for c in t) + "]"


def tree_latex(t: Tree) -> str:
    r"""LaTeX bracket notation, e.g. ``[\bullet, [\bullet]]``.

    Examples
    --------
    >>> tree_latex(((), ()))
    '[\\bullet, \\bullet]'
    """
    if not t:
        return r"\bullet"
    return "[" + ", ".join(tree_latex(c) for c in t) + "]"


def elementary_differential_str(t: Tree) -> str:
    """The elementary differential F(τ) in the usual notation: f, f'f, f''(f, f), f'f'f, …

    Examples
    --------
    >>> [elementary_differential_str(t) for t in trees_up_to(3)]
    ['f', "f'f", "f'f'f", "f''(f, f)"]
    """
    if not t:
        return "f"
    prime = "'" * len(t)
    args = [elementary_differential_str(c) for c in t]
    if len(t) == 1:
        return f"f{prime}{args[0]}"
    return f"f{prime}(" + ", ".join(args) + ")"
