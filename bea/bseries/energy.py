"""Energy preservation of B-series integrators for Hamiltonian systems y′ = J∇H(y).

For f = J∇H, ∇H·F(τ) = −H^{(k+1)}(f, F(τ₁), …, F(τ_k)) is the elementary Hamiltonian of the tree
τ∘• (τ with one more leaf on its root), and moving the root of that tree along an edge flips its
sign (J is antisymmetric). So it depends only on the *free* tree of τ∘•, up to the sign
(−1)^{distance from the root to the free tree's reference vertex}, and vanishes for superfluous free
trees (two copies of one rooted tree joined at their roots). The modified field
Σ h^{∣τ∣−1} b(τ)/σ(τ) F(τ) conserves every Hamiltonian at order n iff, for every non-superfluous free
tree with n + 1 nodes, Σ ± b(τ)/σ(τ) over the trees τ with τ∘• in that class vanishes (Celledoni,
McLachlan, Owren & Quispel, *Energy-preserving integrators and the structure of B-series*, 2010;
Faou, Hairer & Pham 2004).
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import sympy as sp

from .algebra import BSeries, as_sympy, modified_equation
from .trees import Tree, butcher_product, canonical, symmetry, trees

__all__ = ["energy_preservation_order", "free_tree"]


def _graph(t: Tree) -> list[list[int]]:
    adj: list[list[int]] = [[]]

    def add(node: Tree, parent: int) -> None:
        for child in node:
            adj.append([parent])
            me = len(adj) - 1
            adj[parent].append(me)
            add(child, me)

    add(t, 0)
    return adj


def _rooted(adj, v: int, parent: int = -1) -> Tree:
    return canonical(_rooted(adj, w, v) for w in adj[v] if w != parent)


def _distances(adj, start: int) -> list[int]:
    dist = [-1] * len(adj)
    dist[start] = 0
    queue = [start]
    for v in queue:
        for w in adj[v]:
            if dist[w] < 0:
                dist[w] = dist[v] + 1
                queue.append(w)
    return dist


@lru_cache(maxsize=65536)
def free_tree(t: Tree) -> tuple[object, int]:
    """The free tree of a rooted tree: (canonical key or None if superfluous, sign).

    The sign is (−1)^{distance from the root of ``t`` to the key's reference vertex}.

    Examples
    --------
    >>> free_tree(((),))               # two nodes joined: superfluous
    (None, 0)
    >>> free_tree(((), ()))[1], free_tree((((),),))[1]   # the path of 3 nodes, two rootings
    (1, -1)
    """
    adj = _graph(t)
    n = len(adj)
    # the centre: strip leaves layer by layer
    degree = [len(a) for a in adj]
    layer = [v for v in range(n) if degree[v] <= 1]
    left = n
    removed = [False] * n
    while left > 2:
        nxt = []
        for v in layer:
            removed[v] = True
            left -= 1
            for w in adj[v]:
                if not removed[w]:
                    degree[w] -= 1
                    if degree[w] == 1:
                        nxt.append(w)
        layer = nxt
    centre = [v for v in range(n) if not removed[v]]
    if len(centre) == 1:
        ref, key = centre[0], ("vertex", _rooted(adj, centre[0]))
    else:
        u, v = centre
        hu, hv = _rooted(adj, u, v), _rooted(adj, v, u)
        if hu == hv:
            return None, 0
        ref = u if hu > hv else v
        key = ("edge", max(hu, hv), min(hu, hv))
    return key, (-1) ** _distances(adj, 0)[ref]


def energy_preservation_order(a: BSeries, n: int | None = None) -> int:
    """The largest p ≤ n such that the integrator a conserves every Hamiltonian up to the terms
    with ∣τ∣ ≤ p of its modified field (energy error O(h^{p+1}) per step).

    Examples
    --------
    >>> from bea.bseries.rk import RK4, EXPLICIT_EULER, IMPLICIT_MIDPOINT
    >>> [energy_preservation_order(m.bseries(6)) for m in (EXPLICIT_EULER, IMPLICIT_MIDPOINT, RK4)]
    [1, 2, 4]
    """
    n = a.order if n is None else n
    b = modified_equation(a, n)
    for m in range(1, n + 1):
        sums: dict = defaultdict(lambda: sp.Integer(0))
        for t in trees(m):
            key, sign = free_tree(butcher_product(t, ()))
            if key is None:
                continue
            sums[key] += sign * as_sympy(b.raw(t)) / symmetry(t)
        if any(sp.simplify(v) != 0 for v in sums.values()):
            return m - 1
    return n
