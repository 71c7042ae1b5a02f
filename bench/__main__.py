"""`python -m bench [--quick] [--json FILE] [--only slack|teams|floors|scale] [--concurrency N]`:
runs the floors, `copbot serve` on SQLite and on PostgreSQL, and the scale check; prints the
table and the targets of issue 16, and writes everything as JSON (with the machine).

Run it from the repository's root (it uses the fakes in tests/fakes). PostgreSQL:
COPBOT_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432/test) is where throwaway
databases are created and dropped; if it cannot be reached, only SQLite is measured."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Coroutine
from dataclasses import asdict
from typing import Any

from bench import report, scale, targets
from bench.databases import postgres_reachable
from bench.machine import describe
from bench.sizes import FULL, QUICK

PARTS = ("floors", "slack", "teams", "scale")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run of about 30 seconds")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--only", action="append", choices=PARTS, help="run only this part (repeatable); default: all")
    parser.add_argument("--concurrency", type=int, help="requests in flight (default 20)")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK if args.quick else FULL
    if args.concurrency:
        sizes = sizes.with_concurrency(args.concurrency)
    parts = set(args.only or PARTS)
    platforms = parts & {"slack", "teams"}
    results: dict[str, Any] = {"machine": describe(), "quick": args.quick, "sizes": asdict(sizes)}
    kinds = ["sqlite"]
    if not args.sqlite_only:
        missing = await postgres_reachable()
        if missing:
            results["postgresql"] = f"not measured: {missing}"
        else:
            kinds.append("postgresql")
    started = time.monotonic()
    if "floors" in parts:
        floors = results.setdefault("floors", {})
        floors["bolt"] = await _part("floor: bare Bolt", targets.bolt_floor(sizes))
        floors["botbuilder"] = await _part("floor: bare botbuilder", targets.botbuilder_floor(sizes))
    for kind in kinds if platforms else []:
        doing = f"copbot serve on {kind}: {', '.join(sorted(platforms))}"
        results.setdefault("copbot", {})[kind] = await _part(doing, targets.copbot(kind, sizes, platforms))
    for kind in kinds if "scale" in parts else []:
        idle = 2.0 if args.quick else scale.IDLE_SECONDS
        measuring = scale.measure(kind, sizes.communities, sizes.meeting_answers, sizes.concurrency, idle)
        results.setdefault("scale", {})[kind] = await _part(
            f"scale on {kind}: {sizes.communities:,} communities", measuring
        )
    results["seconds"] = round(time.monotonic() - started, 1)
    report.ratios(results)
    results["verdicts"] = report.as_json(report.verdicts(results))
    return results


async def _part(what: str, work: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any] | str:
    """Run one part; a failure is reported in its place (and the other parts still run)."""
    print(f"… {what}", file=sys.stderr, flush=True)
    try:
        return await work
    except Exception as error:  # noqa: BLE001 — one part failing must not lose the others' figures
        print(f"… {what} failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return f"failed: {type(error).__name__}: {error}"


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    results = asyncio.run(run(args))
    machine = results["machine"]
    print(
        f"copbot benchmark, {machine['date']}: {machine['cores']} cores ({machine['cpu']}), {machine['ram_gb']} GB, "
        f"Python {machine['python']}; concurrency {results['sizes']['concurrency']}"
        f"{', quick' if args.quick else ''}; {results['seconds']} s"
    )
    print(report.table(results))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    failed = [
        v for part in ("floors", "copbot", "scale") for v in (results.get(part) or {}).values() if isinstance(v, str)
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
