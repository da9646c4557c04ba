"""Copper supply: faster mine permitting and more recycling.

Seed 004 (section 3.3): a major copper mine takes 15-20 years from discovery to production, and
in-use copper returns when equipment retires. The lever cuts the mine lead time by `size` and
raises the recycling rate of end-of-life copper by `recycling`.
"""

from sdlib.core.policy import Argument, Effect, Policy, standard_arguments

POLICY = Policy(
    name="copper-supply",
    summary="faster mine permitting (shorter lead time) and higher recycling",
    doc=__doc__,
    seed="004 (section 3.3)",
    arguments=standard_arguments("Dmnl", 0, 0.8, 0.3, "share by which the mine lead time is cut")
    + [Argument("recycling", "Dmnl", 0, 0.75, 0.1, "added share of end-of-life copper recycled")],
    effects=[
        Effect("mine lead time", "multiply", lambda a, p, base: 1 - a["size"] * p),
        Effect("copper recycling rate", "add", lambda a, p, base: a["recycling"] * p),
    ],
)
