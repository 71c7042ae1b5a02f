"""Every SQL statement: the models (`models`), the states of the state machines (`states`),
repositories in domain words (`community`, `answers`, `votes`, `leads`, `delivery`) and the
Alembic migrations. It imports nothing of copbot's but `bot.vocabulary`."""
