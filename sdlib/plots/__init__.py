"""Figures of runs, ensembles, loops and comparisons (matplotlib Figure objects, never pyplot)."""
