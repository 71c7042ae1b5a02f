"""The ``copbot`` command: ``chat`` (the terminal channel), ``serve`` (Slack and Teams),
``migrate``, ``report`` (the KPI report), ``slack-manifest``, ``teams-package``, and the national
office's ``members`` and ``announce``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.logs import setup_logging
from bot.vocabulary.errors import ConfigError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="copbot",
        description="copbot: facilitator and flipchart for Communities of Practice.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="run a community in this terminal (you can act as several members)")
    chat.add_argument("--db", help="SQLite file to keep the community in (default: DATABASE_URL or the user data dir)")
    chat.add_argument("--community", default="", help="community name for a new terminal community")
    chat.add_argument("--files", help="folder for the meetings' .ics invitations (default: the user data dir)")

    serve = sub.add_parser("serve", help="serve Slack (/slack/events) and Teams (/api/messages)")
    serve.add_argument(
        "--host",
        default=os.environ.get("HOST", "0.0.0.0"),
        help="address to listen on (default: $HOST, else 0.0.0.0, every interface)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "3978")),
        help="port to listen on (default: $PORT, else 3978)",
    )

    sub.add_parser("migrate", help="create or upgrade the database tables")

    report = sub.add_parser("report", help="the KPI report of every community's meetings for a year (DATABASE_URL)")
    report.add_argument(
        "--year", type=int, default=datetime.now(UTC).year, help="the year to report on (default: this year)"
    )
    report.add_argument(
        "--community", metavar="NAME", help="one community by name (default: every community and the national total)"
    )
    report.add_argument(
        "--format",
        choices=("md", "csv", "png", "xlsx"),
        default="md",
        help="md (a Markdown table), csv, png (a chart of meetings held) or xlsx (default: md)",
    )
    report.add_argument(
        "--out",
        metavar="FILE",
        help="file to write (default: md and csv to the screen, png and xlsx to cop-kpi-…-YEAR.FORMAT)",
    )

    manifest = sub.add_parser("slack-manifest", help="print a Slack app manifest")
    manifest.add_argument("--url", help="public base URL of copbot serve, e.g. https://copbot.example.org")
    manifest.add_argument("--socket-mode", action="store_true", help="connect over Socket Mode (no public URL)")
    manifest.add_argument("--name", default="copbot", help="the app's name in Slack (default: copbot)")

    package = sub.add_parser("teams-package", help="write a Teams app package (zip) for sideloading")
    package.add_argument("--app-id", required=True, help="the Azure bot registration's Microsoft App ID")
    package.add_argument("--out", default="copbot-teams.zip", help="where to write the zip (default: copbot-teams.zip)")
    package.add_argument("--name", default="copbot", help="the app's name in Teams (default: copbot)")
    package.add_argument("--url", help="public https URL of copbot serve (developer links, validDomains)")
    from bot.shell.national_cli import add_commands

    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    setup_logging("WARNING" if args.command == "chat" and "LOG_LEVEL" not in os.environ else None)
    try:
        if args.command == "chat":
            from bot.shell.chat import run_console

            return asyncio.run(
                run_console(sys.stdin, sys.stdout, db_path=args.db, community=args.community, files_dir=args.files)
            )
        if args.command == "serve":
            from bot.shell.serve import run_server

            return run_server(args.host, args.port, os.environ)
        if args.command == "migrate":
            from storage.db import Database

            async def migrate() -> None:
                db = Database(os.environ.get("DATABASE_URL"))
                await db.migrate()
                await db.dispose()

            asyncio.run(migrate())
            print("Database is up to date.")
            return 0
        if args.command in ("members", "announce"):
            from bot.shell.national_cli import run

            return asyncio.run(run(args))
        if args.command == "report":
            from bot.shell.report import run_report

            return run_report(args)
        if args.command == "slack-manifest":
            from adapters.slack.manifest import print_manifest

            return print_manifest(args)
        if args.command == "teams-package":
            from adapters.teams.package import write_package

            return write_package(args)
    except ConfigError as error:
        print(f"copbot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
