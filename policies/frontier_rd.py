"""Frontier R&D: public research that speeds up the AI inference frontier.

Seed 000 (section 9.1): policy that accelerates the frontier raises the growth rate g_T and so
long-run productivity growth by phi times what it adds — a growth effect. In integrated mode the
same boost speeds up inference algorithms and hardware price-performance, which approach their
ceilings: physical limits turn the growth effect into a level effect in the long run.
"""

from sdlib.core.policy import Effect, Policy, standard_arguments

POLICY = Policy(
    name="frontier-rd",
    summary="public R&D that raises the growth of the token frontier (a growth effect)",
    doc=__doc__,
    seed="000 (section 9.1)",
    arguments=standard_arguments("1/Year", 0, 0.5, 0.05, "frontier growth rate the R&D adds"),
    effects=[Effect("frontier research growth boost", "add", lambda a, p, base: a["size"] * p)],
)
