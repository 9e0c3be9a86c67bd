"""The JAX back-end of :mod:`bea.deep`: the import guard, the float64 scope, versions, and
pinning a worker process to one core.

JAX's ``jax_enable_x64`` is process-wide state; bea never flips it globally. Every entry point of
:mod:`bea.deep` runs inside :func:`scope`, which enables 64-bit types for its duration, and every
array bea makes carries the problem's declared dtype (float64 for verification, float32 for
training speed), so results do not depend on the caller's JAX settings.
"""

from __future__ import annotations

import contextlib
import functools
import os

from ..errors import InputError
from ..io import versions

__all__ = ["INSTALL", "deep_versions", "pin_to_core", "require", "scope", "scoped"]

#: What to run when the extra is missing.
INSTALL = "pip install 'bea[deep]'"


def require():
    """Import JAX (and check scikit-learn), or raise :class:`~bea.InputError` with the pip command.

    Examples
    --------
    >>> require().__name__
    'jax'
    """
    try:
        import jax
        import sklearn  # noqa: F401 - checked here so that errors come early and once
    except ImportError as err:
        raise InputError(
            f"bea.deep needs JAX and scikit-learn ({err.name} is missing): {INSTALL}"
        ) from None
    return jax


@contextlib.contextmanager
def scope():
    """64-bit types available for the duration (JAX's global default is left untouched).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> with scope():
    ...     str(jnp.zeros(1, dtype="float64").dtype)
    'float64'
    """
    jax = require()
    with jax.enable_x64(True):
        yield


def scoped(fn):
    """Decorator: run ``fn`` inside :func:`scope`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with scope():
            return fn(*args, **kwargs)

    return wrapper


def deep_versions() -> dict[str, str]:
    """Versions of bea, its numeric stack, JAX, jaxlib and scikit-learn (stamped in results).

    Examples
    --------
    >>> sorted(deep_versions())[:3]
    ['bea', 'jax', 'jaxlib']
    """
    return versions("jax", "jaxlib", "scikit-learn")


def pin_to_core(index: int | None = None) -> int | None:
    """Pin this process to one core (JAX ignores thread limits; pinning keeps workers apart).

    Parameters
    ----------
    index : int, optional
        Which of the allowed cores (modulo their number); default: keep the first.

    Returns
    -------
    int or None
        The core pinned to, or None where affinity cannot be set.

    Examples
    --------
    >>> pin_to_core(None) is None  # no index: the process keeps its cores
    True
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    if index is None or not cores:
        return None
    core = cores[index % len(cores)]
    os.sched_setaffinity(0, {core})
    return core
