"""The national office's commands for whoever runs the deployment: ``copbot members`` (the
member lists as CSV, or XLSX with one sheet per community) and ``copbot announce`` (an
announcement to every community channel, through the outbox `copbot serve` delivers)."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from bot.vocabulary.errors import UsageError
from flows import national
from storage import national as store
from storage.db import Database

XLSX_TITLE_CHARS = 31  # Excel's limit for a sheet's name
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    members = sub.add_parser("members", help="the member lists (name, role, community) as CSV or XLSX")
    members.add_argument("--community", help="one community (default: every community)")
    members.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="csv (default) or xlsx")
    members.add_argument("--out", help="file to write (default: standard output for csv; members.xlsx)")
    announce = sub.add_parser("announce", help="post an announcement to every active community channel once")
    announce.add_argument("text", nargs="+", help="the announcement's words")
    announce.add_argument("--on", help="the date of the event it tells of (repeated in each next-steps post)")


def members_xlsx(rows: Sequence[store.MemberRow], communities: Sequence[str]) -> bytes:
    """One sheet per community (name, role, community), in the order given."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.worksheets[0])  # the sheets are the communities'
    used: set[str] = set()
    for name in communities:
        title = name.translate(_SHEET_FORBIDDEN)[:XLSX_TITLE_CHARS] or "Community"
        while title.casefold() in used:
            title = title[: XLSX_TITLE_CHARS - 1] + "_"
        used.add(title.casefold())
        sheet = book.create_sheet(title)
        sheet.append(list(national.MEMBER_COLUMNS))
        for row in rows:
            if row.community == name:
                sheet.append(
                    [
                        national.spreadsheet_cell(row.name),
                        national.spreadsheet_cell(row.role),
                        national.spreadsheet_cell(row.community),
                    ]
                )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def members(args: argparse.Namespace, stdout: IO[str], database_url: str | None) -> int:
    db = Database(database_url)
    try:
        async with db.reading() as session:
            community = await national.community_from(session, args.community) if args.community else None
            rows = await store.member_rows(session, community)
            names = [community.name] if community else [c.name for c in await store.all_communities(session)]
    finally:
        await db.dispose()
    if args.format == "xlsx":
        out = Path(args.out or "members.xlsx")
        out.write_bytes(members_xlsx(rows, names))
        stdout.write(f"Wrote {len(rows)} members of {len(names)} communities to {out}.\n")
        return 0
    text = national.members_csv(rows)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        stdout.write(f"Wrote {len(rows)} members to {args.out}.\n")
    else:
        stdout.write(text)
    return 0


async def announce(args: argparse.Namespace, stdout: IO[str], database_url: str | None, now: datetime) -> int:
    words, day = national.announcement_words(" ".join(args.text) + (f" on {args.on}" if args.on else ""), now.date())
    if args.on and day is None:
        raise UsageError(f"I can't read the date “{args.on[:40]}”. Try e.g. 2027-06-12.")
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            sent = await national.send_announcement(session, words, day, now)
    finally:
        await db.dispose()
    stdout.write(sent.sentence() + "\n")
    return 0


async def run(args: argparse.Namespace, stdout: IO[str] | None = None, now: datetime | None = None) -> int:
    """``members`` or ``announce``; a clear line and exit code 2 for bad input."""
    stdout = stdout or sys.stdout
    url = os.environ.get("DATABASE_URL")
    try:
        if args.command == "members":
            return await members(args, stdout, url)
        return await announce(args, stdout, url, now or datetime.now(UTC))
    except UsageError as error:
        print(f"copbot: {error}", file=sys.stderr)
        return 2
