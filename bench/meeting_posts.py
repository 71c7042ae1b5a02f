"""How many posts a meeting makes: runs the scripted meeting (`docs/meeting.txt`, three
members) through `copbot chat` and counts the channel posts, the edits of posts in place, the
private messages and the "kept" marks (receipts a platform shows as a reaction, or not at all).

    python bench/meeting_posts.py [script]

Issue 11 asked for fewer posts; its closing note quotes this script's counts before and after.
"""

from __future__ import annotations

import asyncio
import io
import re
import sys
import tempfile
from pathlib import Path

from bot.shell.chat import run_console

SCRIPT = Path(__file__).parent.parent / "docs" / "meeting.txt"


class Lines(io.StringIO):
    def isatty(self) -> bool:
        return False


def counts(screen: str) -> dict[str, int]:
    return {
        "channel posts": len(re.findall(r"^#\d+ copbot(?: ↳ in reply to #\d+)?:$", screen, re.M)),
        "edits": len(re.findall(r"^#\d+ copbot \(updated\):$", screen, re.M)),
        "private messages": len(re.findall(r"^#\d+ copbot \(only .+ sees this\)", screen, re.M)),
        "kept marks": len(re.findall(r"^  ✓ kept$", screen, re.M)),
    }


async def main(script: Path) -> dict[str, int]:
    out = io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        await run_console(Lines(script.read_text()), out, db_path=f"{folder}/cop.db", files_dir=folder)
    return counts(out.getvalue())


if __name__ == "__main__":
    found = asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else SCRIPT))
    print(", ".join(f"{name}: {n}" for name, n in found.items()))
