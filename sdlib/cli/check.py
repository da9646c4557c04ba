"""`tokenworld check [SCENARIO...] [--json FILE]`: the model's identities, reality checks and published
anchors, pass or miss.

Exit codes: 0 when every check asked for passes (an anchor miss the checks file documents, with its
reason, is printed but not counted), 1 when something misses (a finding, not bad input), 2 on bad input.
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
    p.add_argument("--anchors", action="store_true",
                   help="check the published anchors (models/<model>-anchors.csv) on every scenario named, not "
                        "only on those the checks file lists as anchored (baseline)")


def _number(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.4g}"


def main(args) -> int:
    import sdlib
    from sdlib.core.rundir import check_output_file, json_text, write_file_atomic

    # Checked before the scenarios run: only a regular file (or nothing) is ever replaced.
    target = check_output_file(args.json, "--json") if args.json is not None else None
    data = sdlib.check(args.scenarios or None, final_time=args.final_time, engine=args.engine,
                       anchors=True if args.anchors else None)
    table = data.to_dataframe()
    rows = table.to_dict("records")
    width = max([len(f"{r['scenario']}  {r['id']}") for r in rows] + [10])
    for r in rows:
        if args.all or not r["pass"]:
            where = f"{r['scenario']}  {r['id']}".ljust(width)
            outside = f" ({r['distance']:+.2f} widths)" if r["kind"] == "anchor" and r["distance"] else ""
            year = "-" if r["year"] is None or math.isnan(r["year"]) else f"{r['year']:g}"
            print(f"{'pass' if r['pass'] else 'miss' if r['documented'] else 'MISS'}  {where}  {r['variable'] or ''} "
                  f"{year}: {_number(r['value'])} in [{_number(r['low'])}, {_number(r['high'])}]{outside} "
                  f"{r['detail'] or ''}".rstrip())
    anchors = [r for r in rows if r["kind"] == "anchor"]
    others = len(rows) - len(anchors)
    print(f"{sum(r['pass'] for r in rows if r['kind'] != 'anchor')} of {others} identities and reality checks pass "
          f"({len(json.loads(data.attrs['scenarios']))} scenarios and their extreme conditions)")
    if anchors:
        documented = sum(r["documented"] for r in anchors)
        print(f"{sum(r['pass'] for r in anchors)} of {len(anchors)} anchors pass"
              + (f"; {documented} documented misses (their reasons: the checks file's [[anchor_miss]])"
                 if documented else ""))
    if target is not None:
        checks = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
        write_file_atomic(target, json_text({"checks": checks}), "--json")
    return 0 if data.attrs["failed"] - data.attrs["documented"] == 0 else 1
