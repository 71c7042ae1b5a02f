"""The benchmark's verdicts and its printed table: each target of issue 16 (ratios to the
floors, the burst's p99, start time and memory at scale) with its value and met / not met."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

RATIO = 0.5  # answers stored/s ≥ 0.5 × the floor's acknowledgements/s
BURST_P99_MS = 250.0
START_S = 5.0
RSS_MB = 300.0
NEAR_MB = 25.0  # after the meeting and an idle spell, within this of the RSS at start

# (platform, workload key, floor) — the workloads whose rows are answers
ANSWERS = (
    ("slack", "thread_replies", "bolt"),
    ("slack", "button_votes", "bolt"),
    ("teams", "messages", "botbuilder"),
    ("teams", "card_submits", "botbuilder"),
)
LABELS = {
    "slash_commands": "slash commands (join)",
    "thread_replies": "thread replies (answers)",
    "button_votes": "button votes (ballots)",
    "messages": "messages in a step's chain",
    "card_submits": "card submits (ballots)",
}


@dataclass(frozen=True)
class Verdict:
    name: str
    value: float | None
    target: str
    met: bool | None  # None: not measured


def _get(tree: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def ratios(results: dict[str, Any]) -> None:
    """Put ``ratio_to_floor`` (rows stored/s ÷ the floor's acks/s) into each copbot workload."""
    for found in (results.get("copbot") or {}).values():
        if not isinstance(found, dict):
            continue
        for platform, workloads in found.items():
            if platform not in ("slack", "teams") or not isinstance(workloads, dict):
                continue
            floor = "bolt" if platform == "slack" else "botbuilder"
            for name, measured in workloads.items():
                floor_acks = _get(results, "floors", floor, name, "acks_per_s")
                if "stored_per_s" in measured and floor_acks:
                    measured["ratio_to_floor"] = round(measured["stored_per_s"] / floor_acks, 3)


def verdicts(results: dict[str, Any]) -> list[Verdict]:
    found: list[Verdict] = []
    for kind in ("sqlite", "postgresql"):
        for platform, workload, floor in ANSWERS:
            ratio = _get(results, "copbot", kind, platform, workload, "ratio_to_floor")
            found.append(
                Verdict(
                    f"{kind} {platform} {workload}: stored/s ÷ {floor} acks/s",
                    ratio,
                    f"≥ {RATIO}",
                    None if ratio is None else ratio >= RATIO,
                )
            )
        for platform in ("slack", "teams"):
            p99 = _get(results, "copbot", kind, platform, "burst", "p99_ms")
            found.append(
                Verdict(
                    f"{kind} {platform} 100-member burst p99 (ms)",
                    p99,
                    f"< {BURST_P99_MS:g}",
                    None if p99 is None else p99 < BURST_P99_MS,
                )
            )
        scale = _get(results, "scale", kind)
        if isinstance(scale, dict):
            start, rss, idle = scale.get("start_s"), scale.get("rss_start_mb"), scale.get("rss_after_idle_mb")
            label = f"{kind} scale ({scale.get('communities'):,} communities)"
            found.append(
                Verdict(f"{label}: start (s)", start, f"< {START_S:g}", None if start is None else start < START_S)
            )
            found.append(
                Verdict(f"{label}: RSS at start (MB)", rss, f"< {RSS_MB:g}", None if rss is None else rss < RSS_MB)
            )
            grew = None if idle is None or rss is None else round(idle - rss, 1)
            found.append(
                Verdict(
                    f"{label}: RSS growth after the meeting and idle (MB)",
                    grew,
                    f"< {NEAR_MB:g}",
                    None if grew is None else grew < NEAR_MB,
                )
            )
    return found


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def table(results: dict[str, Any]) -> str:
    """The readable report: one block per target, then the scale figures and the verdicts."""
    lines: list[str] = []
    head = f"{'':34} {'acks/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'err':>4} {'stored/s':>9} {'calls/row':>9} "
    head += f"{'÷ floor':>8}"
    blocks: list[tuple[str, dict[str, Any] | None]] = [
        ("floor: bare Bolt (acks only)", _get(results, "floors", "bolt")),
        ("floor: bare botbuilder (one reply)", _get(results, "floors", "botbuilder")),
    ]
    for kind in ("sqlite", "postgresql"):
        for platform in ("slack", "teams"):
            blocks.append((f"copbot serve, {kind}, {platform}", _get(results, "copbot", kind, platform)))
    for title, workloads in blocks:
        if isinstance(workloads, str):
            lines += ["", f"{title}: {workloads}"]
        if not isinstance(workloads, dict):
            continue
        lines += ["", title, head]
        for name, m in workloads.items():
            if name == "burst" or not isinstance(m, dict):
                continue
            lines.append(
                f"  {LABELS.get(name, name):32} {_fmt(m.get('acks_per_s')):>8} {_fmt(m.get('p50_ms')):>8} "
                f"{_fmt(m.get('p99_ms')):>8} {_fmt(m.get('errors')):>4} {_fmt(m.get('stored_per_s')):>9} "
                f"{_fmt(m.get('calls_per_row'), 2):>9} {_fmt(m.get('ratio_to_floor'), 2):>8}"
            )
        b = workloads.get("burst")
        if isinstance(b, dict):
            lines.append(
                f"  burst of {b['members']} at once: p99 {_fmt(b.get('p99_ms'))} ms, max {_fmt(b.get('max_ms'))} ms, "
                f"errors {b.get('errors')}"
                + (
                    f"; all stored after {_fmt(b.get('all_stored_s'), 2)} s; `end` → summary holding all "
                    f"{_fmt(b.get('end_to_summary_s'), 2)} s"
                    if "all_stored_s" in b
                    else ""
                )
            )
    for kind in ("sqlite", "postgresql"):
        s = _get(results, "scale", kind)
        if isinstance(s, dict):
            lines += [
                "",
                f"scale, {kind}: {s['communities']:,} communities, {s['members']:,} members (filled in "
                f"{_fmt(s.get('populate_s'))} s)",
                f"  serve start {_fmt(s.get('start_s'), 2)} s; RSS at start {_fmt(s.get('rss_start_mb'))} MB, after a "
                f"{s.get('meeting_answers')}-answer meeting {_fmt(s.get('rss_after_meeting_mb'))} MB, after "
                f"{_fmt(s.get('idle_s'), 0)} s idle {_fmt(s.get('rss_after_idle_mb'))} MB",
            ]
        elif isinstance(s, str):
            lines += ["", f"scale, {kind}: {s}"]
    for kind in ("sqlite", "postgresql"):
        if isinstance(_get(results, "copbot", kind), str):
            lines += ["", f"copbot serve, {kind}: {results['copbot'][kind]}"]
    if isinstance(results.get("postgresql"), str):
        lines += ["", f"postgresql: {results['postgresql']}"]
    lines += ["", "targets (issue 16)"]
    for v in results.get("verdicts", []):
        mark = {True: "met", False: "NOT met", None: "not measured"}[v["met"]]
        lines.append(f"  {v['name']:80} {_fmt(v['value'], 2):>9} {v['target']:>7}  {mark}")
    return "\n".join(lines)


def as_json(verdict_list: list[Verdict]) -> list[dict[str, Any]]:
    return [asdict(v) for v in verdict_list]
