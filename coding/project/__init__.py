"""Project: the use cases over a stored project, and the only SQL outside `storage`. `Project`
is the facade users, the CLI and the app call (`project.ingest(...)`, `project.review(...)`);
its methods live by job in this package's modules."""

from .core import Project, default_coder, init_project, open_project, restore_project
from .suggestions import DEFAULT_MIN_SCORE, ORDERS, DaskScheduler
from .validation import TARGET as GATE_TARGET

__all__ = ["Project", "default_coder", "init_project", "open_project", "restore_project",
           "DEFAULT_MIN_SCORE", "ORDERS", "DaskScheduler", "GATE_TARGET"]
