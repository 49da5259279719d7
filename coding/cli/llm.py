"""The language-model coder on the command line (issue 19): `coding suggest PROJECT --llm MODEL`
and `coding evaluate PROJECT --coder NAME --llm MODEL`, with the options that go with them.

The options are added here to the `suggest` and `evaluate` commands that cli/suggestions.py
defines, and their callbacks wrapped: without --llm a command runs exactly as before, so that
module needs no change for them.

\b
coding suggest study.db --llm llama3.1:8b
coding suggest study.db --llm llama3.1:8b --rules --model      (those suggesters too)
coding suggest study.db --llm gpt-4o-mini --llm-url https://api.openai.com/v1 --allow-remote
coding evaluate study.db --coder ann --llm llama3.1:8b
"""

import contextlib
import functools

import click
from rich.table import Table

from coding.files import write_atomic
from coding.interchange import exports
from coding.project.llm import DEFAULT_URL

from .base import INPUT_FILE, _open, _progress, _shown, _warn, err, out
from .suggestions import evaluate, suggest

OPTIONS = [
    click.Option(["--llm", "llm"], metavar="MODEL",
                 help="A language model on an OpenAI-compatible server (Ollama, llama.cpp, "
                      "vLLM, LM Studio) codes against the codebook, quoting the text. Alone it "
                      "runs only that; with --rules/--model/--semantic those run too."),
    click.Option(["--llm-url", "llm_url"], metavar="URL", envvar="CODING_LLM_URL",
                 help=f"The server's OpenAI-compatible API (default: $CODING_LLM_URL, else "
                      f"Ollama's {DEFAULT_URL}). An API key, when it needs one, is read from "
                      "$CODING_LLM_API_KEY."),
    click.Option(["--allow-remote", "allow_remote"], is_flag=True,
                 help="Allow a server that is not this computer (a lab server on the local "
                      "network too): the transcripts' words leave it, and what is sent is "
                      "printed first."),
    click.Option(["--llm-parallel", "llm_parallel"], type=click.IntRange(1, 64), default=1,
                 show_default=True, help="Requests at a time (a GPU server may take more)."),
    click.Option(["--llm-context", "llm_context"], type=click.IntRange(2048), default=8192,
                 show_default=True,
                 help="Tokens a request may take (prompt and answer): the codebook is sent in "
                      "groups of codes that fit. Ollama cuts longer prompts without a word, so "
                      "keep it within the model's context (OLLAMA_CONTEXT_LENGTH)."),
    click.Option(["--llm-template", "llm_template"], type=INPUT_FILE, metavar="FILE",
                 help="Your own prompt template (copy coding/suggestions/llm/"
                      "prompt_template.txt); its hash is kept with every answer."),
    click.Option(["--llm-timeout", "llm_timeout"], type=click.FloatRange(0.1), default=300.0,
                 show_default=True, metavar="SECONDS", help="Wait this long for one answer."),
]
NAMES = [option.name for option in OPTIONS]


def _extend(command, run_llm):
    """Add OPTIONS to `command`; with --llm, `run_llm(original, llm_values, **params)`
    replaces its callback."""
    command.params.extend(OPTIONS)
    original = command.callback

    @functools.wraps(original)
    def callback(**params):
        values = {name: params.pop(name) for name in NAMES}
        if not values["llm"]:
            return original(**params)
        return run_llm(original, values, **params)

    command.callback = callback


def _settings(values):
    return {"url": values["llm_url"], "allow_remote": values["allow_remote"],
            "parallel": values["llm_parallel"], "context_tokens": values["llm_context"],
            "template": values["llm_template"], "timeout": values["llm_timeout"]}


