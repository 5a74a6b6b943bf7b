"""Hostile links through the whole page (AppTest): nothing raises, every value not used is named.

Property-based with Hypothesis: query strings from the app's real keys, unknown keys and
hostile values (empty, huge, negative, NaN, ±inf, subnormal, fractions, unicode, 10k characters,
markdown, HTML, repeated keys). EXPLORER_FUZZ_EXAMPLES sets the count (300 by default, as CI).
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_app import open_app

from explorer import links
from explorer.ui.link import RULES, VIEWS

HOSTILE = [
    "",
    " ",
    "-1",
    "0",
    "1",
    "255",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e309",
    "-1e309",
    "5e-324",
    "1e-310",
    "1/0",
    "1/65025",
    "0/0",
    "1_000",
    "0x10",
    "1e5",
    "2.5",
    "½",
    "١٢",
    "１２",
    "x" * 10_000,
    "9" * 400,
    "![x](http://host/p.png)",
    "[Session expired – log in](http://host)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "$x^2$",
    ":red[red] :material/warning:",
    "\n\n# heading",
    "`code`",
    "```",
    "\x00",
    "true",
    "yes",
    "A1",
    "B1",
    "Custom",
    "relu ",
    "300,100",
    "8,8,8,8,8",
    "1024,1024,1024,1024",
    "-5,3",
    "繁體中文",
    *VIEWS,
    "twin lab",
]
UNKNOWN_KEYS = ["zzz", "PRESET", "Epochs", "tab", "lang", "quick ", "__proto__", "<b>k</b>"]

values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=24),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
keys = st.one_of(
    st.sampled_from(list(RULES)),
    st.sampled_from(UNKNOWN_KEYS),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8
    ),
)
# Streamlit reserves these for embedding; they never reach the app.
links_strategy = st.dictionaries(
    keys.filter(lambda key: key.lower() not in ("embed", "embed_options")),
    st.lists(values, min_size=1, max_size=2),
    max_size=5,
)


@pytest.fixture(scope="module", autouse=True)
def no_training():
    """A link may name runs or a lab's view, which train on opening: a budget of a millisecond
    refuses every training (a message, not an exception), so the fuzz stays on the links."""
    before = os.environ.get("EXPLORER_BUDGET_SECONDS")
    os.environ["EXPLORER_BUDGET_SECONDS"] = "0.001"
    yield
    if before is None:
        del os.environ["EXPLORER_BUDGET_SECONDS"]
    else:
        os.environ["EXPLORER_BUDGET_SECONDS"] = before


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("EXPLORER_FUZZ_EXAMPLES", "300")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(link=links_strategy)
def test_hostile_links_never_crash_and_every_value_not_used_is_named(fashion, link):
    app = open_app(**link)
    assert not app.exception, (link, app.exception)
    said = " ".join(warning.value for warning in app.warning)
    for key, texts in link.items():
        _, problem = links.check_value(key, texts[-1], RULES)
        if problem is None:
            assert f"`{key}` was not used" not in said
        elif problem.allowed is None:
            assert repr(links.shorten(key)) in said, (key, said)
        else:
            assert f"`{key}` was not used" in said, (key, said)
