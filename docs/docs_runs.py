"""What the docs builders share: a scenario's run through the public API, as a table."""

from __future__ import annotations

from types import SimpleNamespace

import sdlib


def run_scenario(scenario: str, **kwargs) -> SimpleNamespace:
    """`sdlib.run` with the one run as a pandas table (`.frame`), its `.status` and `.diverged_at`."""
    data = sdlib.run(scenario, progress=False, **kwargs)
    return SimpleNamespace(data=data, frame=sdlib.frame(data), status=data.attrs["status"],
                           diverged_at=data.attrs.get("diverged_at"))