class _Show:
    """What the CLI shows while a model works: the plan, what leaves the computer, the
    estimate, a progress bar; and a stop that says what is kept."""

    def __init__(self, stack):
        self.stack, self.advance, self.done = stack, None, 0

    def plan(self, plan):
        s = plan.settings
        where = "elsewhere" if plan.remote else "this computer"
        groups = f" x {len(plan.groups)} groups of codes" if len(plan.groups) > 1 else ""
        err.print(f"{s.model} at {_shown(s.url)} ({where}): {plan.units:,} {s.unit}s{groups} = "
                  f"{plan.requests:,} requests, {plan.requests - plan.to_send:,} answered "
                  f"before, {plan.to_send:,} to send")
        if plan.remote and plan.to_send:
            _warn(plan.leaving())
        self.advance = self.stack.enter_context(_progress(f"Asking {s.model}", plan.requests))

    def progress(self, done, total):
        self.done = done
        self.advance()

    @staticmethod
    def estimate(estimate):
        if estimate.remaining:
            err.print(f"About {_duration(estimate.seconds_each)} a request, so about "
                      f"{_duration(estimate.seconds_left)} for the {estimate.remaining:,} "
                      "left (Ctrl+C stops; the same command resumes where it stopped)")


def _duration(seconds):
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s" if seconds else "under a second"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min {seconds % 60} s"
    return f"{minutes // 60} h {minutes % 60} min"


@contextlib.contextmanager
def _watched():
    with contextlib.ExitStack() as stack:
        show = _Show(stack)
        try:
            yield show
        except KeyboardInterrupt:
            stack.close()
            raise click.ClickException(f"interrupted after {show.done:,} requests; the answers "
                                       "received are stored, so the same command resumes "
                                       "where it stopped") from None


def _suggest(original, values, **params):
    ctx = click.get_current_context()
    if params.get("switch_off") or params.get("switch_on"):
        return original(**params)
    if params.get("rules") or params.get("model") or params.get("semantic"):
        original(**params)  # the other suggesters first, as asked
    project = params["project"]
    with _open(ctx, project) as opened, _watched() as show:
        report = opened.suggest_llm(values["llm"], unit=params["unit"],
                                    documents=params["documents"] or None, on_plan=show.plan,
                                    on_progress=show.progress, on_estimate=show.estimate,
                                    warn=_warn, **_settings(values))
        pending = opened.pending_count()
    out.print(report.summary())
    out.print(f"{report.added} new suggestions from {report.model}; {pending} pending review "
              f"(`coding review {_shown(project)}`). Its own confidence is shown as the "
              "score, not trusted: check it with `coding evaluate --llm` and the review gate.")


def _evaluate(original, values, **params):
    ctx = click.get_current_context()
    coder, unit, output = params["gold_coder"], params["unit"], params["output"]
    with _open(ctx, params["project"]) as opened, _watched() as show:
        table = opened.evaluate_llm(values["llm"], coder, unit=unit, on_plan=show.plan,
                                    on_progress=show.progress, on_estimate=show.estimate,
                                    on_report=lambda report: out.print(report.summary()),
                                    warn=_warn, **_settings(values))
    write_atomic(output, exports.to_csv(table))
    suggester = f"llm:{values['llm']}"
    overall = Table("units", "support", "predicted", "precision", "recall", "F1", "kappa",
                    "alpha", title=f"{suggester} against {coder}, on {coder}'s documents, per "
                                   f"{unit} (nothing trained, so no folds)")
    for row in table[table["code"] == "ALL"].itertuples():
        overall.add_row(str(row.units), str(row.support), str(row.predicted),
                        f"{row.precision:.3f}", f"{row.recall:.3f}", f"{row.f1:.3f}",
                        f"{row.kappa:.3f}", f"{row.alpha:.3f}")
    out.print(overall)
    codes = Table("code", "support", "predicted", "precision", "recall", "F1", "kappa",
                  title="Per code")
    for row in table[table["code"] != "ALL"].itertuples():
        codes.add_row(row.code, str(row.support), str(row.predicted), f"{row.precision:.3f}",
                      f"{row.recall:.3f}", f"{row.f1:.3f}", f"{row.kappa:.3f}")
    out.print(codes)
    out.print(f"Wrote {output}")


_extend(suggest, _suggest)
_extend(evaluate, _evaluate)
