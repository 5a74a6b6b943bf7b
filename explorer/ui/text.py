"""Text from outside the app (a link, a typed value) shown as literal text, never as markup."""

from __future__ import annotations

import re

from explorer.links import LinkProblem, shorten

MAX_SHOWN_PROBLEMS = 8  # a link with more problems gets "and N more"


def literal(text: str) -> str:
    """Markdown for `text` shown as it is: its repr, cut short, in a code span.

    A code span is the one markdown construct whose content nothing renders: no image, link,
    HTML, math, colour or icon. repr() puts newlines and other control characters on one line
    (a blank line would end the span), and the fence is longer than any run of backticks inside.
    """
    shown = repr(shorten(text))
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {shown} {fence}"


def problem_markdown(problem: LinkProblem, from_link: bool = True) -> str:
    """One problem as markdown: the app's words, then the received text as a literal."""
    if problem.allowed is None:
        return f"The link has a key this app does not know, ignored: {literal(problem.key)}."
    where = f"The link's `{problem.key}` was not used: it" if from_link else f"`{problem.key}`"
    return f"{where} must be {problem.allowed}; got {literal(problem.received)}."


def problems_markdown(problems: list[LinkProblem]) -> list[str]:
    """At most MAX_SHOWN_PROBLEMS messages, the last saying how many more there were."""
    shown = [problem_markdown(problem) for problem in problems[:MAX_SHOWN_PROBLEMS]]
    if len(problems) > MAX_SHOWN_PROBLEMS:
        shown.append(f"… and {len(problems) - MAX_SHOWN_PROBLEMS} more values of this link.")
    return shown
