"""The `coding` command: parse arguments, call the package API, print. No business logic.

`base.py` holds the `main` group and what every command shares; each other module registers
one job's commands on it (importing them here is what adds them to `coding --help`)."""

from . import agreement, history, interchange, llm, project, serve, suggestions  # noqa: F401
from .base import main
from .reliability import reliability_command
from .search import search_command

main.add_command(reliability_command)
main.add_command(search_command)

__all__ = ["main"]
