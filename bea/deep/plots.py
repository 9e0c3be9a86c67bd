"""Figures of the Section-5 study, one function each, from :func:`bea.deep.study.table` rows.

Every figure names the data it was made on (a stand-in for the paper's MNIST/CIFAR-10) and the
paper's figure or prediction it mirrors; runs that never reached 100 % training accuracy are drawn
hollow, diverged runs are left out and counted in the title.
"""

from __future__ import annotations

import numpy as np

from ..plots.style import COLORS, style

__all__ = [
    "plot_accuracy_vs_lambda",
    "plot_egr",
    "plot_rig_along_training",
    "plot_rig_vs_lambda",
    "plot_robustness",
]


def _widths(rows):
    return sorted({r["width"] for r in rows})


def _label(rows, w) -> str:
    m = next(r["parameters"] for r in rows if r["width"] == w)
    return f"w = {w} (m = {m:,})"


def _grid_rows(rows):
    return [r for r in rows if r["mu_units"] == 0]


def _scatter_vs_lambda(ax, rows, key, *, log_y=False):
    grid = _grid_rows(rows)
    for i, w in enumerate(_widths(grid)):
        color = COLORS[i % len(COLORS)]
        mine = [r for r in grid if r["width"] == w and not r["diverged"] and r[key] is not None]
        ok = [r for r in mine if r["rule_met"]]
        bad = [r for r in mine if not r["rule_met"]]
        ax.scatter(
            [r["lambda"] for r in ok], [r[key] for r in ok], s=14, color=color, alpha=0.55, lw=0
        )
        if bad:
            ax.scatter(
                [r["lambda"] for r in bad],
                [r[key] for r in bad],
                s=22,
                facecolors="none",
                edgecolors=color,
            )
        lams = sorted({r["lambda"] for r in ok})
        means = [
            (np.exp(np.mean(np.log(v))) if log_y else np.mean(v))
            for v in ([r[key] for r in ok if r["lambda"] == lam] for lam in lams)
        ]
        ax.plot(lams, means, "o-", color=color, label=_label(rows, w))
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("λ = h m / 4")


def _title(rows, data_name, what):
    n_div = sum(r["diverged"] for r in _grid_rows(rows))
    extra = f"; {n_div} diverged run(s) not shown" if n_div else ""
    return (
        f"{what}\n{data_name} (stand-in for the paper's MNIST), MLP [d, w, w, k], tanh,\n"
        f"full-batch GD, float32{extra}"
    )


def _legend(ax, rows):
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    if any(not r["rule_met"] for r in rows if not r["diverged"]):
        handles.append(Line2D([], [], ls="", marker="o", mfc="none", mec="0.3"))
        labels.append("never 100 % train accuracy")
    handles.append(Line2D([], [], ls="", marker="o", color="0.5", alpha=0.55))
    labels.append("one seed (lines: mean over seeds)")
    ax.legend(handles, labels, loc="best")


def plot_rig_vs_lambda(rows, data_name="digits"):
    """R_IG at the best iterate against λ, log–log, coloured by size (the paper's Figure 2, left).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> rows = [{"width": 8, "parameters": 698, "lambda": x, "r_ig": 1e-6 / x, "mu_units": 0.0,
    ...          "diverged": False, "rule_met": True} for x in (10.0, 100.0)]
    >>> plot_rig_vs_lambda(rows).axes[0].get_xscale()
    'log'
    """
    import matplotlib.pyplot as plt

    with style():
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
        _scatter_vs_lambda(ax, rows, "r_ig", log_y=True)
        ax.set_ylabel("R_IG = ‖∇E‖²/m at the best iterate")
        ax.set_title(_title(rows, data_name, "Mirrors Figure 2 (left): R_IG at max test accuracy"))
        _legend(ax, rows)
        fig.tight_layout()
    return fig


def plot_accuracy_vs_lambda(rows, data_name="digits"):
    """Test accuracy at the best iterate against λ (the paper's Figure 2, right).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> rows = [{"width": 8, "parameters": 698, "lambda": x, "test_accuracy": 0.9,
    ...          "mu_units": 0.0, "diverged": False, "rule_met": True} for x in (10.0, 100.0)]
    >>> plot_accuracy_vs_lambda(rows).axes[0].get_ylabel()
    'best test accuracy'
    """
    import matplotlib.pyplot as plt

    with style():
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
        _scatter_vs_lambda(ax, rows, "test_accuracy")
        ax.set_ylabel("best test accuracy")
        ax.set_title(_title(rows, data_name, "Mirrors Figure 2 (right): max test accuracy"))
        _legend(ax, rows)
        fig.tight_layout()
    return fig


