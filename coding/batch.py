"""Moved to `coding.suggestions.batch` (issue 14); this name keeps working for one release."""

from .suggestions.batch import BatchConfig, Job, JobResult, process_chunk, run_jobs  # noqa: F401
