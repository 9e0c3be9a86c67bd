"""The ``bea`` command: a thin layer that parses arguments, calls the public API and prints.

Every user error exits with status 2 and one line on stderr; no traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
import warnings
from collections.abc import Sequence

from ._version import __version__
from .errors import BeaError, InputError

#: The optimizers of ``--method`` (the registry itself is loaded only when a command runs; a
#: test keeps these equal to bea.optim.OPTIMIZERS plus the derive-only "bdf2").
METHOD_NAMES = (
    "ab2",
    "adam",
    "adamw",
    "bdf2",
    "extragradient",
    "gd",
    "heavy-ball",
    "leapfrog",
    "nesterov",
    "proximal-point",
    "rmsprop",
)
#: The methods of ``bea hamiltonian --method`` (bea.hamiltonian.HAMILTONIAN_METHODS, which a test
#: keeps equal; listed here so that the parser does not load sympy).
HAMILTONIAN_METHOD_NAMES = (
    "symplectic-euler",
    "symplectic-euler-adjoint",
    "stormer-verlet",
    "lobatto-iiia-iiib-3",
    "explicit-euler",
    "explicit-midpoint",
    "gauss-order-4",
    "heun",
    "implicit-euler",
    "implicit-midpoint",
    "rk4",
    "trapezoid",
)
#: The named models of ``bea verify --model``.
MODEL_NAMES = ("two-parameter",)

__all__ = ["build_parser", "main"]

_DERIVE_EXAMPLES = """\
examples:
  bea derive "(y - a*b*x)**2/2" --params a b --order 2
      the paper's two-parameter model: modified loss E(1 + (h/2)x^2(a^2+b^2)) at order 1,
      and no modified loss at order 2
  bea derive "log(1 + exp(-w*x))" --params w --order 3 --format latex
  bea derive "a**2 + 10*b**2" --params a b --order 4 --format json
  bea derive "(a*b - 1)**2/2" --params a b --method heavy-ball --beta 0.9 --time effective

