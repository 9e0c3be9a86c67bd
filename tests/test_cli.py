"""The bea command: output formats, the paper's example, and one-line errors with status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sympy as sp

from bea.cli import main

a, b, x, y, h = sp.symbols("a b x y h")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_derive_two_parameter_model_prints_paper_modified_loss_and_order_two_verdict(capsys):
    code, out, err = run(capsys, "derive", "(y - a*b*x)**2/2", "--params", "a", "b", "--order", "2")
    assert code == 0 and err == ""
    line = next(s for s in out.splitlines() if s.strip().startswith("E~ ="))
    printed = sp.sympify(line.split("=", 1)[1])
    E = (y - a * b * x) ** 2 / 2
    assert sp.expand(printed - E * (1 + h / 2 * x**2 * (a**2 + b**2))) == 0
    assert "order 2: no modified loss exists" in out
    assert "f_2  (NOT a gradient field)" in out


def test_derive_json_schema(capsys):
    code, out, _ = run(
        capsys,
        "derive",
        "(y - a*b*x)**2/2",
        "--params",
        "a",
        "b",
        "--order",
        "2",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["h"] == "h" and data["params"] == ["a", "b"] and data["method"] == "gd"
    assert data["gradient"] == [True, True, False]
    assert data["first_non_gradient"] == 2 and data["modified_loss_order"] == 1
    assert len(data["terms"]) == 3 and all(len(t) == 2 for t in data["terms"])
    E = (y - a * b * x) ** 2 / 2
    assert (
        sp.expand(sp.sympify(data["modified_loss"]) - E * (1 + h / 2 * x**2 * (a**2 + b**2))) == 0
    )


def test_derive_latex_and_all_gradient_case(capsys):
    code, out, _ = run(
        capsys, "derive", "a**2 + 3*b**2", "--params", "a", "b", "--order", "2", "--format", "latex"
    )
    assert code == 0 and "\\begin{aligned}" in out and "\\tilde E" in out
    code, out, _ = run(capsys, "derive", "a**2 + 3*b**2", "--params", "a", "b", "--order", "2")
    assert "no modified loss exists" not in out and "O(h^3)" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["derive", "__import__('os').system('touch /tmp/bea_cli_pwned')", "--params", "a"],
            "never",
        ),
        (["derive", "a**2", "--params", "b"], "do not occur"),
        (["derive", "a**2", "--params", "a", "--order", "-1"], ">= 0"),
        (["derive", "a**2", "--params", "a", "--method", "lion"], "invalid choice"),
        (["derive", "a**2 +", "--params", "a"], "cannot parse"),
        (["derive", "abs(a)", "--params", "a"], "not smooth"),
        (["derive", "a**2"], "--params"),
        (["derive", "a**2", "--params", "a", "--order", "two"], "invalid int"),
    ],
)
def test_user_errors_exit_2_with_one_line(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    assert "Traceback" not in err
    assert not os.path.exists("/tmp/bea_cli_pwned")


def test_console_script_help_and_version():
    for args in (["--help"], ["derive", "--help"], ["--version"]):
        proc = subprocess.run(
            [sys.executable, "-m", "bea", *args], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "bea", "derive", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "examples:" in proc.stdout and "JSON schema" in proc.stdout


def test_derive_heavy_ball_from_the_shell(capsys):
    from bea.cli import main

    assert (
        main(
            [
                "derive",
                "(a*b - 1)**2/2",
                "--params",
                "a",
                "b",
                "--method",
                "heavy-ball",
                "--beta",
                "0.5",
                "--time",
                "effective",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "E~ = 3*h*(a**2 + b**2)*(a*b - 1)**2/4 + (a*b - 1)**2/2" in out  # (1+β)/(1−β) = 3
    assert main(["derive", "a**2", "--params", "a", "--method", "nesterov", "--beta", "1"]) == 2
    assert "beta must lie in [0, 1)" in capsys.readouterr().err
    assert main(["derive", "a**2", "--params", "a", "--beta", "0.5"]) == 2
    assert "apply to momentum and adaptive methods only" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "terminal", "shown"),
    [
        ([], True, True),  # a person watching: bars
        ([], False, False),  # a log file or a pipe: no bar debris
        (["--verbose"], False, True),
        (["--quiet"], True, False),
        (["--no-progress"], True, False),
    ],
)
def test_progress_bars_only_where_a_person_watches(flags, terminal, shown, monkeypatch, capsys):
    import bea.cli as cli

    seen = {}

    def stub(args):
        seen["progress"] = not args.no_progress
        return "done"

    monkeypatch.setattr(cli, "_figures", stub)
    monkeypatch.setattr(cli, "_stderr_is_terminal", lambda: terminal)
    assert main(["figures", "--out", "unused", *flags]) == 0
    assert seen["progress"] is shown
    err = capsys.readouterr().err
    assert ("took" in err) is ("--verbose" in flags)


def test_quiet_silences_warnings(monkeypatch, capsys):
    import warnings

    import bea.cli as cli

    def stub(args):
        warnings.warn("a warning a user would see", UserWarning, stacklevel=1)
        return "done"

    monkeypatch.setattr(cli, "_derive", stub)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["derive", "a**2", "--params", "a", "--quiet"]) == 0
        assert not caught
        assert main(["derive", "a**2", "--params", "a"]) == 0
        assert len(caught) == 1


def test_no_colour_and_no_control_characters_off_a_terminal():
    env = {**os.environ, "NO_COLOR": "1"}
    for argv in (
        ["derive", "(y - a*b*x)**2/2", "--params", "a", "b"],
        ["derive", "Abs(a)", "--params", "a"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "bea", *argv], capture_output=True, text=True, env=env
        )
        assert "\x1b[" not in proc.stdout + proc.stderr and "\r" not in proc.stdout + proc.stderr


def test_a_timeout_swallowed_once_still_ends_the_run(monkeypatch, capsys):
    """The alarm can land where Python ignores exceptions (a gc callback, as seen in CI): it is
    re-armed until the timeout reaches the command line."""
    import time

    import bea.cli as cli

    seen = []

    def stub(args):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                time.sleep(0.01)
            except cli._TimedOut:
                seen.append(time.monotonic())
                if len(seen) > 1:
                    raise  # the second alarm propagates; the first was "ignored"
        return "finished"

    monkeypatch.setattr(cli, "_derive", stub)
    start = time.monotonic()
    assert main(["derive", "a**2", "--params", "a", "--timeout", "0.2"]) == 2
    assert len(seen) == 2 and time.monotonic() - start < 5
    assert "stopped after 0.2 s" in capsys.readouterr().err


def test_adamw_from_the_command_line(capsys):
    argv = ["derive", "t**2/2", "--params", "t", "--method", "adamw", "--order", "0"]
    assert main([*argv, "--beta2", "0.999", "--eps", "1", "--weight-decay", "0.1"]) == 0
    assert "-t/10 - t/sqrt(t**2 + 1)" in capsys.readouterr().out
    assert main(["derive", "t**2/2", "--params", "t", "--weight-decay", "0.1"]) == 2
    assert "--weight-decay applies to adamw only" in capsys.readouterr().err


def test_eps_outside_from_the_command_line(capsys):
    argv = ["derive", "t**2/2", "--params", "t", "--order", "0", "--eps", "1", "--eps-outside"]
    assert main([*argv, "--method", "rmsprop", "--beta", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "-t/(sqrt(t**2) + 1)" in out and "epsilon outside the root" in out
    assert main([*argv, "--method", "adamw", "--weight-decay", "0.1"]) == 0
    assert "-t/10 - t/(sqrt(t**2) + 1)" in capsys.readouterr().out
    assert main([*argv, "--method", "heavy-ball"]) == 2
    assert "--eps-outside applies to adam, adamw and rmsprop" in capsys.readouterr().err
    verify = ["verify", "--loss", "t**4/4 + t**2/2", "--params", "t", "--point", "0.8"]
    verify += ["--method", "adam", "--beta", "0.5", "--beta2", "0.75", "--eps", "0.1"]
    assert main([*verify, "--eps-outside", "--orders", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["local_slopes"]["0"] == pytest.approx(2, abs=0.1)
