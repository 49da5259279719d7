"""The language-model coder's call log as JSON Lines (issue 19): one call a line, with the
request sent (the prompt included), the raw answer received, and its run's provenance, for
audit and for reading in any tool (`jq`, pandas' read_json(lines=True)).

>>> write_llm_calls(project, "calls.jsonl")
'12 calls to language models written to calls.jsonl'
"""

import json

from ..files import write_to

RUN_FIELDS = ("id", "purpose", "model", "digest", "url", "remote", "template_path",
              "template_sha256", "codebook_sha256", "unit", "context_tokens", "temperature",
              "seed", "created_by")


def llm_calls_jsonl(project, run=None):
    """The call log (of one run, or all) as JSON Lines bytes."""
    runs = {r["id"]: {key: r[key] for key in RUN_FIELDS} for r in project.llm_runs()}
    lines = [json.dumps({**call, "run": runs.get(call["run"])}, ensure_ascii=False,
                        default=str) for call in project.llm_calls(run)]
    return ("\n".join(lines) + "\n" if lines else "").encode("utf-8"), len(lines)


def write_llm_calls(project, target, run=None):
    """Write the call log to `target` (a path, written atomically, or a binary file); returns
    one line saying what was written."""
    data, count = llm_calls_jsonl(project, run)
    write_to(target, data)
    name = getattr(target, "name", "a file") if hasattr(target, "write") else str(target)
    return f"{count:,} call{'' if count == 1 else 's'} to language models written to {name}"
