"""The platforms: Slack (`adapters.slack`), Teams (`adapters.teams`) and the terminal
(`adapters.console`). An adapter only translates: payload → neutral event, neutral post →
Block Kit / Adaptive Card / text, and sends. It makes no meeting decision. Each platform package
has ``PLATFORM`` and ``attach`` (its routes and settings), which the web server calls."""
