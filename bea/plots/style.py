"""The one plotting style of bea: colour-blind-safe palette, sizes and fonts for papers."""

from __future__ import annotations

import contextlib

__all__ = ["COLORS", "order_color", "style"]

#: Okabe–Ito palette (colour-blind safe), in the order used for truncation orders 0, 1, 2, ...
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

_RC = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "lines.markersize": 4.5,
    "svg.hashsalt": "bea",
    "pdf.compression": 6,
}


def order_color(p: int) -> str:
    """Colour of truncation order p.

    Examples
    --------
    >>> order_color(0)
    '#0072B2'
    """
    return COLORS[p % len(COLORS)]


@contextlib.contextmanager
def style():
    """Context manager applying bea's matplotlib style (non-interactive back-end safe).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with style():
    ...     fig, ax = plt.subplots()
    >>> plt.close(fig)
    """
    import matplotlib

    with matplotlib.rc_context(_RC):
        yield
