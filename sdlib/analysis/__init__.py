"""Analyses of a model and its runs: causal graph, polarity, loops, Loops That Matter, ensembles, comparisons."""
