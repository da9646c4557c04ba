"""What `tokenworld list` shows: scenarios, policies with their arguments, parameters."""

from __future__ import annotations

from .modelspec import load_spec
from .paths import DEFAULT_MODEL, display_path
from .registry import parameters
from .scenario import load_scenario, scenario_files


def listing() -> dict:
    scenarios = []
    for name in scenario_files():
        scenario = load_scenario(name)
        scenarios.append({
            "name": name,
            "description": scenario.description,
            "extends": scenario.chain,
            "model": display_path(scenario.model),
            "policies": [p["name"] for p in scenario.policies],
        })
    spec = load_spec(DEFAULT_MODEL)
    return {
        "scenarios": scenarios,
        "policies": _policies(),
        "parameters": [p.as_dict() for p in sorted(parameters(spec).values(), key=lambda p: p.name.lower())],
        "model": display_path(DEFAULT_MODEL),
    }


def _policies() -> list[dict]:
    try:
        from .policy import available_policies
    except ImportError:
        return []
    return [policy.describe() for policy in available_policies().values()]


def print_listing(data: dict) -> None:
    print("Scenarios (runs/):")
    width = max((len(s["name"]) for s in data["scenarios"]), default=8) + 2
    for s in data["scenarios"]:
        print(f"  {s['name']:<{width}}{s['description']}")
    print("\nPolicies (policies/):")
    for p in data["policies"]:
        args = ", ".join(f"{a['name']} [{a['low']:g}..{a['high']:g}] {a['units']}".rstrip() for a in p["arguments"])
        print(f"  {p['name']:<20} {p['summary']}\n  {'':<20} arguments: {args}")
    if not data["policies"]:
        print("  (none)")
    print(f"\nParameters of {data['model']} (value, units, range):")
    for p in data["parameters"]:
        low, high = ("?" if v is None else f"{v:g}" for v in p["range"])
        print(f"  {p['name']:<42} {p['value']:<12g} {p['units']:<24} [{low}, {high}]")
