"""Writing figures and data files atomically: a failed run never leaves half a file."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from ..io import atomic_write

__all__ = ["atomic_write", "figure_bytes", "figure_files", "save_figure"]


def figure_bytes(fig, fmt: str = "png") -> bytes:
    """A matplotlib figure as PNG/PDF/SVG bytes, with fixed metadata so that reruns give
    identical files.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> figure_bytes(plt.figure())[:4]
    b'\\x89PNG'
    """
    import io

    metadata = {
        "png": {"Software": None},
        "pdf": {"CreationDate": None, "Producer": None},
        "svg": {"Date": None},
    }.get(fmt)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=fmt, metadata=metadata)
    except ValueError as err:
        raise InputError(f"cannot save a figure as {fmt}: {err}") from None
    return buf.getvalue()


def figure_files(fig, formats=("png", "pdf")) -> dict[str, bytes]:
    """A figure in each of ``formats`` (the house style of bea's studies: PNG and PDF), then
    closed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> files = figure_files(plt.figure())
    >>> sorted(files), files["pdf"][:4]
    (['pdf', 'png'], b'%PDF')
    """
    import matplotlib.pyplot as plt

    try:
        return {fmt: figure_bytes(fig, fmt) for fmt in formats}
    finally:
        plt.close(fig)


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Save a matplotlib figure atomically (format from the file suffix), with fixed metadata
    so that reruns give identical files.

    Examples
    --------
    >>> import tempfile, os, matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> save_figure(fig, os.path.join(tempfile.mkdtemp(), "f.png")).suffix
    '.png'
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    return atomic_write(path, figure_bytes(fig, fmt))
