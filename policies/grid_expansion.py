"""Grid expansion: faster grid connections and more room for data centres on the grid.

Seed 004 (section 3.2) and DESIGN.md 2.E: US interconnection takes about five years and
transformers two to four; power, not chips, becomes the binding constraint for AI in the medium
term (seed 003). The lever cuts the connection lead time by `size` and can raise the share of
generation AI may claim.
"""

from sdlib.core.policy import Argument, Effect, Policy, standard_arguments

POLICY = Policy(
    name="grid-expansion",
    summary="shorter grid-connection lead times and more grid room for AI",
    doc=__doc__,
    seed="004 (section 3.2); 003 (energy anchor)",
    arguments=standard_arguments("Dmnl", 0, 0.8, 0.5, "share by which the grid-connection lead time is cut")
    + [Argument("share_boost", "Dmnl", 0, 0.5, 0.0, "added maximum AI share of generation")],
    effects=[
        Effect("grid connection lead time", "multiply", lambda a, p, base: 1 - a["size"] * p),
        Effect("maximum AI share of generation", "add", lambda a, p, base: a["share_boost"] * p),
    ],
)
