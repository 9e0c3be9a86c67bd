"""Files and JSON, one way: atomic writes that never replace what is not a regular file, output
folders checked before any work starts, and one JSON style for every file bea writes.

* :func:`atomic_write` writes through a temporary file in the target's folder and renames it, so a
  failed or interrupted run leaves either the old file or the new one, never half of one. It
  refuses targets that are not regular files (devices, folders, symbolic links, sockets).
* :func:`jsonable` turns results into plain data: arrays to lists, NumPy scalars to Python
  numbers, sympy objects to strings, and every non-finite float to ``None``.
* :func:`dumps` is the JSON style of every file and of every ``to_json``: two-space indent,
  keys in insertion order, no NaN, a final newline.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from pathlib import Path

from ._version import __version__
from .errors import InputError

__all__ = ["atomic_write", "dumps", "jsonable", "prepare_folder", "versions"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_target(path: Path) -> None:
    """Refuse to replace anything that is not a regular file (or missing)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise InputError(f"cannot write {path}: it is a symbolic link (bea replaces only files)")
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"cannot write {path}: it is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"cannot write {path}: it is not a regular file (a device, pipe or socket)"
        )


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    Parameters
    ----------
    path : path
        The target: missing or a regular file (anything else is refused).
    data : str or bytes

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> atomic_write(os.path.join(folder, "a.txt"), "hello").read_text()
    'hello'
    >>> atomic_write(folder, "x")
    Traceback (most recent call last):
    ...
    bea.errors.InputError: cannot write ...: it is a folder
    """
    path = Path(path)
    if not str(path) or path.name in ("", ".", ".."):
        raise InputError(f"cannot write {str(path)!r}: not a file name")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {path}: folder {folder} does not exist")
    _check_target(path)
    mode = "w" if isinstance(data, str) else "wb"
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise InputError(f"cannot write in {folder}: {err.strerror}") from None
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        _check_target(path)  # again: the target may have changed while we wrote
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno is not None and err.strerror:
            if err.errno in (28, 122):  # ENOSPC, EDQUOT
                raise InputError(f"cannot write {path}: {err.strerror}") from None
        raise
    return path


def prepare_folder(out: str | os.PathLike, *, what: str = "--out") -> Path:
    """Create the output folder (and its parents) or check it; a clear error if it cannot be used.

    Examples
    --------
    >>> import tempfile, os
    >>> prepare_folder(os.path.join(tempfile.mkdtemp(), "new", "figs")).is_dir()
    True
    >>> prepare_folder("")
    Traceback (most recent call last):
    ...
    bea.errors.InputError: --out is empty: name a folder
    """
    if not str(out).strip():
        raise InputError(f"{what} is empty: name a folder")
    out = Path(out)
    if out.is_symlink() and not out.is_dir():
        raise InputError(f"{what} {out} is a broken symbolic link")
    if out.exists() and not out.is_dir():
        raise InputError(f"{what} {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the output folder {out}: {err.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"the output folder {out} is not writable")
    return out


def jsonable(value):
    """Plain JSON data: arrays to lists, NumPy scalars to numbers, non-finite floats to None,
    sympy objects and paths to strings, tuples to lists, keys to strings.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.array([1.0, np.nan]), 2: (np.float64(3.5), float("inf"))})
    {'a': [1.0, None], '2': [3.5, None]}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # NumPy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "free_symbols"):  # sympy
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(data) -> str:
    """The one JSON style of bea: :func:`jsonable` data, two-space indent, final newline.

    Examples
    --------
    >>> print(dumps({"slope": float("nan"), "orders": (0, 1)}), end="")
    {
      "slope": null,
      "orders": [
        0,
        1
      ]
    }
    """
    return json.dumps(jsonable(data), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def versions(*packages: str) -> dict[str, str]:
    """Versions of bea, Python and the numeric stack (and of ``packages``), for result files.

    Examples
    --------
    >>> sorted(versions())
    ['bea', 'matplotlib', 'numpy', 'python', 'scipy', 'sympy']
    """
    import platform
    from importlib import metadata

    out = {"bea": __version__, "python": platform.python_version()}
    for name in ("numpy", "scipy", "sympy", "matplotlib", *packages):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
