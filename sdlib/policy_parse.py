"""Parse `--policy "NAME:key=value,..."` into the same form scenario files use."""

from __future__ import annotations

from .errors import BadInput


def parse_policy_args(items: list[str]) -> list[dict]:
    """Each item becomes {"name": NAME, key: value, ...}; values are checked by the policy itself."""
    policies = []
    for item in items or []:
        name, _, rest = item.partition(":")
        name = name.strip()
        if not name:
            raise BadInput(f"--policy {item!r}: expected POLICY[:key=value,...], e.g. token-price-subsidy:size=0.5")
        policy = {"name": name}
        for pair in filter(None, (p.strip() for p in rest.split(","))):
            if "=" not in pair:
                raise BadInput(f"--policy {item!r}: argument {pair!r} is not key=value")
            key, value = (s.strip() for s in pair.split("=", 1))
            try:
                policy[key] = float(value)
            except ValueError:
                policy[key] = value
        policies.append(policy)
    return policies
