"""The neutral conversation model: what comes in from a channel and what goes out to it.

Adapters (Slack, Teams, the terminal) translate their payloads into these frozen dataclasses and
render `Post`s back. Flows only ever see and produce these types.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

from bot.vocabulary.text import shown, storable


@dataclass(frozen=True)
class Actor:
    """Who did something: the platform's user id and, when known, a display name."""

    user_id: str
    name: str = ""


@dataclass(frozen=True)
class Place:
    """Which conversation: one Slack channel, one Teams channel/chat, or the terminal."""

    platform: str
    channel_id: str
    team_id: str = ""


@dataclass(frozen=True)
class Mention:
    """A member named in a command. The command text carries it as the token ``@<user_id>``."""

    user_id: str
    name: str = ""


@dataclass(frozen=True)
class CommandEvent:
    """``/cop <verb> <args>``: ``text`` is everything after ``/cop`` (or the bot's @mention)."""

    actor: Actor
    place: Place
    text: str
    mentions: tuple[Mention, ...] = ()
    event_id: str | None = None


@dataclass(frozen=True)
class ReplyEvent:
    """A member's answer: a reply in the thread of a bot post (``thread_ref`` is that post's
    platform message id), a submitted answer form, or (terminal only) a plain line that answers
    whatever is open (``thread_ref`` None)."""

    actor: Actor
    place: Place
    text: str
    thread_ref: str | None = None
    anonymous: bool = False
    from_form: bool = False  # the words are not visible in the channel yet: the bot shows them
    event_id: str | None = None
    message_ref: str | None = None  # the member's own message (Slack: its ts), to react to


@dataclass(frozen=True)
class ChoiceEvent:
    """A button/card action. Every button is the twin of a typed command (``vote 3``, ``next 2``).
    ``in_direct_message``: pressed on a direct message (a reminder) though it acts in ``place``,
    the community's channel: what answers the presser goes to them directly too."""

    actor: Actor
    place: Place
    command: str
    event_id: str | None = None
    in_direct_message: bool = False


Event = CommandEvent | ReplyEvent | ChoiceEvent


def storable_event(event: Any) -> Any:
    """The same event (or part of one) with every string made storable (`bot.vocabulary.text.storable`):
    what a platform sent may hold characters no database takes."""
    if isinstance(event, str):
        return storable(event)
    if isinstance(event, tuple):
        return tuple(storable_event(item) for item in event)
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        changes = {f.name: storable_event(getattr(event, f.name)) for f in dataclasses.fields(event)}
        return dataclasses.replace(event, **changes)
    return event


@dataclass(frozen=True)
class Button:
    """A button whose press runs ``command`` as if the member had typed ``/cop <command>``."""

    label: str
    command: str
    style: Literal["default", "primary", "danger"] = "default"

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", shown(self.label))


# One limit for an answer wherever it is typed: Slack's modal and Teams' card enforce it as
# they are shown, the core refuses a longer thread reply (Slack's input field takes 3,000).
MAX_ANSWER_CHARS = 3000
# The one wording of the choice to leave one's name off, on every platform.
ANONYMOUS_LABEL = "Post without my name"


@dataclass(frozen=True)
class AnswerForm:
    """An answer field on a post (Slack: a Share button opening a modal; Teams: card inputs).
    Submitting it arrives as a ``ReplyEvent`` with ``thread_ref`` = this post, ``from_form``."""

    label: str
    placeholder: str = ""
    allow_anonymous: bool = True
    submit_label: str = "Share"


@dataclass(frozen=True)
class FormQuestion:
    """One question of a `Questionnaire`: its key, its words, and its choices (``"1 very poor"``
    …, the value sent being the choice's number), or none for an answer in words."""

    key: str
    label: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Questionnaire:
    """Questions answered in one go, each optional (Slack: a window of radio buttons opened by
    a button; Teams: a card of choice sets). Sending it runs ``command`` followed by the answers,
    as `questionnaire_command` writes them — the twin of a typed command."""

    command: str
    title: str
    questions: tuple[FormQuestion, ...]
    note: str = ""
    open_label: str = "Answer"
    submit_label: str = "Send"

    def spec(self) -> list[tuple[str, bool]]:
        """Each question's key and whether it has choices: what the platform's form carries back."""
        return [(question.key, bool(question.choices)) for question in self.questions]


QUESTIONNAIRE_SKIPPED = "-"
QUESTIONNAIRE_WORDS = "|"


