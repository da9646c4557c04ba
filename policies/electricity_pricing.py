"""Electricity pricing: charge data centres the marginal social cost of power.

Seed 004 (section 3.2): US industrial rates of 7-8 cents per kWh are the product of a century of
rate regulation and public investment, below the marginal social cost of generation; AI buys this
regulated input and sells tokens at unregulated prices. The lever raises the electricity price
data centres pay by `size` (0.4: 40% more), removing that implicit subsidy.
"""

from sdlib.core.policy import Effect, Policy, standard_arguments

POLICY = Policy(
    name="electricity-pricing",
    summary="data centres pay the marginal social cost of electricity",
    doc=__doc__,
    seed="004 (section 3.2)",
    arguments=standard_arguments("Dmnl", 0, 4, 0.4, "rise of the electricity price over the regulated rate"),
    effects=[Effect("electricity social cost factor", "add", lambda a, p, base: a["size"] * p)],
)
