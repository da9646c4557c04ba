"""`tokenworld compare RUN_OR_SCENARIO... --out DIR`: runs side by side, differences marked."""

from __future__ import annotations

from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN_OR_SCENARIO",
                   help="run folders or scenario names (run now); the first is the reference")
    p.add_argument("--out", required=True, metavar="DIR", help="comparison folder to create")
    p.add_argument("--years", default="2030,2050,2100", help="years of the table, comma-separated "
                   "(default 2030,2050,2100)")
    p.add_argument("--threshold", type=float, default=0.05,
                   help="relative difference from the reference that is marked (default 0.05 = 5%%)")
    p.add_argument("--indicator", action="append", default=None, metavar="NAME",
                   help="indicator to compare; repeatable (default: the model's headline indicators)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")


def main(args) -> int:
    import sdlib
    from sdlib.core.errors import BadInput

    try:
        years = [float(y) for y in args.years.split(",") if y.strip()]
    except ValueError:
        raise BadInput(f"--years {args.years!r}: expected years separated by commas, e.g. 2030,2050,2100") from None
    data = sdlib.compare(args.runs, indicators=args.indicator, years=years, threshold=args.threshold,
                         out=Path(args.out), plots=not args.no_plots)
    print(f"{int(data['marked'].sum())} differences from {data.attrs['reference']} above "
          f"{100 * args.threshold:g}% marked (comparison.md)")
    print(f"comparison folder: {data.attrs['folder']}")
    return 0
