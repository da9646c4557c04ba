"""Public efficiency R&D: open prompt libraries, retrieval and context-management research.

Seed 000 (section 8, remark on eq. 21-22): token efficiency knowledge E multiplies the productivity
of every token; if it spills over, private firms underinvest and public spending raises E for all.
The spending enters R_E in eq. 21 beside the private share s_E of output.
"""

from sdlib.core.policy import Effect, Policy, standard_arguments

POLICY = Policy(
    name="efficiency-rd",
    summary="public spending on token efficiency knowledge, which spills over to all developers",
    doc=__doc__,
    seed="000 (section 8, eq. 21-22)",
    arguments=standard_arguments("$/Year", 0, 1e12, 1e9, "public efficiency research spending"),
    effects=[Effect("public efficiency research spending", "add", lambda a, p, base: a["size"] * p)],
)
