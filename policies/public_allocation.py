"""Public allocation of compute: a share of token capacity reserved for high-social-value questions.

Seed 004 (sections 5 and 8): the question budget is finite; questions in science, health and
education have social value above their private value (Arrow's information paradox), so some
public allocation is warranted. The reserved tokens show in `Public token share` and
`Public questions per person per day`; the market gets the rest of the capacity, and compute is
built for both.
"""

from sdlib.core.policy import Effect, Policy, standard_arguments

POLICY = Policy(
    name="public-allocation",
    summary="a share of token capacity allocated to science, health and education",
    doc=__doc__,
    seed="004 (sections 5 and 8)",
    arguments=standard_arguments("Dmnl", 0, 0.9, 0.1, "share of token capacity allocated publicly"),
    effects=[Effect("public allocation share", "add", lambda a, p, base: a["size"] * p)],
)
