"""Figures of the two-parameter model study (data from :mod:`bea.study`; one style for all)."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import SymLogNorm

from ..plots.style import COLORS, style

__all__ = [
    "plot_curl",
    "plot_flatness",
    "plot_regularization",
    "plot_rig",
    "plot_trajectories",
]

GD_COLORS = (COLORS[0], COLORS[1])
GF_COLOR = "#000000"
FLOW_STYLES = {1: (COLORS[3], "--"), 2: (COLORS[5], "-."), 3: (COLORS[2], ":")}


def _valley(ax, model, lo, hi, log=False, label=True):
    a = np.geomspace(lo, hi, 400) if log else np.linspace(lo, hi, 400)
    a = a[a != 0]
    b = model.valley(a)
    ax.plot(
        a, b, color="0.35", lw=1.0, ls=(0, (4, 2)), label="minima $ab = y/x$" if label else None
    )


def _flat_star(ax, model, label=True):
    fa, fb = model.flat_minimum
    ax.plot(
        [fa],
        [fb],
        marker="*",
        ms=11,
        color=COLORS[4],
        mec="black",
        mew=0.6,
        ls="none",
        zorder=6,
        label="flattest minimum" if label else None,
    )


def _fmt_h(h: float) -> str:
    if h >= 1e-3:
        return f"{h:.3g}"
    mant, exp = f"{h:.2e}".split("e")
    return rf"{float(mant):.3g}\times 10^{{{int(exp)}}}"


def _zoom_box(points: np.ndarray, pad: float = 0.35):
    """Limits around the end points, with a margin."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.maximum(hi - lo, 1e-3 * np.maximum(np.abs(hi), 1))
    return lo - pad * span, hi + pad * span


def _draw_paths(ax, p, every):
    ax.plot(*p.gradient_flow.T, color=GF_COLOR, lw=1.8, label="gradient flow ($h \\to 0$)")
    for k, (color, gd) in enumerate(zip(GD_COLORS, p.gd, strict=True)):
        which = "small" if k == 0 else "moderate"
        ax.plot(
            *gd.T,
            color=color,
            lw=0.9,
            marker="o",
            ms=3.0,
            markevery=every,
            label=f"GD, {which} $h$",
        )
    for order, line in zip(p.orders, p.modified_flow, strict=True):
        color, ls = FLOW_STYLES.get(order, (COLORS[6], "-"))
        ax.plot(
            *line.T,
            color=color,
            ls=ls,
            lw=2.0,
            label=f"modified flow of order {order}, moderate $h$",
        )
    ends = [p.gradient_flow[-1], *(g[-1] for g in p.gd), *(m[-1] for m in p.modified_flow)]
    ax.plot(*np.array(ends).T, "k+", ms=7, mew=1.0, zorder=8, label="end points")


