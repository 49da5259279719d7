"""Deductive coding by a language model on an OpenAI-compatible server (issue 19): the prompt
from the codebook (`prompt`), the HTTP client (`client`), and answers grounded in the words
of the text (`answers`). Pure: no database; project/llm.py stores calls and suggestions."""

from .answers import AnswerError, Grounded, ground, parse_answer
from .client import (DEFAULT_TIMEOUT, DEFAULT_URL, LlmCallError, LlmClient, Reply, check_url,
                     is_loopback, shown_url)
from .prompt import (DEFAULT_CONTEXT_TOKENS, NO_CONTEXT, TEMPLATE, CodeGroup, Template,
                     cache_key, code_groups, estimate_tokens, load_template, request_body,
                     request_tokens)

__all__ = ["AnswerError", "Grounded", "ground", "parse_answer", "DEFAULT_TIMEOUT",
           "DEFAULT_URL", "LlmCallError", "LlmClient", "Reply", "check_url", "is_loopback",
           "shown_url", "DEFAULT_CONTEXT_TOKENS", "NO_CONTEXT", "TEMPLATE", "CodeGroup",
           "Template", "cache_key", "code_groups", "estimate_tokens", "load_template",
           "request_body", "request_tokens"]
