"""How much load a run sends: the full run (issue 16's figures) and `--quick` (about 30 s)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    members: int  # distinct members who join (slash commands) and then answer and vote
    replies: int  # thread replies / Teams messages to one reflection step
    votes_per_member: int  # button presses per member (each a different topic; the budget is 3)
    burst: int  # members answering one step at once
    concurrency: int
    communities: int  # scale: communities with 50 members and a quarterly schedule each
    meeting_answers: int  # scale: answers in the meeting whose memory is measured

    def with_concurrency(self, concurrency: int) -> Sizes:
        return Sizes(**{**self.__dict__, "concurrency": concurrency})


FULL = Sizes(
    members=200, replies=1000, votes_per_member=3, burst=100, concurrency=20, communities=10_000, meeting_answers=1000
)
QUICK = Sizes(  # the burst stays 100: it is a target of its own
    members=20, replies=60, votes_per_member=1, burst=100, concurrency=20, communities=200, meeting_answers=60
)
