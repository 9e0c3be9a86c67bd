"""Safe parsing of user loss strings: accepted grammar, and payloads that must never run."""

from __future__ import annotations

import pytest
import sympy as sp

import bea
from bea.parsing import parse_params

a, b, x, y = sp.symbols("a b x y")


@pytest.mark.parametrize(
    "text, want",
    [
        ("(y - a*b*x)**2/2", (y - a * b * x) ** 2 / 2),
        ("(y - a*b*x)^2/2", (y - a * b * x) ** 2 / 2),
        ("0.6*a**2", sp.Rational(3, 5) * a**2),
        ("1e-3*a", sp.Rational(1, 1000) * a),
        ("-a + +b", -a + b),
        ("log(1 + exp(-a*x)) + sigmoid(b)", sp.log(1 + sp.exp(-a * x)) + 1 / (1 + sp.exp(-b))),
        ("pi*a**2", sp.pi * a**2),
        ("sqrt(a**2 + b**2)", sp.sqrt(a**2 + b**2)),
    ],
)
def test_accepted_expressions(text, want):
    params = [p for p in ("a", "b") if sp.Symbol(p) in want.free_symbols]
    assert sp.simplify(bea.parse_loss(text, params) - want) == 0


PAYLOADS = [
    "__import__('os').system('touch /tmp/bea_pwned')",
    "a.__class__",
    "a.__class__.__mro__",
    "exec('1')",
    "eval('a')",
    "open('/etc/passwd')",
    "(lambda: 1)()",
    "[a for a in ()]",
    "a if a else a",
    "a[0]",
    "exp(a, b=1)",
    "exp(*a)",
    "'a'",
    "a; import os",
    "a == a",
    "getattr(a, 'x')",
    "_a + a",
    "9**9**9**9 * a",
    "a**100000",
    "True*a",
    "1j*a",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_unsafe_or_malformed_input_is_rejected_and_never_executed(payload, tmp_path):
    with pytest.raises(bea.InputError):
        bea.parse_loss(payload, ["a"])
    import os

    assert not os.path.exists("/tmp/bea_pwned")


@pytest.mark.parametrize(
    "text, message",
    [
        ("abs(a)", "not smooth"),
        ("max(a, 0)", "not smooth"),
        ("relu(a)", "not smooth"),
        ("foo(a)", "unknown function"),
        ("exp", "is a function"),
        ("a +", "cannot parse"),
        ("a/0", "division by zero"),
        ("b**2", "do not occur"),
    ],
)
def test_error_messages_name_the_problem(text, message):
    with pytest.raises(bea.InputError, match=message):
        bea.parse_loss(text, ["a"] if "b**2" not in text else ["a", "b"])


def test_parameter_names_are_checked():
    with pytest.raises(bea.InputError, match="identifiers"):
        parse_params(["a b"])
    with pytest.raises(bea.InputError, match="function or constant"):
        parse_params(["exp"])
    with pytest.raises(bea.InputError, match="identifiers"):
        parse_params(["__class__"])


def test_overlong_and_deeply_nested_input():
    with pytest.raises(bea.InputError, match="longer than"):
        bea.parse_loss("a+" * 20000 + "a", ["a"])
    with pytest.raises(bea.InputError):
        bea.parse_loss("(" * 5000 + "a" + ")" * 5000, ["a"])
