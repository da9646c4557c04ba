"""`tokenworld check [SCENARIO...] [--json FILE]`: the model's identities and reality checks, pass or miss.

Exit codes: 0 when every check asked for passes, 1 when something misses (a finding, not bad input),
2 on bad input.
"""

from __future__ import annotations

import json
import math


def add_arguments(p) -> None:
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="scenario names or .toml files (default: every scenario in runs/); the extreme "
                        "conditions built on them run too")
    p.add_argument("--json", metavar="FILE", help="also write every check as JSON: {\"checks\": [...]}")
    p.add_argument("--final-time", metavar="YEAR", help="run scenarios to this year (default: the checks file's)")
    p.add_argument("--engine", default="pysd", choices=["pysd", "batch"], help="simulation engine (default pysd)")
    p.add_argument("--all", action="store_true", help="print every check, not only the misses")


def _number(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.4g}"


def main(args) -> int:
    import sdlib
    from sdlib.core.rundir import check_output_file, json_text, write_file_atomic

    # Checked before the scenarios run: only a regular file (or nothing) is ever replaced.
    target = check_output_file(args.json, "--json") if args.json is not None else None
    data = sdlib.check(args.scenarios or None, final_time=args.final_time, engine=args.engine)
    table = data.to_dataframe()
    rows = table.to_dict("records")
    width = max([len(f"{r['scenario']}  {r['id']}") for r in rows] + [10])
    for r in rows:
        if args.all or not r["pass"]:
            where = f"{r['scenario']}  {r['id']}".ljust(width)
            print(f"{'pass' if r['pass'] else 'MISS'}  {where}  {r['variable'] or ''} {_number(r['year'])}: "
                  f"{_number(r['value'])} in [{_number(r['low'])}, {_number(r['high'])}] {r['detail'] or ''}".rstrip())
    print(f"{len(rows) - data.attrs['failed']} of {len(rows)} checks pass "
          f"({len(json.loads(data.attrs['scenarios']))} scenarios and their extreme conditions)")
    if target is not None:
        checks = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
        write_file_atomic(target, json_text({"checks": checks}), "--json")
    return 0 if data.attrs["failed"] == 0 else 1
