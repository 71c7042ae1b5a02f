"""`copbot chat`: one community in this terminal, on the terminal adapter (`adapters.console`).
Reads stdin line by line, so a scripted meeting can be piped in.

The community is named by ``--community`` on a new database, or by a first `/cop setup <name>`;
otherwise the first line makes a "Terminal" community. A co-chair renames it with `/cop rename`."""

from __future__ import annotations

import asyncio
import functools
import io
import os
from pathlib import Path
from typing import IO

from adapters.console import BANNER, PLACE, ConsoleSender, ConsoleSession, TerminalClock
from bot.delivery import Pace
from bot.shell.runtime import Runtime
from bot.shell.serve import keep_from
from bot.vocabulary.national_office import national_office_from_env
from storage.community import community_for
from storage.db import Database, default_sqlite_path
from storage.post_numbers import next_number

DEFAULT_COMMUNITY = "Terminal"
NAMED_ALREADY = (
    "(This terminal's community is called “{name}” already; `--community` only names a new one. "
    "A co-chair can rename it with /cop rename <new name>.)"
)


async def run_console(
    stdin: IO[str],
    stdout: IO[str],
    *,
    db_path: str | None = None,
    community: str = "",
    database_url: str | None = None,
    files_dir: str | None = None,
) -> int:
    national_office = national_office_from_env(os.environ)  # refused before anything starts
    url = database_url or (f"sqlite:///{db_path}" if db_path else os.environ.get("DATABASE_URL"))
    keep = keep_from(os.environ)  # a malformed setting is refused before anything is opened
    db = Database(url)
    await db.migrate()
    clock = TerminalClock()
    runtime = Runtime(db, clock, keep=keep, national_office=national_office)
    await runtime.housekeeping()  # no scheduler here: what is past its time goes at each start
    files = Path(files_dir) if files_dir else default_sqlite_path().parent / "files"
    numbers = functools.partial(next_number, db)  # #n is unique in the database, across restarts
    runtime.connect("console", ConsoleSender(stdout, files, numbers), Pace(limits=()))
    session = ConsoleSession(runtime, stdout, community or DEFAULT_COMMUNITY, clock)
    if isinstance(stdin, io.TextIOWrapper):
        # What is typed or piped in may not be valid UTF-8: decode with replacement characters
        # and keep the line, rather than stop the meeting.
        stdin.reconfigure(encoding="utf-8", errors="replace")
    stdout.write(BANNER.format(name=session.actor.name) + "\n")
    async with db.transaction() as kept:
        existing = await community_for(kept, PLACE)
    if existing is not None and community and existing.name.casefold() != community.casefold():
        stdout.write(NAMED_ALREADY.format(name=existing.name) + "\n")
    interactive = stdin.isatty()
    loop = asyncio.get_running_loop()
    try:
        while True:
            if interactive:
                stdout.write(f"{session.actor.name}> ")
                stdout.flush()
            raw = await loop.run_in_executor(None, stdin.readline)
            if not raw:
                break
            if not await session.line(raw):
                break
    finally:
        await runtime.drain()
        await db.dispose()
    return 0