def plot_robustness(rows, sigmas, data_name="digits"):
    """Test accuracy under Gaussian parameter noise θ_best + σε against λ, one panel per σ
    (the paper's robustness experiment, Prediction 2.4).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> rows = [{"width": 8, "parameters": 698, "lambda": l, "robust_0.1": 0.8, "mu_units": 0.0,
    ...          "diverged": False, "rule_met": True} for l in (10.0, 100.0)]
    >>> len(plot_robustness(rows, (0.1,)).axes)
    1
    """
    import matplotlib.pyplot as plt

    sigmas = list(sigmas)
    with style():
        fig, axes = plt.subplots(
            1, len(sigmas), figsize=(3.3 * len(sigmas) + 0.6, 3.9), squeeze=False
        )
        for ax, s in zip(axes[0], sigmas, strict=True):
            _scatter_vs_lambda(ax, rows, f"robust_{s:g}")
            ax.set_title(f"σ = {s:g}")
        axes[0][0].set_ylabel("test accuracy of θ_best + σε\n(mean over noise draws)")
        axes[0][-1].legend(*axes[0][-1].get_legend_handles_labels(), loc="best")
        fig.suptitle(
            _title(rows, data_name, "Mirrors Section 5's robustness test (Prediction 2.4)"),
            fontsize=10,
        )
        fig.tight_layout()
    return fig


def plot_egr(rows, sigma=0.1, data_name="digits"):
    """The EGR arm: R_IG and noisy test accuracy at the best iterate against μ (in units of
    λ_edge), μ = 0 being plain GD at the same small learning rate (Section 5's explicit
    regularization experiment).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> rows = [{"width": 8, "parameters": 698, "fraction": 0.1, "mu_units": u,
    ...          "r_ig": 1e-7 / (1 + u), "robust_0.1": 0.9 + u / 100, "diverged": False,
    ...          "rule_met": True, "seed": 0} for u in (0.0, 1.0)]
    >>> len(plot_egr(rows).axes)
    2
    """
    import matplotlib.pyplot as plt

    egr_widths = sorted({r["width"] for r in rows if r["mu_units"] > 0})
    small = min((r["fraction"] for r in rows if r["mu_units"] > 0), default=None)
    key = f"robust_{sigma:g}"
    with style():
        fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.9))
        for i, w in enumerate(egr_widths):
            color = COLORS[(_widths(rows).index(w)) % len(COLORS)]
            mine = [
                r for r in rows if r["width"] == w and r["fraction"] == small and not r["diverged"]
            ]
            units = sorted({r["mu_units"] for r in mine})
            pos = {u: j for j, u in enumerate(units)}
            for ax, k, log in ((axes[0], "r_ig", True), (axes[1], key, False)):
                xs = [pos[r["mu_units"]] + 0.06 * (i - 0.5) for r in mine]
                ax.scatter(xs, [r[k] for r in mine], s=14, color=color, alpha=0.55, lw=0)
                vals = [[r[k] for r in mine if r["mu_units"] == u] for u in units]
                agg = [np.exp(np.mean(np.log(v))) if log else np.mean(v) for v in vals]
                ax.plot(range(len(units)), agg, "o-", color=color, label=_label(rows, w))
                ax.set_xticks(range(len(units)), [f"{u:g}" for u in units])
                ax.set_xlabel("μ / λ_edge   (0: plain GD)")
                if log:
                    ax.set_yscale("log")
        axes[0].set_ylabel("R_IG at the best iterate")
        axes[1].set_ylabel(f"test accuracy under noise σ = {sigma:g}")
        axes[1].legend(loc="best")
        fig.suptitle(
            "Mirrors Section 5's explicit regularization: GD on E + μ R_IG at h = "
            f"{small:g} × edge\n{data_name} (stand-in for MNIST); λ_edge = (2/λ_max) m / 4, "
            "the implicit rate at the stability edge; float32",
            fontsize=10,
        )
        fig.tight_layout()
    return fig


def plot_rig_along_training(histories, data_name="digits", width=None):
    """R_IG/E against the loss E along training at several learning rates (Prediction 2.1: at
    equal loss, larger h keeps R_IG smaller relative to E).

    Parameters
    ----------
    histories : list of (label, history dict)

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> h = {"loss": [2.0, 1.0, 0.1], "r_ig": [1e-3, 1e-4, 1e-6]}
    >>> plot_rig_along_training([("h = 0.1", h)]).axes[0].get_xscale()
    'log'
    """
    import matplotlib.pyplot as plt

    with style():
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for i, (label, h) in enumerate(histories):
            loss = np.asarray(h["loss"], dtype=float)
            rig = np.asarray(h["r_ig"], dtype=float)
            ok = (loss > 0) & (rig > 0)
            ax.plot(loss[ok], rig[ok] / loss[ok], ".-", color=COLORS[i % len(COLORS)], label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("training loss E (training runs left to right)")
        ax.set_ylabel("R_IG / E")
        ax.set_title(
            "Mirrors Prediction 2.1: R_IG relative to E along training\n"
            f"{data_name} (stand-in for MNIST), "
            + (f"MLP [d, {width}, {width}, k], " if width else "")
            + "full-batch GD, float32, first seed"
        )
        ax.legend(loc="best")
        fig.tight_layout()
    return fig
