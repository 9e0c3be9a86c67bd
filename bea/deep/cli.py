"""The ``bea deep`` subcommands (the parser lives in :mod:`bea.cli`, which must not import JAX)."""

from __future__ import annotations

import argparse
import math

from ..errors import InputError
from ..io import atomic_write
from ..optim import Adam, HeavyBall, Nesterov, RMSProp
from ..plots.output import save_figure
from .flow import Epoch
from .problem import mlp, problem
from .report import study
from .train import train
from .verify import verify

__all__ = ["run"]


def _problem(args: argparse.Namespace, dtype: str):
    return problem(
        args.data, mlp(args.widths, args.act), seed=args.seed, dtype=dtype, n_train=args.n_train
    )


def _epoch(args: argparse.Namespace, prob):
    """``--method sgd``: an Epoch of ``--batch-size`` mini-batches, ordered by ``--shuffle``."""
    if args.method != "sgd":
        if args.batch_size is not None or args.shuffle != "none":
            raise InputError("--batch-size and --shuffle apply to --method sgd only")
        return None
    if args.batch_size is None:
        raise InputError("--method sgd needs --batch-size, e.g. --batch-size 150")
    if args.shuffle in ("none", "all"):
        shuffle = args.shuffle == "all"
    else:
        try:
            shuffle = int(args.shuffle)
        except ValueError:
            shuffle = 0
        if shuffle < 1:
            raise InputError(
                f"--shuffle must be none, all or a positive number, got {args.shuffle!r}"
            )
    return Epoch(prob, args.batch_size, shuffle=shuffle, seed=args.seed)


def _method(args: argparse.Namespace):
    adaptive = {"adam": ("--beta", "--beta2", "--eps"), "rmsprop": ("--beta", "--eps")}
    if args.method in adaptive:
        given = {"--beta": args.beta, "--beta2": args.beta2, "--eps": args.eps}
        missing = [flag for flag in adaptive[args.method] if given[flag] is None]
        if missing:
            raise InputError(
                f"--method {args.method} needs {', '.join(adaptive[args.method])} (numbers), e.g. "
                + (
                    "--beta 0.5 --beta2 0.8 --eps 0.01"
                    if args.method == "adam"
                    else "--beta 0.8 --eps 0.01"
                )
            )
        if args.method == "rmsprop" and args.beta2 is not None:
            raise InputError("--beta2 applies to adam only (rmsprop's rho is --beta)")
        if args.time != "step":
            raise InputError("--time applies to heavy-ball and nesterov only")
        if args.method == "adam":
            return Adam(
                _number(args.beta, "--beta"),
                _number(args.beta2, "--beta2"),
                _number(args.eps, "--eps"),
            )
        return RMSProp(_number(args.beta, "--beta"), _number(args.eps, "--eps"))
    if args.beta2 is not None or args.eps is not None:
        raise InputError("--beta2 and --eps apply to adam and rmsprop only")
    if args.method in ("heavy-ball", "nesterov"):
        if args.beta is None:
            raise InputError(f"--method {args.method} needs --beta, e.g. --beta 0.9")
        return (HeavyBall if args.method == "heavy-ball" else Nesterov)(args.beta, args.time)
    if args.beta is not None or args.time != "step":
        raise InputError("--beta and --time apply to heavy-ball and nesterov only")
    return args.method


def _number(text: str, flag: str) -> str:
    """A hyper-parameter of bea.deep must be a number (the network is evaluated numerically)."""
    try:
        float(text)
    except ValueError:
        raise InputError(f"{flag} must be a number, got {text!r}") from None
    return text


def run(args: argparse.Namespace) -> tuple[str, int]:
    """Run ``bea deep verify``, ``train`` or ``study``; returns (output, exit status)."""
    if args.deep_command == "study":
        report = study(
            args.out,
            quick=args.quick,
            executor=args.executor_resolved,
            workers=args.workers,
            data=args.data,
            progress=not args.no_progress,
            force=args.force,
        )
        return str(report), 0 if report.passed else 1
    if args.deep_command == "verify":
        prob = _problem(args, args.dtype)
        method = _method(args)
        epoch = _epoch(args, prob)
        result = verify(
            prob,
            orders=args.orders,
            method=method if epoch is None else epoch,
            n_steps=args.n_steps,
            h_max=args.h_max,
        )
        if args.plot:
            save_figure(result.plot(), args.plot)
        out = result.to_json().rstrip("\n") if args.json else str(result)
        slopes = [*result.local_slopes.values(), *result.global_slopes.values()]
        return out, 0 if all(math.isfinite(s) for s in slopes) else 1
    result = train(
        _problem(args, args.dtype),
        args.optimizer,
        args.lr,
        steps=args.steps,
        time=args.time,
        egr=args.egr,
        beta=args.beta,
        batch_size=args.batch_size,
        evaluate_every=args.evaluate_every,
        noise_sigmas=tuple(args.noise),
        seed=args.seed,
        sharpness=args.sharpness,
        progress=not args.no_progress,
    )
    if args.json:
        atomic_write(args.json, result.to_json())
    return str(result), 1 if result.diverged else 0
