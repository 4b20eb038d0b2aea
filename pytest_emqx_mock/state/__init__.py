"""The cluster as plain Python objects. Importing the package registers every kind of state
(`kinds`, with `registry`), so any use of the state finds them all."""

from . import kinds  # noqa: F401
