"""Text from outside the app (a link, a typed value) shown as literal text, never as markup."""

from __future__ import annotations

import re

from explorer.i18n import _, ngettext
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
        return _("The link has a key this app does not know, ignored: {key}.").format(
            key=literal(problem.key)
        )
    if from_link:
        message = _("The link's `{key}` was not used: it must be {allowed}; got {received}.")
    else:
        message = _("`{key}` must be {allowed}; got {received}.")
    return message.format(
        key=problem.key, allowed=problem.allowed, received=literal(problem.received)
    )


def problems_markdown(problems: list[LinkProblem]) -> list[str]:
    """At most MAX_SHOWN_PROBLEMS messages, the last saying how many more there were."""
    shown = [problem_markdown(problem) for problem in problems[:MAX_SHOWN_PROBLEMS]]
    if len(problems) > MAX_SHOWN_PROBLEMS:
        more = len(problems) - MAX_SHOWN_PROBLEMS
        shown.append(
            ngettext(
                "… and {count} more value of this link.",
                "… and {count} more values of this link.",
                more,
            ).format(count=more)
        )
    return shown
