"""Figures: one shared style (:mod:`bea.plots.style`), one module per figure family."""
