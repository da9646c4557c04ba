"""The command lines the explorer shows: what reproduces a view in a terminal."""

from __future__ import annotations

import shlex


def settings_arguments(settings: dict) -> list[str]:
    """The settings ({"set", "policies", "final_time"}) as `tokenworld` options."""
    parts = []
    for name, value in settings["set"].items():
        parts += ["--set", f"{name}={value!r}"]
    for policy in settings["policies"]:
        args = ",".join(f"{k}={v!r}" for k, v in policy.items() if k != "name")
        parts += ["--policy", policy["name"] + (f":{args}" if args else "")]
    if settings["final_time"] is not None:
        parts += ["--final-time", repr(settings["final_time"])]
    return parts


def command_line(settings: dict, engine: str) -> str:
    """The `tokenworld run` command that reproduces these settings (on the same engine)."""
    return shlex.join(["tokenworld", "run", settings["scenario"], *settings_arguments(settings), "--engine", engine])


def ensemble_command(settings: dict, varied: list[str], charts: list[str], n: int, seed: int) -> str:
    """The `tokenworld ensemble` command that runs the same ensemble (its folder holds every run)."""
    parts = ["tokenworld", "ensemble", settings["scenario"], "--n", str(n), "--method", "lhs", "--seed", str(seed)]
    for name in varied:
        parts += ["--vary", name]
    for name in charts:
        parts += ["--outcome", name]
    return shlex.join(parts + settings_arguments(settings))
