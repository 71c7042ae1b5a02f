"""The words everyone imports, at the bottom of the tree: the neutral events and posts
(`conversation`), copbot's errors (`errors`) and safe reading and showing of what members typed
(`text`). It imports nothing else of copbot's."""
