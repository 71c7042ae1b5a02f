"""`python -m bench`: copbot's benchmark (issue 16) — acknowledgements, answers stored, a
100-member burst and outbound calls, for the real `copbot serve` on SQLite and PostgreSQL and for
bare Slack Bolt and botbuilder apps (the floors), plus start time and memory at scale.

See docs/performance.md. The older scripts beside this package (meeting_posts.py,
receipt_latency.py, scheduler_tick.py) still run on their own."""
