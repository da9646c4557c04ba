"""Tokenworld's toolkit: run Vensim models through PySD, with scenarios, policies, loops and ensembles."""

__version__ = "0.1.0"
