"""The database tables, as SQLAlchemy 2 models. One row per answer, statement and vote, with
unique constraints so that retries, double clicks and two workers never count anything twice.

Rows that hold what members wrote: `SupportStatement.text`, `ReflectionAnswer.text`,
`ActionItem.text` (and ``close_reason``, ``resources``), `Topic.title` (a proposal),
`AgendaItem.text`, `TermsOfReferencePart.text` (a co-chair's wording of the Terms of
Reference), `TermsOfReferenceRound.text` (the Terms proposed, with members' names),
`UndeliveredPost.body`, and the group's vision (`Vision`, `VisionObjective`, which keep no
author). An anonymous answer has
``member_id`` NULL: its author is not stored anywhere. After the retention period
(`storage.member_texts`) the words are blanked and the rows, which the KPIs count, stay.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.states import (
    ActionStatus,
    AgendaItemStatus,
    LeadStatus,
    NominationStatus,
    OutboxStatus,
    RoundStatus,
    SessionStatus,
    TermsRoundStatus,
    VoteStatus,
    where,
)


class Base(DeclarativeBase):
    pass


def _open_only(name: str, *columns: str, where: str) -> Index:
    """A unique index over rows matching ``where`` (SQLite and PostgreSQL both support these)."""
    return Index(name, *columns, unique=True, sqlite_where=text(where), postgresql_where=text(where))


class Community(Base):
    __tablename__ = "communities"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    vote_budget: Mapped[int] = mapped_column(Integer, default=3)
    next_topic: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The co-chairs' own, shorter period for keeping what members wrote (`/cop retention`);
    # NULL: the deployment's (COPBOT_RETENTION_DAYS, `storage.member_texts`).
    retention_days: Mapped[int | None] = mapped_column(Integer)


class ChannelBinding(Base):
    """A Slack channel or Teams conversation bound to one community."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "channel_id", name="uq_channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # False once copbot was removed from the channel or the workspace (an uninstall, a revoked
    # token, a 403 or `channel_not_found` on delivery): nothing more is posted there.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    inactive_reason: Mapped[str | None] = mapped_column(String(64))
    inactive_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("community_id", "platform", "user_id", name="uq_member"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    lead_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When `/cop join` welcomed them (the day's welcome post names who joined that day); None
    # until then (the founder, or someone who only used another command so far).
    greeted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CoChairTerm(Base):
    """One co-chair's term; the current co-chairs are the terms with no ``replaced_on``."""

    __tablename__ = "chair_terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    months: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # the term's end (reviewed then too)
    review_on: Mapped[date] = mapped_column(Date)  # the review the Terms of Reference ask for (6 or 12 months)
    replaced_on: Mapped[date | None] = mapped_column(Date)


class ChairNomination(Base):
    """A member nominated (or volunteering) as co-chair while the community has fewer than two,
    numbered per community; its consent round is open until agreed or closed. One open
    nomination per nominee. ``nominated_by`` is NULL for a volunteer's own or once the
    nominator used forget-me."""

    __tablename__ = "chair_nominations"
    __table_args__ = (
        UniqueConstraint("community_id", "number", name="uq_chair_nomination_number"),
        _open_only("uq_open_chair_nomination", "community_id", "nominee_id", where=where(NominationStatus.OPEN)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    nominee_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    nominated_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=NominationStatus.OPEN.value)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChairConsent(Base):
    """One member's answer in a nomination's consent round: agree, stand-aside or object. A
    change of mind replaces it; the unique key makes a double click count once."""

    __tablename__ = "chair_consents"
    __table_args__ = (UniqueConstraint("nomination_id", "member_id", name="uq_chair_consent"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("chair_nominations.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TermsOfReferencePart(Base):
    """A free-text part of the community's Terms of Reference as a co-chair wrote it:
    ``purpose``, ``objective 2.1``–``objective 2.4`` or ``accountability`` (a part never set
    reads as the guide's template). ``set_by`` is NULL once that co-chair used forget-me."""

    __tablename__ = "tor_parts"
    __table_args__ = (UniqueConstraint("community_id", "part", name="uq_tor_part"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    part: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TermsOfReferenceRound(Base):
    """A consent round on the Terms of Reference as proposed (``text``, the Markdown of parts
    1–7; ``fingerprint`` its SHA-256; ``parts`` each part's SHA-256 as JSON, to say later which
    parts changed), numbered per community; one open at a time. Approval gives it the next
    ``version`` and the day (``approved_on``)."""

    __tablename__ = "tor_rounds"
    __table_args__ = (
        UniqueConstraint("community_id", "number", name="uq_tor_round_number"),
        UniqueConstraint("community_id", "version", name="uq_tor_version"),
        _open_only("uq_open_tor_round", "community_id", where=where(TermsRoundStatus.OPEN)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    parts: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=TermsRoundStatus.OPEN.value)
    version: Mapped[int | None] = mapped_column(Integer)
    approved_on: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TermsOfReferenceConsent(Base):
    """One member's answer in a Terms of Reference round: agree, stand-aside or object (a
    change of mind replaces it; the unique key makes a double click count once)."""

    __tablename__ = "tor_consents"
    __table_args__ = (UniqueConstraint("round_id", "member_id", name="uq_tor_consent"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("tor_rounds.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Meeting(Base):
    """One meeting of a community on one day: the parts of the agenda hang on it."""

    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("community_id", "held_on", name="uq_meeting_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    lead_topic: Mapped[str | None] = mapped_column(Text)


class SupportRound(Base):
    __tablename__ = "support_rounds"
    __table_args__ = (_open_only("uq_open_support_round", "community_id", where=where(RoundStatus.OPEN)),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=RoundStatus.OPEN.value)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SupportStatement(Base):
    """ "I will support myself today by …": one per member (edited in place), or a pass.
    ``answer_key`` is ``member:<id>`` for a named statement, ``anon:<hash of text>`` otherwise."""

    __tablename__ = "support_statements"
    __table_args__ = (UniqueConstraint("round_id", "answer_key", name="uq_statement"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("support_rounds.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    answer_key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str | None] = mapped_column(Text)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    edit_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reflection(Base):
    """A Gibbs reflective cycle on a topic; ``step`` is 1..6 while open."""

    __tablename__ = "reflections"
    __table_args__ = (_open_only("uq_open_reflection", "community_id", where=where(SessionStatus.OPEN)),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(Text)
    step: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.OPEN.value)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last next/back, and who made it: a typed `next` by someone else seconds later moves nothing.
    moved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    moved_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    # The furthest step posted (None: the current one): coming back to it updates its post.
    reached: Mapped[int | None] = mapped_column(Integer)


class ReflectionAnswer(Base):
    """One reply to one step. ``answer_key`` makes a retried or re-submitted answer count once."""

    __tablename__ = "reflection_answers"
    __table_args__ = (UniqueConstraint("reflection_id", "step", "answer_key", name="uq_reflection_answer"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reflection_id: Mapped[int] = mapped_column(ForeignKey("reflections.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    answer_key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    edit_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ActionItem(Base):
    """An action the group agreed: from step 6 of a reflection (``answer_id``) or added with
    `/cop actions add` (``answer_id`` NULL). Numbered per community; ``owner_id`` NULL means the
    group owns it. Done or dropped says who (``closed_by``, NULL once they used forget-me) and
    when; never deleted. ``horizon`` places it on the roadmap (short, medium, long)."""

    __tablename__ = "action_items"
    __table_args__ = (UniqueConstraint("community_id", "number", name="uq_action_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("reflection_answers.id", ondelete="CASCADE"), unique=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ActionStatus.OPEN.value)
    horizon: Mapped[str | None] = mapped_column(String(8))
    resources: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    close_reason: Mapped[str | None] = mapped_column(Text)


class ActionReminder(Base):
    """A private reminder of an action to its owner, claimed once: ``kind`` is ``before`` (two
    working days before) or ``due`` (on the day); ``due_on`` the date it reminded of, so a new
    date gets its own reminders."""

    __tablename__ = "action_reminders"
    __table_args__ = (UniqueConstraint("action_id", "kind", "due_on", name="uq_action_reminder"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action_items.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Topic(Base):
    """A candidate lead topic: from the guide's list or proposed by a member."""

    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("community_id", "title_key", name="uq_topic"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(String(255))
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    chosen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TopicVote(Base):
    """The vote on the next session's lead topic: open → (tied →) closed, or → cancelled. Only an
    open or tied vote counts as open: a new one can start after a close or a cancel."""

    __tablename__ = "topic_votes"
    __table_args__ = (_open_only("uq_open_topic_vote", "community_id", where=where(VoteStatus.OPEN, VoteStatus.TIED)),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=VoteStatus.OPEN.value)
    budget: Mapped[int] = mapped_column(Integer, default=3)
    winner_topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Ballot(Base):
    """One member's vote for one topic. Choosing again withdraws it (``active`` false)."""

    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("vote_id", "topic_id", "member_id", name="uq_ballot"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("topic_votes.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LeadTurn(Base):
    """Who leads the next meeting: proposed by the bot or volunteered, then confirmed by a
    co-chair. Confirmed rows are the rotation's history."""

    __tablename__ = "lead_turns"
    # Several volunteers may stand at once (the co-chairs choose), each member once.
    __table_args__ = (_open_only("uq_open_lead_turn", "community_id", "member_id", where=where(LeadStatus.PROPOSED)),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=LeadStatus.PROPOSED.value)
    volunteered: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProcessedEvent(Base):
    """A platform event id already handled: a retried or redelivered event is skipped."""

    __tablename__ = "processed_events"
    __table_args__ = (
        UniqueConstraint("platform", "event_id", name="uq_processed_event"),
        Index("ix_processed_event_seen", "seen_at"),  # the housekeeping purge reads by age
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PostRef(Base):
    """Which platform message a named post became (to update it or find its thread)."""

    __tablename__ = "post_refs"
    __table_args__ = (
        UniqueConstraint("platform", "channel_id", "key", name="uq_post_key"),
        Index("ix_post_ref", "platform", "channel_id", "ref"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(120))
    ref: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UndeliveredPost(Base):
    """A post a platform would not take after all retries: kept, never silently dropped. Its
    ``body`` (which may quote members) is cleared after a while (`storage.retention`), and
    forget-me deletes the posts only ``reader`` was to see and clears the bodies in the
    member's community's channels."""

    __tablename__ = "undelivered_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(255))
    reader: Mapped[str | None] = mapped_column(String(255))  # a private post's reader
    key: Mapped[str | None] = mapped_column(String(120))
    body: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConversationRef(Base):
    """A platform's serialised address of a conversation (Teams: the conversation reference),
    kept so that scheduled posts and summaries can be sent with no incoming message."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("platform", "channel_id", name="uq_conversation_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(255))
    reference: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxLane(Base):
    """A lane of the outbox: one channel's posts, or one member's private posts in a channel
    (``reader``; '' for the channel's own lane). A delivery worker holds a whole lane, never
    single posts: it claims the lane with a lease and bumps ``token``; every change it makes
    to the lane's posts checks that token, so a worker whose lane was taken changes nothing."""

    __tablename__ = "outbox_lanes"
    __table_args__ = (UniqueConstraint("platform", "channel_id", "reader", name="uq_outbox_lane"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(255))
    reader: Mapped[str] = mapped_column(String(255), default="")
    token: Mapped[int] = mapped_column(Integer, default=0)
    holder: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxPost(Base):
    """A post copbot decided to send, written in the same transaction as the change that made
    it (a transactional outbox), in its lane (`OutboxLane`). The worker holding the lane sends
    its posts in order, once, and keeps the platform's message id. A sent row loses its
    content (member text is not kept twice). ``attempts`` counts every start of a send,
    ``faults`` the ones that ended in an unexpected error or whose outcome is unknown (the
    worker died or lost the lane).

    ``slot`` is the post key of a pending update: one pending update per post, so a burst of
    updates coalesces into one row whose content is the latest."""

    __tablename__ = "outbox_posts"
    __table_args__ = (
        _open_only("uq_outbox_pending_update", "platform", "channel_id", "slot", where=where(OutboxStatus.PENDING)),
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_lane_head", "lane_id", "status", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    lane_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_lanes.id"))
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[str] = mapped_column(String(255), default="")
    key: Mapped[str | None] = mapped_column(String(120))
    slot: Mapped[str | None] = mapped_column(String(120))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    faults: Mapped[int] = mapped_column(Integer, default=0)
    message_ref: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LivingRecord(Base):
    """A channel's living record (on Slack, the channel canvas): the canvas id once copbot made
    it, or why this channel has none (``refused``: the workspace's plan or permissions, a canvas
    someone else made, or ours deleted twice), said once to the co-chairs. ``remade``: ours was
    deleted once and made again. Holds no member text (the record is drawn when it is sent)."""

    __tablename__ = "living_records"
    __table_args__ = (UniqueConstraint("platform", "channel_id", name="uq_living_record"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(255))
    canvas_id: Mapped[str | None] = mapped_column(String(255))
    remade: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    refused: Mapped[str | None] = mapped_column(String(32))
    refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MeetingSchedule(Base):
    """A community's meeting rhythm: the quarterly rule (an RRULE) at a local time, its time
    zone, the country whose public holidays are not working days, how many working days before
    a meeting the agenda and the call for items go out, and the meetings' joining link."""

    __tablename__ = "meeting_schedules"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), unique=True)
    rule: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[str] = mapped_column(String(5), default="10:30")
    zone: Mapped[str] = mapped_column(String(64), default="Europe/Dublin")
    country: Mapped[str] = mapped_column(String(8), default="IE")
    agenda_days: Mapped[int] = mapped_column(Integer, default=5)
    call_days: Mapped[int] = mapped_column(Integer, default=10)
    join_link: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The earliest moment anything may fall due for the community (UTC), NULL when nothing is
    # scheduled or copbot is in none of its channels: the scheduler's one indexed query. Kept
    # current by the scheduler after each look, and set to "look now" (`storage.due`) whenever
    # what sets its rhythm changes.
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # The month (1–12) the annual review survey goes out; NULL: the month of the first meeting.
    review_month: Mapped[int | None] = mapped_column(Integer)


class ScheduleChange(Base):
    """A change to the rhythm: an extra meeting, or a planned one moved or cancelled. ``on``
    is the local day it concerns (the extra one's day, or the planned day moved or cancelled);
    ``starts_at`` the new start (UTC) of an extra or moved meeting."""

    __tablename__ = "schedule_changes"
    __table_args__ = (UniqueConstraint("community_id", "on", name="uq_schedule_change_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    on: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DayOff(Base):
    """A day the community does not count as a working day (besides weekends and holidays)."""

    __tablename__ = "days_off"
    __table_args__ = (UniqueConstraint("community_id", "day", name="uq_day_off"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)


class Announcement(Base):
    """A scheduled announcement claimed once: the call for items, the agenda, a reminder, the
    next steps of one meeting, or a co-chair term's review or end. ``occurrence`` is who the
    meeting is (its planned local day: a rule day, even once moved, or an extra one's day; a
    term's review or end day); ``due_for`` is the start (UTC) the announcement told (a term's:
    09:00 local that day). The unique key makes it once per meeting across workers;
    ``skipped`` when its window had passed."""

    __tablename__ = "announcements"
    __table_args__ = (UniqueConstraint("community_id", "kind", "occurrence", name="uq_announcement"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    occurrence: Mapped[date] = mapped_column(Date)
    due_for: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgendaItem(Base):
    """An item a member asked to place on the agenda, numbered per community. A co-chair
    accepts or declines it. The next agenda posted settles it: ``agenda_of`` is then that
    meeting's start (UTC), and an accepted item is on that agenda; an undecided one waits.
    ``member_id`` is NULL once its author used forget-me."""

    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("community_id", "number", name="uq_agenda_item_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=AgendaItemStatus.PROPOSED.value)
    agenda_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Attendance(Base):
    """Who was at a meeting: anyone who answered, passed, ran a part or said `/cop here`. No
    time is kept (nothing to line it up with an answer given without a name); after forget-me
    the row stays without the member, so the meeting's count for the KPIs holds."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id", name="uq_attendance"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))


class PostNumber(Base):
    """The last number a channel that numbers its posts itself gave one (the terminal's #n):
    kept in the database, so a number is never given twice, across restarts and processes."""

    __tablename__ = "post_numbers"
    __table_args__ = (UniqueConstraint("platform", "channel_id", name="uq_post_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(255))
    last: Mapped[int] = mapped_column(Integer, default=0)


class Vision(Base):
    """A community's vision, as the group agreed it (the guide's "Creating a Vision"): the
    challenge it wants to address and its purpose. No author is kept: it is the group's."""

    __tablename__ = "visions"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), unique=True)
    challenge: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VisionObjective(Base):
    """One of a vision's (up to five) objectives, numbered 1 to 5, with the guide's questions
    answered (what to accomplish, what is realistic, how, the resources, how we will know) and
    its horizon on the roadmap (short, medium or long term). No author is kept."""

    __tablename__ = "vision_objectives"
    __table_args__ = (UniqueConstraint("community_id", "number", name="uq_vision_objective"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    accomplish: Mapped[str | None] = mapped_column(Text)
    realistic: Mapped[str | None] = mapped_column(Text)
    how: Mapped[str | None] = mapped_column(Text)
    resources: Mapped[str | None] = mapped_column(Text)
    know: Mapped[str | None] = mapped_column(Text)
    horizon: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewSurvey(Base):
    """One year's review survey of a community ("Reviewing/Evaluating your COP"): open from
    ``opened_on`` until ``closes_on`` (local days), then closed. ``responses`` is how many
    members sent theirs, kept at close (the who-responded rows go then). No member reference."""

    __tablename__ = "review_surveys"
    __table_args__ = (UniqueConstraint("community_id", "year", name="uq_review_survey_year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    opened_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)
    responses: Mapped[int | None] = mapped_column(Integer)


class ReviewResponder(Base):
    """*Who responded* to a survey (one row per member: one response each), kept apart from
    *what was answered* (`ReviewAnswer`): no id, no time, nothing shared with an answer.
    ``next_question`` is how far the member got (the terminal asks one question at a time).
    SQLite keeps it WITHOUT ROWID (no insertion order); all rows of a survey go when it closes."""

    __tablename__ = "review_responders"
    __table_args__ = {"sqlite_with_rowid": False}
    survey_id: Mapped[int] = mapped_column(ForeignKey("review_surveys.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    next_question: Mapped[int] = mapped_column(Integer, default=0)


class ReviewAnswer(Base):
    """*What was answered*: one question's value, nobody's. A random id (not a counter), no
    member, no time (not even the day: on a day only one member answered, it would point to
    them); SQLite keeps it WITHOUT ROWID, so rows are ordered by that random id, not by when
    they came. ``rating`` 1–5, or ``text`` for the free-text question."""

    __tablename__ = "review_answers"
    __table_args__ = {"sqlite_with_rowid": False}
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("review_surveys.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)


class SharedFile(Base):
    """A file copbot serves itself at an unguessable address, for a platform that shows it only
    from a URL (a review chart too large for a Teams card's data URI). No member text: the
    chart's figures are the group's (given at k ≥ 3). Gone after ``expires_at``."""

    __tablename__ = "shared_files"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class NationalAnnouncement(Base):
    """What the national office announced to every community: the words, and the date of the
    event it tells of (the annual national event), which each community's next-steps post
    repeats until it has passed. ``fingerprint`` (the words and date, tidied) makes the same
    announcement sent twice one announcement."""

    __tablename__ = "national_announcements"
    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    event_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NationalPost(Base):
    """One national announcement claimed for one community channel, once across workers and
    presses; ``skipped`` when copbot was no longer in the channel."""

    __tablename__ = "national_posts"
    __table_args__ = (UniqueConstraint("announcement_id", "channel_id", name="uq_national_post"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("national_announcements.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NationalChannel(Base):
    """A channel bound as the national office's (`/cop setup national`, by someone the setting
    names): whoever is in it acts as the national office, and its answers are posted there."""

    __tablename__ = "national_channels"
    __table_args__ = (UniqueConstraint("platform", "channel_id", name="uq_national_channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
