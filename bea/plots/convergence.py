"""Error-versus-step-size figures (local and global errors, log–log, fitted slopes)."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter

from .style import order_color, style

__all__ = ["plot_transient", "plot_verification", "plot_weak"]


def plot_verification(result, ax=None):
    """Plot local and global errors of a :class:`bea.verify.Verification` against h.

    Parameters
    ----------
    result : Verification
    ax : pair of matplotlib Axes, optional
        Where to draw (local, global); default: a new figure with two panels.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import bea, matplotlib
    >>> matplotlib.use("Agg")
    >>> v = bea.verify("cos(t)", ["t"], [1.0], orders=(0, 1), horizon=0.5)
    >>> fig = plot_verification(v)
    >>> [a.get_xscale() for a in fig.axes]
    ['log', 'log']
    """
    import matplotlib.pyplot as plt

    with style():
        if ax is None:
            fig, axes = plt.subplots(1, 2, figsize=(9.2, 4.6), sharex=True)
        else:
            axes = ax
            fig = axes[0].figure
        for axis, kind, fits, expected in (
            (axes[0], "local", result.local_fits, result.expected_local_slopes),
            (axes[1], "global", result.global_fits, result.expected_global_slopes),
        ):
            for p in result.orders:
                err = result.worst(kind, p)
                fit = fits[p]
                color = order_color(p)
                used = fit.used & np.isfinite(err)
                axis.loglog(result.steps[used], err[used], "o", color=color)
                other = ~fit.used & np.isfinite(err) & (err > 0)
                axis.loglog(
                    result.steps[other], err[other], "o", mfc="none", color=color, alpha=0.6
                )
                if np.isfinite(fit.slope):
                    hs = result.steps[fit.used]
                    axis.loglog(
                        hs,
                        10 ** (fit.intercept + fit.slope * np.log10(hs)),
                        "-",
                        color=color,
                        label=f"p = {p}: slope {fit.slope:.2f} (theory {expected[p]})",
                    )
            axis.set_xlabel("step size $h$")
            what = "one step" if kind == "local" else f"at $T = {result.horizon:g}$"
            axis.set_ylabel(f"{kind} error ({what})")
            axis.set_title(f"{kind.capitalize()} error vs. modified flow of order $p$")
            axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
            axis.xaxis.set_minor_formatter(FuncFormatter(_minor_label(result.steps)))
        fig.text(
            0.5,
            0.005,
            "filled: used in the fit; open: outside the asymptotic range or "
            "at the resolution floor",
            ha="center",
            fontsize=8,
        )
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def plot_weak(result, ax=None):
    """Plot the weak errors of a :class:`bea.WeakVerification` against h, with ±2 standard errors.

    Parameters
    ----------
    result : WeakVerification
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import bea, matplotlib
    >>> matplotlib.use("Agg")
    >>> sme = bea.stochastic_modified_equation(["(w - 1)**2/2", "(w + 1)**2"], ["w"])
    >>> fig = plot_weak(bea.verify_weak(sme, [0.5], steps=[0.2, 0.1], paths=2000))
    >>> fig.axes[0].get_xscale()
    'log'
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib.pyplot as plt

    with style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(5.6, 4.4))
        else:
            fig = ax.figure
        for p, err in result.errors.items():
            fit, color = result.fits[p], order_color(p)
            used = fit.used & np.isfinite(err)
            ax.errorbar(
                result.steps[used],
                err[used],
                yerr=2 * result.stderr[p][used],
                fmt="o",
                color=color,
                capsize=3,
            )
            other = ~fit.used & np.isfinite(err) & (err > 0)
            ax.errorbar(
                result.steps[other],
                err[other],
                yerr=2 * result.stderr[p][other],
                fmt="o",
                mfc="none",
                color=color,
                alpha=0.6,
                capsize=3,
            )
            label = f"weak order {p} SDE"
            if np.isfinite(fit.slope):
                hs = result.steps[fit.used]
                ax.plot(hs, 10 ** (fit.intercept + fit.slope * np.log10(hs)), "-", color=color)
                label += f": slope {fit.slope:.2f} (theory {p})"
            ax.plot([], [], "o-", color=color, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step size $h$")
        ax.set_ylabel(f"largest moment error at $T = {result.horizon:g}$")
        ax.set_title("SGD against its stochastic modified equations")
        ax.legend(loc="upper left", fontsize=8)
        ax.xaxis.set_minor_formatter(FuncFormatter(_minor_label(result.steps)))
        fig.text(
            0.5,
            0.005,
            f"moments E θ, E θθᵀ; bars ±2 standard errors ({result.paths} paths, float64); "
            "open: not used in the fit",
            ha="center",
            fontsize=7,
        )
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def plot_transient(result, ax=None):
    """Plot a :class:`bea.Transient`: the moments' distance from the slow manifold against the
    step number, measured (with and without bias correction) and predicted.

    Parameters
    ----------
    result : Transient
    ax : pair of matplotlib Axes, optional
        Where to draw (m, v); default: a new figure with two panels.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import bea, matplotlib
    >>> matplotlib.use("Agg")
    >>> from bea.optim import Adam
    >>> tr = bea.bias_correction_transient("t**2/2", ["t"], [1.0], Adam(0.5, 0.75, 0.1),
    ...                                    steps=[0.01], n=20)
    >>> fig = plot_transient(tr)
    >>> [a.get_yscale() for a in fig.axes]
    ['log', 'log']
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib.pyplot as plt

    with style():
        if ax is None:
            fig, axes = plt.subplots(1, 2, figsize=(9.2, 4.2), sharex=True)
        else:
            axes = ax
            fig = axes[0].figure
        for axis, key, beta in (
            (axes[0], "m", result.beta1),
            (axes[1], "v", result.beta2),
        ):
            for i, hv in enumerate(result.steps):
                color = order_color(i)
                axis.semilogy(
                    result.k,
                    result.measured[key][i],
                    "o",
                    ms=3,
                    color=color,
                    label=f"h = {hv:g}: measured",
                )
                predicted = result.predicted[key][i]
                shown = predicted > 0
                axis.semilogy(
                    result.k[shown],
                    predicted[shown],
                    "-",
                    color=color,
                    label=f"h = {hv:g}: h·|HF₀|·kβᵏ/(1 − βᵏ)",
                )
            axis.semilogy(
                result.k,
                result.measured[f"{key}, no correction"][0],
                "--",
                color="0.5",
                label=f"h = {result.steps[0]:g}: no bias correction",
            )
            axis.set_xlabel("step k")
            axis.set_ylabel(f"|{key} used − slow manifold| (largest component)")
            axis.set_title(f"{key}: β = {beta:g}")
            axis.legend(fontsize=7, loc="lower left")
        fig.text(
            0.5,
            0.005,
            "float64; the slow manifold is bea's, to order 2 in h; measured points flatten at its "
            "O(h³) error",
            ha="center",
            fontsize=7,
        )
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _minor_label(steps):
    """Tick labels at 2·10ᵏ and 5·10ᵏ as well when the step sizes span less than two decades
    (otherwise an axis can show a single labelled tick)."""
    steps = np.asarray(steps, dtype=float)
    steps = steps[np.isfinite(steps) & (steps > 0)]
    narrow = steps.size > 1 and np.log10(steps.max() / steps.min()) < 2

    def label(x, _pos=None):
        if not narrow or x <= 0:
            return ""
        k = int(np.floor(np.log10(x) + 1e-9))
        mantissa = round(x / 10.0**k, 6)
        return f"${mantissa:g}\\cdot10^{{{k}}}$" if mantissa in (2, 5) else ""

    return label
