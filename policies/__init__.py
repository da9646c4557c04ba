"""Tokenworld's policy levers, one module per lever; each defines `POLICY` (see sdlib.policy)."""