def questionnaire_command(command: str, spec: list[tuple[str, bool]], values: dict[str, str]) -> str:
    """``review send 4 5 - 3 … | the words``: the chosen numbers in the questions' order (``-``
    where none was chosen), then the words of the question answered in words. A value that is
    not one word goes as it is, for the flow to refuse clearly."""
    chosen, words = [], ""
    for key, has_choices in spec:
        value = (values.get(key) or "").strip()
        if has_choices:
            token = "".join(value.split()).replace(QUESTIONNAIRE_WORDS, "?")
            chosen.append(token or QUESTIONNAIRE_SKIPPED)
        elif value and not words:
            words = value
    return f"{command} {' '.join(chosen)} {QUESTIONNAIRE_WORDS} {words}".rstrip()


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a post where the platform takes files (a meeting's ``.ics``
    invitation, the review survey's chart): its name, media type and text — or, for a binary
    file (``encoding`` "base64"), its bytes in base64, so the post stays JSON in the outbox.
    ``alt_text`` says what an image shows, for screen readers; ``url``, where copbot serves it
    too (for a platform that shows a large image only from a URL)."""

    filename: str
    media_type: str
    content: str
    encoding: Literal["text", "base64"] = "text"
    alt_text: str = ""
    url: str = ""  # where copbot serves the same file (`storage.shared_files`), if it does

    @classmethod
    def binary(cls, filename: str, media_type: str, data: bytes, alt_text: str = "") -> Attachment:
        return cls(filename, media_type, base64.b64encode(data).decode("ascii"), "base64", alt_text)

    def data(self) -> bytes:
        """The file's bytes (a text file's as UTF-8)."""
        return base64.b64decode(self.content) if self.encoding == "base64" else self.content.encode("utf-8")

    def data_uri(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data()).decode('ascii')}"


@dataclass(frozen=True)
class Section:
    """A titled list of lines inside a post (a step's answers, the action plan, a tally)."""

    heading: str
    lines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "heading", shown(self.heading))
        object.__setattr__(self, "lines", tuple(shown(line) for line in self.lines))


@dataclass(frozen=True)
class Post:
    """What the bot says. All strings are plain text: adapters escape them for their platform.

    ``key`` names the post (``reflection:7:step:2``) so that later posts can update it
    (``replace``) or answer in its thread (``in_thread_of``), and so that a reply to it can be
    traced back to what it answers. ``private_to`` is a user id: only that member sees it.
    ``direct`` (with ``private_to``) asks for a message that waits for the member, not one shown
    only while they look at the channel: a scheduled reminder (Slack: a direct message from the
    app instead of an ephemeral one; Teams' private posts and the terminal's are so already).
    Text is made safe to show on construction (`bot.vocabulary.text.shown`): whatever a member stored, no
    platform ever prints a raw control or direction-override character.
    """

    text: str
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    form: AnswerForm | None = None
    key: str | None = None
    in_thread_of: str | None = None
    private_to: str | None = None
    replace: bool = False
    attachment: Attachment | None = None
    questionnaire: Questionnaire | None = None
    # A private "kept" that says nothing the channel does not show (the tally moved): where the
    # member's message can be reacted to (``react_to``), a reaction is enough (Slack); Teams
    # shows the updated card; the terminal a one-line mark.
    receipt: bool = False
    react_to: str | None = None
    direct: bool = False
    # The attachment carries what the sections say (a whole document): where the platform takes
    # the file (Slack's thread, the terminal's files folder), the post itself stays short.
    sections_in_file: bool = False

    def __post_init__(self) -> None:
        if self.private_to is not None and not self.private_to:
            raise ValueError("a private post needs its reader's id")  # never fall back to the channel
        if self.direct and self.private_to is None:
            raise ValueError("a direct post is a private one: it needs its reader's id")
        object.__setattr__(self, "text", shown(self.text))

    def with_file_taken(self) -> Post:
        """The post as shown where the platform takes its file: without the sections the file
        carries (``sections_in_file``); otherwise the post itself."""
        if self.sections_in_file and self.attachment is not None and self.private_to is None:
            return dataclasses.replace(self, sections=())
        return self

    def plain_text(self) -> str:
        """The whole post as plain text (the terminal's rendering, and every adapter's fallback)."""
        parts = [self.text] if self.text else []
        for section in self.sections:
            lines = [section.heading] if section.heading else []
            lines += [f"  • {line}" for line in section.lines]
            parts.append("\n".join(lines))
        return "\n\n".join(parts)


def post_to_json(post: Post) -> str:
    """A post as JSON, to keep it in the outbox until it is sent."""
    return json.dumps(dataclasses.asdict(post), ensure_ascii=False)


def post_from_json(raw: str) -> Post:
    """The post `post_to_json` kept."""
    data = json.loads(raw)
    return Post(
        text=data["text"],
        sections=tuple(Section(s["heading"], tuple(s["lines"])) for s in data.get("sections", ())),
        buttons=tuple(Button(b["label"], b["command"], b.get("style", "default")) for b in data.get("buttons", ())),
        form=AnswerForm(**data["form"]) if data.get("form") else None,
        key=data.get("key"),
        in_thread_of=data.get("in_thread_of"),
        private_to=data.get("private_to"),
        replace=bool(data.get("replace")),
        attachment=Attachment(**data["attachment"]) if data.get("attachment") else None,
        questionnaire=_questionnaire(data["questionnaire"]) if data.get("questionnaire") else None,
        receipt=bool(data.get("receipt")),
        react_to=data.get("react_to"),
        direct=bool(data.get("direct")),
        sections_in_file=bool(data.get("sections_in_file")),
    )


def _questionnaire(data: dict[str, Any]) -> Questionnaire:
    questions = tuple(
        FormQuestion(q["key"], q["label"], tuple(q.get("choices", ()))) for q in data.get("questions", ())
    )
    return Questionnaire(**{**data, "questions": questions})
