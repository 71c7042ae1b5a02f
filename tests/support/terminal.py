"""The terminal channel for tests: a script of lines piped into `copbot chat`, as a user would."""

from __future__ import annotations

import io
from pathlib import Path

from bot.shell.chat import run_console
from tests.support.databases import migrated_sqlite_file


class Lines(io.StringIO):
    """Piped input (not a terminal: no prompt is printed)."""

    def isatty(self) -> bool:
        return False


async def run_script(script: str, folder: Path, community: str = "") -> str:
    """Run ``script`` through `copbot chat` with its database and files in ``folder``; the screen.
    A new database starts as a copy of the run's migrated schema (`copbot chat` finds it at head)."""
    out = io.StringIO()
    if not (folder / "cop.db").exists():
        await migrated_sqlite_file(folder / "cop.db")
    await run_console(Lines(script), out, db_path=str(folder / "cop.db"), community=community, files_dir=str(folder))
    return out.getvalue()
