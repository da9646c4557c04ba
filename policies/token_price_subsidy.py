"""Token price subsidy: the public purse pays a share of the token price.

Seed 000 (Corollary 1, section 9.1): a permanent cut in the token price raises token intensity
and so the *level* of the productivity path, not its long-run growth. In integrated mode every
private buyer pays the subsidised price, and the model reports the fiscal cost
(`Token subsidy fiscal cost`).
"""

from sdlib.core.policy import Effect, Policy, standard_arguments

POLICY = Policy(
    name="token-price-subsidy",
    summary="public purse pays a share of the token price (a level effect)",
    doc=__doc__,
    seed="000 (Corollary 1, section 9.1)",
    arguments=standard_arguments("Dmnl", 0, 0.95, 0.5, "share of the token price paid by the public purse"),
    effects=[Effect("token price subsidy share", "add", lambda a, p, base: a["size"] * p)],
)
