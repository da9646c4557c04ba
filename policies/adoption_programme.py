"""Adoption programme: help an economy adopt tokens earlier, and make AI known sooner.

Seed 000 (Proposition 2, section 9.1): under experience access the productivity gap between
adopters is phi g_T times the adoption delay, for ever, so adopting earlier narrows the token
divide permanently; under frontier access a late adopter catches up anyway and the programme only
speeds that up. Seed 003: awareness is a threshold of its own; outreach adds to its social
diffusion in integrated mode.
"""

from sdlib.core.policy import Argument, Effect, Policy, standard_arguments

POLICY = Policy(
    name="adoption-programme",
    summary="adopt tokens `size` years earlier (never before `start`) and add outreach",
    doc=__doc__,
    seed="000 (Proposition 2); 003 (awareness threshold)",
    arguments=standard_arguments("Year", 0, 50, 2, "years by which adoption is brought forward", start=2024)
    + [Argument("outreach", "1/Year", 0, 1, 0.02, "awareness outreach added (Bass innovation rate)")],
    effects=[
        Effect("adoption year", "min", lambda a, p, base: max(a["start"], base - a["size"])),
        Effect("awareness from outreach", "add", lambda a, p, base: a["outreach"] * p),
    ],
)