def plot_trajectories(model, paths, titles=None):
    """Loss landscape with gradient flow, GD and modified flows from each start (figure 1).

    Each panel has an inset that zooms on where the runs end. A start far from the minima gets
    log–log axes (where the valley ab = y/x is a straight line).

    Parameters
    ----------
    model : TwoParameter
    paths : sequence of bea.study.Paths
        One panel each.
    titles : sequence of str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bea.models import TwoParameter
    >>> from bea.study import Settings, trajectories
    >>> m = TwoParameter()
    >>> fig = plot_trajectories(m, [trajectories(m, m.start, (0.01, 0.04), Settings(True))])
    >>> len(fig.axes), len(fig.axes[0].child_axes)   # panel and colour bar; the inset
    (2, 1)
    """
    import matplotlib.pyplot as plt

    with style():
        n = len(paths)
        fig, axes = plt.subplots(1, n, figsize=(5.6 * n, 6.0), squeeze=False)
        for k, (ax, p) in enumerate(zip(axes[0], paths, strict=True)):
            far = max(p.start) > 20
            pts = np.concatenate([p.gradient_flow, *p.gd, *p.modified_flow])
            pts = pts[np.all(np.isfinite(pts), axis=1)]
            if far:
                lo = 10 ** np.floor(np.log10(max(pts.min(), 1e-3)))
                hi = 10 ** np.ceil(np.log10(pts.max()))
                grid = np.geomspace(lo, hi, 300)
                ax.set_xscale("log")
                ax.set_yscale("log")
            else:
                lo, hi = min(0.0, pts.min()) - 0.1, pts.max() * 1.1
                grid = np.linspace(lo, hi, 300)
            A, B = np.meshgrid(grid, grid)
            logE = np.log10(model.loss_value(np.stack([A, B], -1)) + 1e-12)
            cs = ax.contourf(
                A, B, logE, levels=np.arange(-6, 9), cmap="Greys", alpha=0.3, extend="both"
            )
            _valley(ax, model, grid[0], grid[-1], log=far)
            _flat_star(ax, model)
            every = [max(1, int(i.size) // 40) for i in p.gd_index]
            _draw_paths(ax, p, every[0] if far else 1)
            ax.plot(*np.array(p.start), "ks", ms=5, zorder=7, label="start")
            ax.set_xlim(grid[0], grid[-1])
            ax.set_ylim(grid[0], grid[-1])
            ax.set_xlabel("$a$")
            ax.set_ylabel("$b$")
            ax.set_aspect("equal")
            ax.grid(False)
            hs = ", ".join(_fmt_h(h) for h in p.steps)
            title = (
                titles[k] if titles else (f"start $({p.start[0]:g}, {p.start[1]:g})$, $h = {hs}$")
            )
            ax.set_title(title)
            # inset: where the runs end
            ends = np.array(
                [p.gradient_flow[-1], *(g[-1] for g in p.gd), *(m[-1] for m in p.modified_flow)]
            )
            (x0, y0), (x1, y1) = _zoom_box(ends)
            where = [0.1, 0.56, 0.4, 0.4] if far else [0.56, 0.56, 0.4, 0.4]
            ins = ax.inset_axes(where, zorder=10)
            _valley(ins, model, x0, x1, label=False)
            _draw_paths(ins, p, 1)
            ins.set_xlim(x0, x1)
            ins.set_ylim(y0, y1)
            ins.tick_params(labelsize=7)
            ins.set_title("where the runs end", fontsize=8)
            ins.set_facecolor("white")
            ax.indicate_inset_zoom(ins, edgecolor="0.3")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, 0.0))
        fig.tight_layout(rect=(0, 0.12, 0.92, 1))
        cax = fig.add_axes([0.93, 0.3, 0.015, 0.5])
        cbar = fig.colorbar(cs, cax=cax)
        cbar.set_label(r"$\log_{10} E(a, b)$")
    return fig


def _sweep_panels(axes, model, sweep, col, *, lam=False):
    """Sharpness (row 0) and imbalance (row 1) of GD's limit against h (or λ = h/2)."""
    scale = 0.5 if lam else 1.0
    x = sweep.steps * scale
    stable = sweep.steps <= sweep.stability_limit
    ok = sweep.status == "converged"
    gf = sweep.gradient_flow_end
    for row, fn in enumerate((model.sharpness, model.imbalance)):
        ax = axes[row, col]
        y = fn(sweep.gd_end)
        ax.plot(x[ok & stable], y[ok & stable], "o", color=COLORS[1], label="GD limit", zorder=5)
        ax.plot(
            x[ok & ~stable],
            y[ok & ~stable],
            "o",
            mfc="none",
            color=COLORS[1],
            zorder=5,
            label="GD limit, unstable at the start",
        )
        ax.axhline(
            float(fn(gf)), color=GF_COLOR, lw=1.2, ls="-", label="gradient flow (closed form)"
        )
        if not lam:
            for order, ends in zip(sweep.orders, sweep.flow_end, strict=True):
                color, ls = FLOW_STYLES.get(order, (COLORS[6], "-"))
                ax.plot(
                    x, fn(ends), color=color, ls=ls, lw=1.8, label=f"modified flow, order {order}"
                )
        ax.axvline(
            sweep.stability_limit * scale,
            color="0.4",
            lw=1.0,
            ls=":",
            label="stability limit at the start",
        )
        if row == 0:
            ax.axhline(
                2 * model.x * model.y,
                color=COLORS[4],
                lw=1.0,
                ls=(0, (1, 1)),
                label="flattest minimum",
            )
    axes[0, col].set_ylabel("sharpness $x^2(a^2+b^2)$ at the limit")
    axes[1, col].set_ylabel("imbalance $a^2-b^2$ at the limit")


