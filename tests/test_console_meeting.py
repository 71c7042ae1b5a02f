"""A whole meeting end to end through the terminal channel, as `copbot chat < meeting.txt`."""

from __future__ import annotations

import io
from pathlib import Path

from bot.shell.chat import run_console
from tests.support.serve import run_copbot
from tests.support.terminal import Lines

SCRIPT = Path(__file__).parent.parent / "docs" / "meeting.txt"


async def test_whole_meeting_through_the_terminal(tmp_path):
    out = io.StringIO()
    await run_console(Lines(SCRIPT.read_text()), out, db_path=str(tmp_path / "cop.db"), community="North West")
    screen = out.getvalue()
    # support round → reflection → vote → next lead
    assert "Welcome to the North West Community of Practice" in screen
    assert "2 of the 3 here have shared so far. 1 passed." in screen
    assert "Shared without a name: asking for help" in screen
    assert "Step 6 of 6 — How would you deal with similar situations in future" in screen
    assert "Cara: Late: it happened on a ward" in screen  # a late reply to step 1 (post #10)
    assert "Thank you — kept under step 1 (What happened?)" in screen
    # step 6: an @owner and a date, and an answer marked "action:", are the two actions agreed
    assert "Cara: @Ben will draft a boundaries checklist by 2027-02-14 — action for Ben (answer 4)" in screen
    assert "Ann: I will ask my supervisor by 31/01/2027 — action for Ann (answer 5)" in screen
    assert "Kept as an action for Ann, due Sunday 31 January 2027 — it will be on the next agenda." in screen
    assert "2 actions agreed; they will be on the next agenda." in screen
    assert "Our next lead topic: Speak Truth to Power" in screen
    assert "Cara will lead our next meeting" in screen
    assert "I don't know “bogus”" in screen
    assert "Traceback" not in screen


async def test_the_same_database_after_a_restart(tmp_path):
    db = str(tmp_path / "cop.db")
    first = io.StringIO()
    await run_console(Lines("/as Ann\n/cop reflect Peer work\nWhat happened to me\n"), first, db_path=db)
    second = io.StringIO()
    await run_console(Lines("/as Ann\n/cop next\n/cop end\n"), second, db_path=db)
    assert "Step 2 of 6" in second.getvalue()
    assert "Ann: What happened to me" in second.getvalue()


async def test_an_answer_in_the_action_plan_becomes_an_action_in_the_terminal(tmp_path):
    script = (
        "/clock 2026-11-26 10:00\n/as Ann\n/cop reflect Peer work\n"
        + "/cop next\n" * 5
        + "I will read the boundaries policy\n"  # kept in the plan: its receipt has the button
        "/as Ben\n/cop action 1\n"  # not Ben's answer, and Ben is no co-chair
        "/as Ann\n/cop action 1\n/cop action 1 by next month\n/cop end\n"
    )
    out = io.StringIO()
    await run_console(Lines(script), out, db_path=str(tmp_path / "cop.db"), community="North West")
    screen = out.getvalue()
    assert "Kept in our action plan — thank you." in screen
    assert "[Make this an action → /cop action 1]" in screen
    assert "Only the member who shared answer 1, or a co-chair, can make it an action." in screen
    assert "Kept as an action for Ann — it will be on the next agenda." in screen
    assert "The action for Ann (answer 1) is now due Saturday 26 December 2026." in screen
    assert "Ann: I will read the boundaries policy — action for Ann, due Saturday 26 December 2026" in screen
    assert "1 action agreed; it will be on the next agenda." in screen


def test_copbot_chat_reads_a_piped_script(tmp_path):
    script = "/as Ann\n/cop support\nasking for help\n/cop close\n/quit\n"
    done = run_copbot("chat", settings={"XDG_DATA_HOME": str(tmp_path)}, input=script)
    assert done.returncode == 0, done.stderr
    assert "Ann: asking for help" in done.stdout
    assert (tmp_path / "copbot" / "copbot.db").exists()  # the embedded default
    assert "asking for help" not in done.stderr