JSON schema (stable): {"h": str, "params": [str], "method": str, "order": int, "loss": str,
  "terms": [[str per parameter] per order], "gradient": [bool per order],
  "modified_loss": str or null, "modified_loss_order": int,
  "first_non_gradient": int or null, "symbols": {name: {assumption: bool}}}; read it back with
  bea.load_json (bea's safe parser and the declared symbols; never sympify, which evaluates).
"""


_HAMILTONIAN_EXAMPLES = """\
examples:
  bea hamiltonian "p**2/2 - cos(q)" --q q --p p --order 2
      symplectic Euler on the pendulum: H~ = H - (h/2) p sin(q) + h^2 (...)
  bea hamiltonian "(p**2 + q**2)/2" --q q --p p --method stormer-verlet --order 4
  bea hamiltonian "(p**2 + q**2)/2" --q q --p p --method explicit-euler
      not symplectic: f_1 is not Hamiltonian, so no modified Hamiltonian at order 1

JSON schema (stable): {"h": str, "params": [str], "method": str, "order": int,
  "hamiltonian": str, "terms": [[str per variable] per order], "hamiltonian_terms": [bool per
  order], "modified_hamiltonian": str, "modified_hamiltonian_order": int,
  "first_non_hamiltonian": int or null, "symbols": {name: {assumption: bool}}}.
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exits with status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"bea: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bea`` command (also used to document the CLI).

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> build_parser().parse_args(["derive", "a**2", "--params", "a"]).order
    1
    """
    parser = _Parser(
        prog="bea",
        description="Backward error analysis of optimizers: derive the modified flow and modified "
        "loss that a discrete method follows.",
        epilog="examples:\n  bea reproduce --out bea-reproduce\n"
        '  bea derive "(y - a*b*x)**2/2" --params a b --order 2\n\n'
        "Run 'bea COMMAND --help' for the options of a command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bea {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    derive = sub.add_parser(
        "derive",
        help="derive the modified flow and modified loss of an optimizer on a loss",
        description="Derive the terms f_0..f_K of the modified flow of an optimizer on LOSS, say "
        "which are gradient fields, and print the modified loss up to the highest order at which "
        "one exists.",
        epilog=_DERIVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    derive.add_argument(
        "loss",
        metavar="LOSS",
        help="the loss as an expression: numbers, names, + - * / ** ^ and elementary functions "
        "(exp, log, sqrt, sin, cos, tanh, sigmoid, softplus, ...); names that are not parameters "
        "are constants",
    )
    derive.add_argument(
        "--params",
        nargs="+",
        required=True,
        metavar="NAME",
        help="the parameters theta (each must occur in LOSS)",
    )
    derive.add_argument(
        "--order", type=int, default=1, metavar="K", help="highest power of h to derive (default 1)"
    )
    derive.add_argument(
        "--method",
        default="gd",
        choices=METHOD_NAMES,
        help="the optimizer (default gd: gradient descent; proximal-point: implicit GD; "
        "extragradient; heavy-ball, nesterov: momentum, after the transient; adam, adamw (decoupled "
        "weight decay), rmsprop; leapfrog, ab2, bdf2: linear multistep methods on -grad E)",
    )
    derive.add_argument(
        "--beta",
        default="beta",
        metavar="B",
        help="momentum of heavy-ball/nesterov, beta1 of adam, rho of rmsprop: a number in [0, 1) "
        "or a symbol name (default: a symbol)",
    )
    derive.add_argument(
        "--beta2", default="beta2", metavar="B2", help="beta2 of adam (number or symbol)"
    )
    derive.add_argument(
        "--eps", default="epsilon", metavar="E", help="epsilon of adam/rmsprop (number or symbol)"
    )
    derive.add_argument(
        "--eps-outside",
        action="store_true",
        help="adam/adamw/rmsprop with epsilon outside the root, m/(sqrt(v) + eps), as PyTorch",
    )
    derive.add_argument(
        "--closed-form",
        action="store_true",
        help="a potential bea finds no closed form for is an exact ray integral, Integral(..., "
        "(t, 0, 1)); this asks sympy's integrator for a closed form instead (slow: use --timeout)",
    )
    derive.add_argument(
        "--weight-decay",
        default="lam",
        metavar="L",
        help="decoupled weight decay lambda of adamw (number or symbol)",
    )
    derive.add_argument(
        "--schedule",
        metavar="S",
        help="a learning-rate schedule s(t) for gd: step n uses the rate h*s(t) at t = n*h, e.g. "
        "'1/(1 + t)'; the terms and the modified loss then depend on t",
    )
    derive.add_argument(
        "--time",
        default="step",
        choices=["step", "effective"],
        help="momentum time scale: one step is time h ('step', default) or the effective "
        "learning rate h/(1 - beta) ('effective')",
    )
    derive.add_argument(
        "--format",
        default="text",
        choices=["text", "latex", "json", "python", "jax"],
        help="output format (default text); python/jax: a self-contained NumPy/JAX module with "
        "modified_field, modified_loss and regularizer(theta, h, *, constants) to paste into a "
        "training script",
    )
    _add_timeout(derive)
    _add_verbosity(derive)
    _add_hamiltonian(sub)
    _add_verify(sub)
    _add_study(sub)
    _add_deep(sub)
    return parser


#: Default bound on the wall time of ``bea derive`` and ``bea verify`` (seconds).
DEFAULT_TIMEOUT = 300.0


def _add_hamiltonian(sub) -> None:
    ham = sub.add_parser(
        "hamiltonian",
        help="derive the modified Hamiltonian of an integrator on a Hamiltonian system",
        description="Apply an integrator to q' = dH/dp, p' = -dH/dq, derive the terms f_0..f_K "
        "of its modified field, say which are Hamiltonian, and print the modified Hamiltonian up "
        "to the highest order at which one exists (Hairer, Lubich & Wanner, ch. IX).",
        epilog=_HAMILTONIAN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ham.add_argument("hamiltonian", metavar="H", help="the Hamiltonian H(q, p), as an expression")
    ham.add_argument("--q", nargs="+", required=True, metavar="NAME", help="the positions")
    ham.add_argument("--p", nargs="+", required=True, metavar="NAME", help="the momenta")
    ham.add_argument(
        "--order", type=int, default=2, metavar="K", help="highest power of h (default 2)"
    )
    ham.add_argument(
        "--method",
        default="symplectic-euler",
        choices=HAMILTONIAN_METHOD_NAMES,
        help="the integrator (default symplectic-euler; symplectic-euler, its adjoint and "
        "stormer-verlet are explicit for a separable H = T(p) + U(q) and partitioned "
        "Runge-Kutta pairs with implicit stages otherwise; lobatto-iiia-iiib-3 has order 4; "
        "the Runge-Kutta methods take any H)",
    )
    ham.add_argument(
        "--format", default="text", choices=["text", "latex", "json"], help="output format"
    )
    _add_timeout(ham)
    _add_verbosity(ham)


def _hamiltonian(args: argparse.Namespace) -> str:
    import sympy as sp

    from .flow import expression_text
    from .hamiltonian import hamiltonian_flow
    from .parsing import as_expression

    flow = hamiltonian_flow(args.hamiltonian, args.q, args.p, args.order, args.method)
    H = as_expression(args.hamiltonian, flow.state, what="Hamiltonian")
    flags = [flow.is_hamiltonian(j) for j in range(flow.order + 1)]
    first_bad = next((j for j, ok in enumerate(flags) if not ok), None)
    top = flow.order if first_bad is None else first_bad - 1
    H_tilde = flow.modified_hamiltonian(top, hamiltonian=H) if top >= 0 else None
    if args.format == "json":
        return _json_document(
            flow,
            [H] + ([H_tilde] if H_tilde is not None else []),
            drop=("gradient",),
            order=flow.order,
            hamiltonian=expression_text(H),
            hamiltonian_terms=flags,
            modified_hamiltonian=None if H_tilde is None else expression_text(H_tilde),
            modified_hamiltonian_order=top,
            first_non_hamiltonian=first_bad,
        )
    if args.format == "latex":
        lines = [flow.latex()]
        if H_tilde is not None:
            lines.append(f"\\tilde H = {sp.latex(H_tilde)} + O(h^{{{top + 1}}})")
        if first_bad is not None:
            lines.append(
                f"% f_{first_bad} is not Hamiltonian: no modified Hamiltonian at order {first_bad}"
            )
        return "\n".join(lines)
    lines = [
        f"Hamiltonian  H = {H}",
        f"method       {flow.method}, step size {flow.h}, q = {', '.join(args.q)}, "
        f"p = {', '.join(args.p)}",
        f"modified field  d(q, p)/dt = f_0 + h f_1 + ... + h^{flow.order} f_{flow.order}:",
    ]
    for j, term in enumerate(flow.terms):
        lines.append(f"  f_{j}  ({'Hamiltonian' if flags[j] else 'NOT Hamiltonian'})")
        for s, comp in zip(flow.state, term, strict=True):
            lines.append(f"      d{s}: {comp}")
    if H_tilde is not None:
        lines.append(f"modified Hamiltonian (up to O(h^{top + 1})):")
        lines.append(f"  H~ = {H_tilde}")
    if first_bad is not None:
        lines.append(
            f"order {first_bad}: no modified Hamiltonian exists - f_{first_bad} is not "
            "Hamiltonian (the method is not symplectic)"
        )
    return "\n".join(lines)


def _add_timeout(parser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop with exit 2 after this many seconds (default {DEFAULT_TIMEOUT:g}; 0: no limit)",
    )


def _add_verbosity(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="nothing on stderr but errors: no progress bars, no warnings",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="progress bars even when stderr is not a terminal, and the wall time at the end",
    )


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _add_study(sub) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--x", type=float, default=1.0, help="data x of the model (default 1)")
    common.add_argument("--y", type=float, default=0.6, help="data y of the model (default 0.6)")
    common.add_argument(
        "--quick", action="store_true", help="small sweeps and grids: a smoke run in seconds"
    )
    common.add_argument("--no-progress", action="store_true", help="do not show progress on stderr")
    _add_verbosity(common)
    common.add_argument(
        "--force",
        action="store_true",
        help="write into a folder that also holds files bea did not write (they are never "
        "touched; without --force such a folder is refused)",
    )
    names = (
        "trajectories, error_vs_h, flatness_vs_h, rig_along_path, explicit_regularization, "
        "curl_order2"
    )
    figs = sub.add_parser(
        "figures",
        parents=[common],
        help="make every figure of the two-parameter model study (PNG, PDF and data)",
        description="Run the two-parameter model study (Barrett & Dherin 2021, Section 4) and "
        f"write its figures to DIR: {names}; each as NAME.png and NAME.pdf with its data in "
        "NAME.csv or NAME.json, plus summary.json. Reruns overwrite atomically and give "
        "identical files.",
        epilog="example:\n  bea figures --out figures",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    figs.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    rep = sub.add_parser(
        "reproduce",
        parents=[common],
        help="derive, verify, make every figure and report which claims of the paper hold",
        description="The main job: derive the modified loss of gradient descent on the paper's "
        "two-parameter model, measure Theorem 3.1 and its higher-order analogues, make every "
        "figure (see 'bea figures'); with bea[deep] installed also run the paper's Section 5 "
        "on MLPs (see 'bea deep study'); write report.md, report.html (figures inline) and "
        "report.json with one table stating each claim checked, the measured number and "
        "pass/fail. Exit status 1 if a claim fails.",
        epilog="examples:\n  bea reproduce --out bea-reproduce\n"
        "  bea reproduce --quick --executor serial",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rep.add_argument(
        "--out",
        default="bea-reproduce",
        metavar="DIR",
        help="output folder (created; default bea-reproduce)",
    )
    rep.add_argument(
        "--section4-only",
        action="store_true",
        help="only the two-parameter study (Section 4); by default Section 5 runs too when "
        "bea[deep] is installed",
    )
    _add_executor(rep)


_DEEP_EXAMPLES = """\
examples:
  bea deep verify --widths 64 16 10 --orders 0 1 2 3
      Theorem 3.1 on a tanh MLP over 300 of scikit-learn's digits (float64)
  bea deep verify --widths 64 16 10 --method heavy-ball --beta 0.5 --time effective --orders 0 1 2
  bea deep verify --widths 64 16 10 --method sgd --batch-size 150 --orders 0 1 2
  bea deep train --widths 64 32 32 10 --lr 0.8 --time 300 --noise 0.05 0.1 --json run.json

Needs the optional extra: pip install 'bea[deep]' (JAX and scikit-learn).
"""


def _add_deep(sub) -> None:
    deep = sub.add_parser(
        "deep",
        help="neural networks: verify modified flows and train MLPs (needs bea[deep])",
        description="Backward error analysis of neural networks by automatic differentiation "
        "(JAX): Theorem 3.1 and its higher-order analogues on an MLP, and training runs that "
        "record R_IG, accuracies and robustness.",
        epilog=_DEEP_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inner = deep.add_subparsers(dest="deep_command", metavar="ACTION", parser_class=_Parser)
    inner.required = True
    common = _Parser(add_help=False)
    _add_verbosity(common)
    common.add_argument(
        "--data", default="digits", choices=["digits", "teacher"], help="dataset (default digits)"
    )
    common.add_argument(
        "--widths",
        nargs="+",
        type=int,
        default=[64, 16, 10],
        metavar="W",
        help="MLP widths, input to output (default 64 16 10)",
    )
    common.add_argument(
        "--act", default="tanh", choices=["tanh", "softplus", "gelu"], help="activation"
    )
    common.add_argument(
        "--n-train", type=int, default=300, metavar="N", help="training examples (default 300)"
    )
    common.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    v = inner.add_parser(
        "verify",
        parents=[common],
        help="local and global error orders against the truncated modified flows",
        description="Measure Theorem 3.1 and its higher-order analogues on an MLP (float64).",
    )
    v.add_argument("--orders", nargs="+", type=int, default=[0, 1, 2, 3], metavar="P")
    v.add_argument(
        "--method",
        default="gd",
        choices=[
            "gd",
            "proximal-point",
            "extragradient",
            "heavy-ball",
            "nesterov",
            "adam",
            "rmsprop",
            "sgd",
        ],
        help="the optimizer (momentum methods start on their invariant manifold, adam and "
        "rmsprop on their slow manifold; sgd is verified epoch by epoch, see --batch-size)",
    )
    v.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="B",
        help="sgd: examples per mini-batch (must divide --n-train); an epoch is n-train/B steps",
    )
    v.add_argument(
        "--shuffle",
        default="none",
        metavar="K",
        help="sgd: 'none' (mini-batches in their order, the default), 'all' (the mean epoch over "
        "every order) or a number K of random orders",
    )
    v.add_argument(
        "--beta",
        default=None,
        metavar="B",
        help="momentum of heavy-ball/nesterov, beta1 of adam, rho of rmsprop",
    )
    v.add_argument("--beta2", default=None, metavar="B2", help="beta2 of adam")
    v.add_argument(
        "--eps", default=None, metavar="E", help="epsilon of adam/rmsprop (inside the root)"
    )
    v.add_argument(
        "--time",
        default="step",
        choices=["step", "effective"],
        help="time of momentum methods (default step)",
    )
    v.add_argument("--n-steps", type=int, default=6, help="number of step sizes (default 6)")
    v.add_argument(
        "--h-max",
        type=float,
        default=None,
        help="largest step (default 0.5/ρ, ρ the size of the Jacobian of f₀: λ_max for gd)",
    )
    v.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    v.add_argument("--json", action="store_true", help="print JSON instead of a table")
    v.add_argument("--plot", metavar="FILE", help="also save the error-vs-h figure here")
    t = inner.add_parser(
        "train",
        parents=[common],
        help="train an MLP, recording loss, R_IG, accuracies and robustness",
        description="Train an MLP full batch (or SGD) with bea.optim's update rules.",
    )
    t.add_argument(
        "--optimizer", default="gd", choices=["gd", "sgd", "heavy-ball", "adam"], help="optimizer"
    )
    t.add_argument("--lr", type=float, required=True, help="learning rate h")
    length = t.add_mutually_exclusive_group(required=True)
    length.add_argument("--steps", type=int, help="number of steps")
    length.add_argument("--time", type=float, help="physical time T (steps = T/h)")
    t.add_argument("--egr", type=float, default=0.0, metavar="MU", help="EGR strength μ (gd)")
    t.add_argument("--beta", type=float, default=0.9, help="heavy-ball momentum")
    t.add_argument("--batch-size", type=int, default=32, help="SGD mini-batch size")
    t.add_argument("--evaluate-every", type=int, default=50, metavar="K")
    t.add_argument("--noise", nargs="+", type=float, default=[], metavar="SIGMA")
    t.add_argument(
        "--sharpness", action="store_true", help="also record the top Hessian eigenvalue"
    )
    t.add_argument("--dtype", default="float32", choices=["float64", "float32"])
    t.add_argument("--json", metavar="FILE", help="write the run as JSON here (atomic)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    st = inner.add_parser(
        "study",
        help="the paper's Section 5 on digits: R_IG, accuracy, robustness, EGR (sweeps on Dask)",
        description="Train MLPs of several widths at learning rates placed relative to each "
        "width's stability edge, with several seeds and an explicit-regularization arm; write "
        "the figures (mirroring Figure 2 and the robustness and EGR experiments), one JSON per "
        "run under DIR/runs (an interrupted study resumes), and report.md/html/json with each "
        "claim PASS or FAIL. Exit status 1 if a claim fails.",
        epilog="examples:\n  bea deep study --out s5 --quick --executor serial\n"
        "  bea deep study --out s5 --executor dask --address tcp://10.0.0.5:8786",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    st.add_argument("--out", default="bea-deep-study", metavar="DIR", help="output folder")
    _add_verbosity(st)
    _add_executor(st)
    st.add_argument(
        "--data",
        metavar="FILE.npz",
        default=None,
        help="your own arrays x_train, y_train, x_test, y_test (integer labels) instead of digits",
    )
    st.add_argument("--quick", action="store_true", help="2 widths x 3 rates x 1 seed (smoke run)")
    st.add_argument("--no-progress", action="store_true", help="no progress bars")
    st.add_argument(
        "--force", action="store_true", help="write beside files bea did not write (untouched)"
    )


def _add_executor(parser) -> None:
    parser.add_argument(
        "--executor",
        default="local",
        choices=["local", "serial", "process", "dask"],
        help="where the training runs go: local (default; a Dask LocalCluster, one pinned worker "
        "per core), serial (this process), process (a spawned process pool) or dask (the "
        "scheduler at --address)",
    )
    parser.add_argument(
        "--address",
        metavar="tcp://HOST:8786",
        default=None,
        help="Dask scheduler (--executor dask)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, metavar="N", help="workers (default: one per core)"
    )


def executor_of(args: argparse.Namespace):
    """The executor named by --executor/--address (a one-line error when they disagree)."""
    if args.executor == "dask":
        if not args.address:
            raise InputError("--executor dask needs --address tcp://HOST:8786")
        if "://" not in args.address:
            raise InputError(f"--address must look like tcp://HOST:8786, got {args.address!r}")
        return args.address
    if args.address:
        raise InputError("--address applies to --executor dask")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    return args.executor


def _deep(args: argparse.Namespace) -> tuple[str, int]:
    if args.deep_command == "study":
        args.executor_resolved = executor_of(args)
    from .deep.cli import run

    return run(args)


def _model(args: argparse.Namespace):
    from .models import MODELS

    return MODELS["two-parameter"](x=args.x, y=args.y)


def _figures(args: argparse.Namespace) -> str:
    from .study.figures import figures

    fs = figures(
        args.out,
        model=_model(args),
        quick=args.quick,
        progress=not args.no_progress,
        force=args.force,
    )
    return f"wrote {len(fs.files)} files to {fs.out}: " + ", ".join(fs.files)


def _deep_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("jax", "sklearn"))


def _reproduce(args: argparse.Namespace) -> tuple[str, int]:
    from .study.report import reproduce

    executor = executor_of(args)
    more, note = (), ""
    if args.section4_only:
        pass
    elif _deep_available():
        from .deep.report import Section5

        more = (Section5(executor=executor, workers=args.workers),)
    else:
        note = "\nSection 5 (neural networks) skipped: it needs pip install 'bea[deep]'"
    report = reproduce(
        args.out,
        model=_model(args),
        quick=args.quick,
        progress=not args.no_progress,
        force=args.force,
        more=more,
    )
    return str(report) + note, 0 if report.passed else 1


_VERIFY_EXAMPLES = """\
examples:
  bea verify --model two-parameter --orders 0 1 2 3
      the paper's model E = (y - a*b*x)^2/2 (x = 1, y = 0.6) from (2.8, 3.5)
  bea verify --loss "log(1 + exp(-a*x - b)) + c**2/2" --params a b c --point 0.5 -0.3 1 \\
      --values x=2 --orders 0 1 2 --json
  bea verify --loss "cos(t)" --params t --point 1 --point 2 --plot errors.png

Local error: one optimizer step against the time-h flow of the modified field truncated at h^p
(expected slope p + 2). Global error: N = T/h steps against the flow at time T (slope p + 1).
JSON: {"local_slopes": {"p": ...}, "global_slopes": {...}, "steps": [...], "local_errors":
{"p": [...]}, "global_errors": {...}, "local_fits"/"global_fits": slope, r2, used and dropped step
sizes with the reason, "diverged_runs": n}.
"""


def _add_verify(sub) -> None:
    verify = sub.add_parser(
        "verify",
        help="measure the convergence order of the optimizer against its modified flows",
        description="Measure local and global errors of an optimizer against its modified flows "
        "truncated at orders p, and fit their log-log slopes over the asymptotic range.",
        epilog=_VERIFY_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = verify.add_mutually_exclusive_group(required=True)
    what.add_argument("--loss", metavar="LOSS", help="the loss expression (as in 'bea derive')")
    what.add_argument("--model", choices=MODEL_NAMES, help="a named model")
    verify.add_argument("--params", nargs="+", metavar="NAME", help="parameters (with --loss)")
    verify.add_argument(
        "--point",
        nargs="+",
        type=float,
        action="append",
        metavar="X",
        help="a starting point (repeat for several); default for --model: the paper's (2.8, 3.5)",
    )
    verify.add_argument(
        "--values",
        nargs="+",
        default=[],
        metavar="NAME=NUMBER",
        help="numeric values of the constants in the loss",
    )
    verify.add_argument("--x", type=float, default=1.0, help="data x of --model two-parameter")
    verify.add_argument("--y", type=float, default=0.6, help="data y of --model two-parameter")
    verify.add_argument(
        "--orders",
        nargs="+",
        type=int,
        default=[0, 1, 2, 3],
        metavar="P",
        help="truncation orders (default 0 1 2 3)",
    )
    verify.add_argument(
        "--horizon",
        type=float,
        default=1.0,
        metavar="T",
        help="time of the global error (default 1)",
    )
    verify.add_argument(
        "--precision",
        type=int,
        metavar="DIGITS",
        help="measure local errors in this many decimal digits (mpmath) instead of float64, for "
        "orders float64 hides (explicit step maps; no global errors, no --plot)",
    )
    verify.add_argument(
        "--steps",
        nargs="+",
        type=float,
        metavar="H",
        help="step sizes (default: 12 over a factor 16, chosen from the Hessian)",
    )
    verify.add_argument(
        "--method",
        default="gd",
        choices=METHOD_NAMES,
        help="the optimizer (momentum methods start on their invariant manifold; "
        "proximal-point steps are solved by Newton's method; adam/rmsprop start on the slow manifold)",
    )
    verify.add_argument(
        "--beta",
        default="beta",
        metavar="B",
        help="momentum of heavy-ball/nesterov, beta1 of adam, rho of rmsprop (a number)",
    )
    verify.add_argument("--beta2", default="beta2", metavar="B2", help="beta2 of adam")
    verify.add_argument("--eps", default="epsilon", metavar="E", help="epsilon of adam/rmsprop")
    verify.add_argument(
        "--eps-outside",
        action="store_true",
        help="adam/adamw/rmsprop with epsilon outside the root, m/(sqrt(v) + eps), as PyTorch",
    )
    verify.add_argument(
        "--weight-decay", default="lam", metavar="L", help="decoupled weight decay lambda of adamw"
    )
    verify.add_argument("--time", default="step", choices=["step"], help=argparse.SUPPRESS)
    verify.add_argument("--json", action="store_true", help="print JSON instead of a table")
    verify.add_argument("--plot", metavar="FILE", help="also save the error-vs-h figure here")
    _add_timeout(verify)
    _add_verbosity(verify)


def _parse_values(items: Sequence[str]) -> dict[str, str]:
    values = {}
    for item in items:
        name, sep, number = item.partition("=")
        if not sep or not name.isidentifier() or name.startswith("_"):
            raise BeaError(f"--values takes NAME=NUMBER, got {item!r}")
        if name in values:
            raise BeaError(f"--values gives {name} twice")
        values[name] = number  # checked (a finite number, not a parameter) by the API
    return values


def _verify(args: argparse.Namespace) -> tuple[str, int]:
    import math

    from .optim.base import hyper_symbols
    from .verification import verify

    method = _method(args)
    if hyper_symbols(method):
        raise BeaError(
            f"bea verify --method {args.method} needs numeric hyper-parameters "
            "(--beta, and --beta2/--eps for adam), e.g. --beta 0.9"
        )
    if args.model:
        from .models import MODELS

        if args.values or args.params:
            raise BeaError("--values and --params apply to --loss; --model fixes its own")
        model = MODELS[args.model](x=args.x, y=args.y)
        loss, params, values = model.loss, model.params, {}
        points = args.point or [list(model.start)]
    else:
        if not args.params:
            raise BeaError("--loss needs --params")
        if not args.point:
            raise BeaError("--loss needs a starting point: --point X [X ...]")
        loss, params, points = args.loss, args.params, args.point
        values = _parse_values(args.values)
    if len({len(p) for p in points}) != 1:
        raise BeaError("every --point needs the same number of coordinates")
    if args.precision is not None and args.plot:
        raise BeaError("--plot draws float64 runs; use it without --precision")
    result = verify(
        loss,
        params,
        points,
        orders=args.orders,
        steps=args.steps,
        horizon=args.horizon,
        values=values,
        method=method,
        precision=args.precision,
    )
    if args.precision is not None:  # a LocalVerification: local errors only, no figure
        from .io import dumps

        out = dumps(result.to_dict()).rstrip("\n") if args.json else str(result)
        kinds = (("local", result.local_slopes),)
    else:
        if args.plot:
            from .plots.output import save_figure

            save_figure(result.plot(), args.plot)
        out = result.to_json().rstrip("\n") if args.json else str(result)
        kinds = (("local", result.local_slopes), ("global", result.global_slopes))
    unfit = [
        f"{kind} p={p}" for kind, slopes in kinds for p, s in slopes.items() if not math.isfinite(s)
    ]
    if unfit:
        print(
            f"bea: no convergence order could be fitted for {', '.join(unfit)} (see the dropped "
            "step sizes): try other step sizes, another horizon or another start",
            file=sys.stderr,
        )
        return out, 1
    return out, 0


def _method(args: argparse.Namespace):
    """The optimizer that the flags describe (hyper-parameters checked by the optimizer)."""
    from .optim import OPTIMIZERS, Adam, AdamW, HeavyBall, Nesterov, RMSProp

    adaptive_flags = args.beta2 != "beta2" or args.eps != "epsilon"
    schedule = getattr(args, "schedule", None)  # bea derive only
    if schedule is not None and args.method != "gd":
        raise BeaError("--schedule applies to gd only")
    if args.weight_decay != "lam" and args.method != "adamw":
        raise BeaError("--weight-decay applies to adamw only")
    outside = args.eps_outside
    if outside and args.method not in ("adam", "adamw", "rmsprop"):
        raise BeaError("--eps-outside applies to adam, adamw and rmsprop only")
    if args.method in ("heavy-ball", "nesterov"):
        if adaptive_flags:
            raise BeaError("--beta2 and --eps apply to adam, adamw and rmsprop only")
        cls = HeavyBall if args.method == "heavy-ball" else Nesterov
        return cls(args.beta, args.time)
    if args.time != "step":
        raise BeaError("--time applies to heavy-ball and nesterov only")
    if args.method in ("adam", "adamw"):
        beta1 = "beta1" if args.beta == "beta" else args.beta
        if args.method == "adamw":
            return AdamW(beta1, args.beta2, args.eps, args.weight_decay, eps_outside=outside)
        return Adam(beta1, args.beta2, args.eps, eps_outside=outside)
    if args.method == "rmsprop":
        if args.beta2 != "beta2":
            raise BeaError("rmsprop has no --beta2 (its rho is --beta)")
        return RMSProp("rho" if args.beta == "beta" else args.beta, args.eps, eps_outside=outside)
    if args.beta != "beta" or adaptive_flags:
        raise BeaError("--beta, --beta2 and --eps apply to momentum and adaptive methods only")
    if schedule is not None:
        from .optim import GD

        return GD(schedule=schedule)
    if args.method == "bdf2":  # implicit: derived, not in the registry (no step map to verify)
        from .optim import Multistep

        return Multistep("bdf2")
    return OPTIMIZERS[args.method]


def _derive(args: argparse.Namespace) -> str:
    import sympy as sp

    from .derive import modified_flow
    from .flow import expression_text

    flow = modified_flow(args.loss, args.params, order=args.order, method=_method(args))
    if args.format in ("python", "jax"):
        return flow.to_source("numpy" if args.format == "python" else "jax").rstrip("\n")
    first_bad = flow.first_non_gradient()
    top = flow.order if first_bad is None else first_bad - 1
    closed = getattr(args, "closed_form", False)
    loss_tilde = flow.modified_loss(top, closed_form=closed) if top >= 0 else None
    gradient = [flow.is_gradient(j) for j in range(flow.order + 1)]
    if args.format == "json":
        return _json_document(
            flow,
            [flow.loss] + ([loss_tilde] if loss_tilde is not None else []),
            order=flow.order,
            loss=expression_text(flow.loss),
            modified_loss=None if loss_tilde is None else expression_text(loss_tilde),
            modified_loss_order=top,
            first_non_gradient=first_bad,
        )
    if args.format == "latex":
        lines = [flow.latex()]
        if loss_tilde is not None:
            lines.append(f"\\tilde E = {sp.latex(loss_tilde)} + O(h^{{{top + 1}}})")
        if first_bad is not None:
            lines.append(
                f"% f_{first_bad} is not a gradient field: no modified loss at order {first_bad}"
            )
        return "\n".join(lines)
    params = ", ".join(map(str, flow.state))
    method = flow.method
    if getattr(args, "schedule", None) is not None:
        method += f", learning rate {flow.h}*s(t) at t = n*{flow.h} with s(t) = {args.schedule}"
    if getattr(args, "eps_outside", False):
        method += " with epsilon outside the root"
    lines = [
        f"loss      E = {flow.loss}",
        f"method    {method}, step size {flow.h}, parameters {params}",
        f"modified flow  d(theta)/dt = f_0 + h f_1 + ... + h^{flow.order} f_{flow.order}:",
    ]
    for j, term in enumerate(flow.terms):
        kind = "gradient field" if gradient[j] else "NOT a gradient field"
        lines.append(f"  f_{j}  ({kind})")
        for s, comp in zip(flow.state, term, strict=True):
            lines.append(f"      d{s}: {comp}")
    if loss_tilde is not None:
        lines.append(f"modified loss (up to O(h^{top + 1})):")
        lines.append(f"  E~ = {loss_tilde}")
        if loss_tilde.has(sp.Integral):
            lines.append(
                "  (Integral(..., (t, 0, 1)): an exact potential with no closed form bea found, "
                "integrated along the ray from a base point; --closed-form asks sympy for one)"
            )
    if first_bad is not None:
        obstruction = flow.antisymmetric_jacobian(first_bad)
        lines.append(
            f"order {first_bad}: no modified loss exists - f_{first_bad} is not a gradient field "
            f"(antisymmetric Jacobian entry (0,1): {_first_nonzero(obstruction)})"
        )
    return "\n".join(lines)


def _json_document(flow, exprs, *, drop: Sequence[str] = (), **fields) -> str:
    """The flow's JSON with ``fields`` added (``drop`` removed) and ``exprs``' symbols declared."""
    from .flow import symbol_table
    from .io import dumps

    data = flow.to_dict()
    for key in drop:
        data.pop(key, None)
    data.update(fields)
    data["symbols"] = {**symbol_table(exprs), **data["symbols"]}
    return dumps(data).rstrip("\n")


def _first_nonzero(matrix):
    n = matrix.shape[0]
    for r in range(n):
        for c in range(r + 1, n):
            if matrix[r, c] != 0:
                return matrix[r, c]
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bea`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 2 on a user error, 1 if ``reproduce`` finds a claim
        that fails.

    Examples
    --------
    >>> main(["derive", "t**2/2", "--params", "t", "--format", "json"])  # doctest: +ELLIPSIS
    {
      "h": "h",
    ...
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)  # our own exact results may have long integers
    previous = _on_sigterm()
    timeout = getattr(args, "timeout", 0.0)
    quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
    if hasattr(args, "no_progress"):  # progress bars only where a person watches them
        args.no_progress = args.no_progress or quiet or not (verbose or _stderr_is_terminal())
    from . import _progress

    _progress.ENABLED = not (quiet or getattr(args, "no_progress", False))
    started = time.perf_counter()
    try:
        _start_timer(timeout)
        commands = {
            "derive": _derive,
            "hamiltonian": _hamiltonian,
            "verify": _verify,
            "figures": _figures,
            "reproduce": _reproduce,
            "deep": _deep,
        }
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            out = commands[args.command](args)
        out, status = out if isinstance(out, tuple) else (out, 0)
        print(out)
        sys.stdout.flush()
        if verbose:
            print(
                f"bea: {args.command} took {time.perf_counter() - started:.1f} s", file=sys.stderr
            )
    except BeaError as err:
        print(f"bea: error: {err}", file=sys.stderr)
        return 2
    except _TimedOut:
        _stop_timer()  # before anything else: the alarm is re-armed until it is caught
        print(
            f"bea: error: stopped after {timeout:g} s (--timeout {timeout:g}); ask for a lower "
            "order or a smaller loss, or raise --timeout (0: no limit)",
            file=sys.stderr,
        )
        return 2
    except _Terminated:
        print("bea: terminated; finished files were kept, none is half-written", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("bea: interrupted; finished files were kept, none is half-written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into 'head': not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except RecursionError:
        print("bea: error: the expression is nested too deeply for bea to handle", file=sys.stderr)
        return 2
    except MemoryError:
        print(
            "bea: error: out of memory; ask for a lower order or a smaller input", file=sys.stderr
        )
        return 2
    except OSError as err:  # e.g. stdout on a full device
        print(f"bea: error: {err.strerror or err}", file=sys.stderr)
        _quiet_stdout()
        return 2
    finally:
        _stop_timer()
        _restore_sigterm(previous)
    return status


class _TimedOut(Exception):
    """The --timeout alarm, raised in the main thread."""


_ALARM: list = []  # the SIGALRM handler to restore, while a --timeout alarm is set


def _start_timer(seconds) -> None:
    if seconds is None or seconds == 0 or not hasattr(signal, "setitimer"):
        return
    if not (math.isfinite(seconds) and seconds > 0):
        raise BeaError(f"--timeout must be a positive number of seconds or 0, got {seconds:g}")

    def handler(signum, frame):
        # re-armed: an exception raised where Python ignores it (a gc callback, a __del__) must
        # not end the timeout; the next alarm, 50 ms later, raises again
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        raise _TimedOut

    try:
        _ALARM.append(signal.signal(signal.SIGALRM, handler))
    except ValueError:  # not the main thread: no alarm
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _stop_timer() -> None:
    if _ALARM:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, _ALARM.pop())


class _Terminated(Exception):
    """SIGTERM, raised in the main thread so that cleanup (temporary files) runs."""


def _on_sigterm():
    def handler(signum, frame):
        raise _Terminated

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. called from a worker): leave it alone
        return signal.getsignal(signal.SIGTERM)


def _restore_sigterm(previous) -> None:
    if previous is None:
        return
    try:
        signal.signal(signal.SIGTERM, previous)
    except ValueError:  # not the main thread
        pass


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush cannot fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