def _missing(ax, sweep, x):
    bad = sweep.status != "converged"
    if bad.any():
        ymin = ax.get_ylim()[0]
        ax.plot(
            x[bad],
            np.full(bad.sum(), ymin),
            "x",
            color="0.3",
            clip_on=False,
            ms=5,
            label="GD did not converge",
        )


def plot_flatness(model, sweeps):
    """Where GD ends against the learning rate, with gradient flow and modified-flow predictions
    (figure 3): columns are starts, rows are sharpness and imbalance a² − b².

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bea.models import TwoParameter
    >>> from bea.study import Settings, learning_rate_sweep
    >>> m = TwoParameter()
    >>> fig = plot_flatness(m, [learning_rate_sweep(m, m.start, Settings(True))])
    >>> [a.get_xlabel() for a in fig.axes]
    ['', 'learning rate $h$']
    """
    import matplotlib.pyplot as plt

    with style():
        n = len(sweeps)
        fig, axes = plt.subplots(2, n, figsize=(5.0 * n, 6.6), sharex="col", squeeze=False)
        for col, sw in enumerate(sweeps):
            _sweep_panels(axes, model, sw, col)
            _missing(axes[1, col], sw, sw.steps)
            axes[0, col].set_title(f"GD from $({sw.start[0]:g}, {sw.start[1]:g})$")
            axes[1, col].set_xlabel("learning rate $h$")
            axes[1, col].ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
        _shared_legend(fig, axes)
        fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def _shared_legend(fig, axes):
    seen = {}
    for ax in axes.ravel():
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    fig.legend(
        list(seen.values()), list(seen), loc="lower center", ncol=3, bbox_to_anchor=(0.5, 0.0)
    )


