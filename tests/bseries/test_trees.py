"""Rooted trees against literature values (OEIS A000081, HLW Table III.1.1, Cayley)."""

from __future__ import annotations

from math import factorial

from bea.bseries import (
    butcher_product,
    density,
    elementary_differential_str,
    order,
    symmetry,
    tree_str,
    trees,
    trees_up_to,
)


def test_tree_counts_oeis_a000081_up_to_order_12():
    counts = [len(trees(n)) for n in range(1, 13)]
    assert counts == [1, 1, 2, 4, 9, 20, 48, 115, 286, 719, 1842, 4766]
    assert len(set(trees_up_to(10))) == len(trees_up_to(10))  # each tree once
    assert all(order(t) == n for n in range(1, 11) for t in trees(n))


def test_symmetry_and_density_hlw_table_iii_1_1():
    table = {
        "•": (1, 1),
        "[•]": (1, 2),
        "[[•]]": (1, 6),
        "[•, •]": (2, 3),
        "[[[•]]]": (1, 24),
        "[[•, •]]": (2, 12),
        "[[•], •]": (1, 8),
        "[•, •, •]": (6, 4),
    }
    got = {tree_str(t): (symmetry(t), density(t)) for t in trees_up_to(4)}
    assert got == table


def test_monotone_labellings_sum_to_n_minus_1_factorial():
    # α(τ) = n!/(σ(τ)γ(τ)) counts monotone labellings; Σ_{|τ|=n} α(τ) = (n−1)!
    for n in range(1, 11):
        total = sum(factorial(n) // (symmetry(t) * density(t)) for t in trees(n))
        assert total == factorial(n - 1)


def test_labelled_rooted_trees_cayley_n_to_the_n_minus_1():
    for n in range(1, 11):
        assert sum(factorial(n) // symmetry(t) for t in trees(n)) == n ** (n - 1)


def test_butcher_product_is_not_commutative():
    tall = ((),)  # τ ∘ u grafts u onto the root of τ
    assert tree_str(butcher_product(tall, ())) == "[•, •]"
    assert tree_str(butcher_product((), tall)) == "[[•]]"
    assert order(butcher_product(tall, tall)) == 4


def test_elementary_differential_notation():
    assert [elementary_differential_str(t) for t in trees(4)] == [
        "f'f'f'f",
        "f'f''(f, f)",
        "f''(f'f, f)",
        "f'''(f, f, f)",
    ]
