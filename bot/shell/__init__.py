"""The application shell, at the top of the tree: the ``copbot`` command (`cli`), the web server
(`serve`, `web`), the terminal (`chat`), the composition root (`runtime`) and the scheduler's
wiring (`scheduling`). Nothing below imports it."""