def plot_regularization(model, sweeps, regularized):
    """Explicit gradient regularization against the implicit one (figure 5): the limit of
    gradient flow on E + μ R_IG against μ, next to GD's limit at its implicit rate λ = h/2, on
    the axes of figure 3.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bea.models import TwoParameter
    >>> from bea.study import Settings, explicit_regularization, learning_rate_sweep
    >>> m, s = TwoParameter(), Settings(True)
    >>> fig = plot_regularization(m, [learning_rate_sweep(m, m.start, s)],
    ...                           [explicit_regularization(m, m.start, s)])
    >>> fig.axes[1].get_xscale()
    'log'
    """
    import matplotlib.pyplot as plt

    with style():
        n = len(sweeps)
        fig, axes = plt.subplots(2, n, figsize=(5.0 * n, 6.6), sharex="col", squeeze=False)
        for col, (sw, reg) in enumerate(zip(sweeps, regularized, strict=True)):
            _sweep_panels(axes, model, sw, col, lam=True)
            for row, fn in enumerate((model.sharpness, model.imbalance)):
                axes[row, col].plot(
                    reg.mus,
                    fn(reg.end),
                    color=COLORS[0],
                    lw=2.0,
                    marker=".",
                    ms=5,
                    label=r"gradient flow on $E + \mu R_{IG}$ (explicit, $\lambda = \mu$)",
                )
                axes[row, col].set_xscale("log")
            axes[0, col].set_title(f"from $({sw.start[0]:g}, {sw.start[1]:g})$")
            axes[1, col].set_xlabel(
                r"regularization rate $\lambda$ (GD: implicit, $\lambda = h/2$)"
            )
        _shared_legend(fig, axes)
        fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def plot_rig(model, rig):
    """R_IG/E along GD paths for several learning rates (figure 4, the paper's Prediction 2.1),
    against time and against the loss (the fair comparison: equal loss, different h).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bea.models import TwoParameter
    >>> from bea.study import Settings, rig_along_path
    >>> m = TwoParameter()
    >>> fig = plot_rig(m, rig_along_path(m, m.start, [0.01, 0.05], Settings(True)))
    >>> bool(fig.axes[1].xaxis_inverted())
    True
    """
    import matplotlib.pyplot as plt

    with style():
        fig, (ax_t, ax_e) = plt.subplots(1, 2, figsize=(10.0, 4.4), sharey=True)
        palette = [COLORS[k] for k in (5, 1, 2, 3, 4, 6)]
        for k, (h, E, ratio) in enumerate(zip(rig.steps, rig.loss, rig.ratio, strict=True)):
            color = palette[k % len(palette)]
            t = h * np.arange(E.size)
            label = f"GD, $h = {_fmt_h(h)}$"
            ax_t.plot(t, ratio, color=color, lw=1.5, label=label)
            ax_e.plot(E, ratio, color=color, lw=1.5, label=label)
        ax_e.plot(
            rig.gradient_flow_loss,
            rig.gradient_flow_ratio,
            color=GF_COLOR,
            lw=1.2,
            ls="--",
            label="gradient flow",
        )
        ax_t.axhline(
            rig.gradient_flow_ratio[-1],
            color=GF_COLOR,
            lw=1.2,
            ls="--",
            label="gradient flow's limit",
        )
        ax_t.set_xlim(0, 1.5)  # the paths settle by t ≈ 1; the plateaus are their limits
        ax_t.set_xlabel("time $t = nh$")
        ax_t.set_ylabel(r"$R_{IG}/E = x^2(a^2+b^2)$")
        ax_t.set_title("along the path")
        ax_e.set_xscale("log")
        ax_e.invert_xaxis()
        ax_e.set_xlabel("loss $E$ (decreasing to the right)")
        ax_e.set_title("at equal loss")
        ax_e.legend(loc="upper right")
        fig.suptitle(
            rf"$R_{{IG}}/E$ along GD from $({rig.start[0]:g}, {rig.start[1]:g})$: larger $h$, "
            "smaller ratio (Prediction 2.1)",
            fontsize=11,
        )
        fig.tight_layout()
    return fig


def plot_curl(model, curl):
    """The curl of the order-2 modified field over the plane, with its exact zero set (figure 6).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from bea.models import TwoParameter
    >>> from bea.study import Settings, curl_order2
    >>> m = TwoParameter()
    >>> fig = plot_curl(m, curl_order2(m, Settings(True)))
    >>> fig.axes[0].get_xlabel()
    '$a$'
    """
    import matplotlib.pyplot as plt
    import sympy as sp

    with style():
        fig, ax = plt.subplots(figsize=(6.4, 5.6))
        peak = float(np.nanmax(np.abs(curl.curl)))
        norm = SymLogNorm(linthresh=max(peak * 1e-3, 1e-300), vmin=-peak, vmax=peak, base=10)
        mesh = ax.pcolormesh(
            curl.a, curl.b, curl.curl, cmap="PuOr_r", norm=norm, shading="auto", rasterized=True
        )
        cbar = fig.colorbar(mesh, ax=ax, shrink=0.85)
        cbar.set_label(r"curl $f_2 = \partial_a f_2^{(b)} - \partial_b f_2^{(a)}$ (symlog)")
        lo, hi = curl.a[0], curl.a[-1]
        ax.plot([lo, hi], [lo, hi], color="black", lw=1.0, ls="--")
        ax.plot([lo, hi], [hi, lo], color="black", lw=1.0, ls="--", label="$a = \\pm b$")
        for sign in (1, -1):
            a = sign * np.geomspace(abs(model.y / model.x) / hi, hi, 300)
            ax.plot(
                a,
                model.valley(a),
                color="black",
                lw=1.0,
                ls=":",
                label="minima $ab = y/x$" if sign == 1 else None,
            )
        _flat_star(ax, model)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.grid(False)
        ax.set_xlabel("$a$")
        ax.set_ylabel("$b$")
        expr = sp.latex(curl.expr)
        ax.set_title(f"Order 2 is not a gradient: curl $f_2 = {expr}$", fontsize=9.5)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
        fig.tight_layout()
    return fig
