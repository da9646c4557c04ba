"""`tokenworld list`: scenarios, policies with their arguments, parameters."""

from __future__ import annotations

import json


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def listing() -> dict:
    import sdlib
    from sdlib.core.paths import display_path

    scenarios = [{"name": name, "description": s.description, "extends": s.chain, "model": display_path(s.model),
                  "policies": [p["name"] for p in s.policies]} for name, s in sdlib.scenarios().items()]
    model = sdlib.Model.load()
    return {
        "scenarios": scenarios,
        "policies": [policy.describe() for policy in sdlib.policies().values()],
        "parameters": [p.as_dict() for p in sorted(model.parameters.values(), key=lambda p: p.name.lower())],
        "model": display_path(model.path),
    }


def print_listing(data: dict) -> None:
    print("Scenarios (runs/):")
    width = max((len(s["name"]) for s in data["scenarios"]), default=8) + 2
    for s in data["scenarios"]:
        print(f"  {s['name']:<{width}}{s['description']}")
    print("\nPolicies (policies/):")
    for p in data["policies"]:
        args = ", ".join(f"{a['name']} {_range(a['low'], a['high'])} {a['units']}".rstrip() for a in p["arguments"])
        print(f"  {p['name']:<20} {p['summary']}\n  {'':<20} arguments: {args}")
    if not data["policies"]:
        print("  (none)")
    print(f"\nParameters of {data['model']} (value, units, range):")
    for p in data["parameters"]:
        low, high = ("?" if v is None else f"{v:g}" for v in p["range"])
        print(f"  {p['name']:<42} {p['value']:<12g} {p['units']:<24} [{low}, {high}]")


def _range(low, high) -> str:
    return "[within the run]" if low is None else f"[{low:g}..{high:g}]"


def main(args) -> int:
    data = listing()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print_listing(data)
    return 0
