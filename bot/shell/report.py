"""``copbot report``: the KPI report for the national office, read from the database
(``DATABASE_URL``) and written as Markdown, CSV, a PNG chart or an Excel workbook."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TextIO

from flows.kpi_report import Format, ReportFile, UnknownCommunity, national_report
from storage.db import Database

UNKNOWN_EXIT = 2  # an unknown community, as for any other wrong argument
BINARY = ("png", "xlsx")


async def _report(url: str | None, year: int, community: str | None, fmt: Format) -> ReportFile:
    db = Database(url)
    try:
        async with db.reading() as session:
            return await national_report(session, year, community, fmt)
    finally:
        await db.dispose()


def run_report(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Write the report where ``--out`` says (Markdown and CSV to the screen without it; a chart
    or a workbook to its own file name); a year with nothing stored says so."""
    try:
        made = asyncio.run(_report(os.environ.get("DATABASE_URL"), args.year, args.community, args.format))
    except UnknownCommunity as error:
        print(f"copbot: {error}", file=err)
        return UNKNOWN_EXIT
    if made.empty:
        print(made.text, file=err)
    target = args.out or (made.filename if args.format in BINARY else None)
    if target is None:
        out.write(made.data.decode("utf-8"))
        return 0
    Path(target).write_bytes(made.data)
    print(f"Wrote {target}.", file=err)
    return 0
