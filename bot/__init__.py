"""The neutral core, read bottom-up:

- `bot.vocabulary`: the words everyone imports (events, posts, errors, safe text);
- the toolkit: `registry` (what flows declare), `delivery` (the one outbound path),
  `request_body` (one HTTP error policy), `work_in_hand` (acknowledge now, work after), `logs`;
- the router: `core` (one event, one transaction, one flow) and `commands` (the grammar);
- `bot.shell`: the application on top (CLI, web server, terminal, runtime, scheduler).

No module here imports slack_bolt or botbuilder.
"""
