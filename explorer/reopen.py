"""Short links that reopen a result: only what differs from the defaults, and the runs to show.

    /?preset=A2                       A2's set-up (quick look, the Summary: the defaults)
    /?preset=A1&runs=A1,A2,A3&view=Curves
    /?preset=Custom&learning_rate=0.5&runs=setup

A link names its runs by token: a preset that trains ("A1") is that preset's set-up, and
"setup" is the set-up the link's controls describe; both at the link's quick-look setting. A
lab's view (Twin lab, Sweep) needs no tokens: its set-up names its runs. Opening such a link
trains what is not cached yet, within the server's run limits, so a student sees what the
teacher saw. This module imports no TensorFlow and no Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from explorer.config import RunConfig
from explorer.i18n import lazy_gettext
from explorer.presets import PRESETS
from explorer.setups import QuerySetup, Rule

SETUP_TOKEN = "setup"  # the link's own controls
MAX_LINK_RUNS = 8  # runs a link may name: a comparison set of four fits twice
TRAINING_PRESETS = tuple(key for key, preset in PRESETS.items() if preset.trains)
QuickLook = Callable[[RunConfig, bool], RunConfig]


def _read_tokens(text: str) -> str:
    by_folded = {token.casefold(): token for token in (*TRAINING_PRESETS, SETUP_TOKEN)}
    tokens = [part.strip().casefold() for part in text.split(",") if part.strip()]
    if not 1 <= len(tokens) <= MAX_LINK_RUNS or len(set(tokens)) < len(tokens):
        raise ValueError(text)
    try:
        return ",".join(by_folded[token] for token in tokens)
    except KeyError:
        raise ValueError(text) from None


RUNS_RULE = Rule(
    lazy_gettext(
        "1 to {count} different names, comma-separated, from {presets} and {setup}",
        count=MAX_LINK_RUNS,
        presets=", ".join(TRAINING_PRESETS),
        setup=SETUP_TOKEN,
    ),
    _read_tokens,
    lambda value: True,
)


NAME_SEPARATOR = "|"  # names=first|second, one per token of runs (empty: the run's own name)
MAX_NAME = 40  # as explorer.compare.MAX_NAME (that module loads TensorFlow; links are read first)


def _read_names(text: str) -> str:
    names = [name.strip() for name in text.split(NAME_SEPARATOR)]
    if len(names) > MAX_LINK_RUNS or any(len(name) > MAX_NAME for name in names):
        raise ValueError(text)
    filled = [name for name in names if name]
    if not filled or len(set(filled)) < len(filled):
        raise ValueError(text)
    return NAME_SEPARATOR.join(names)


NAMES_RULE = Rule(
    lazy_gettext(
        "up to {count} different run names of at most {length} characters, separated by "
        "{separator}, one per name in runs",
        count=MAX_LINK_RUNS,
        length=MAX_NAME,
        separator=repr(NAME_SEPARATOR),
    ),
    _read_names,
    lambda value: True,
)


def link_names(params: Mapping[str, str], tokens: Sequence[str]) -> dict[str, str]:
    """{token: name} from a clean link's `names` (aligned with its `runs`; blanks skipped)."""
    text = params.get("names", "")
    names = text.split(NAME_SEPARATOR) if text else []
    return {token: name for token, name in zip(tokens, names, strict=False) if name}


def run_configs(
    tokens: Iterable[str], controls: RunConfig | None, quick: bool, quick_look: QuickLook
) -> dict[str, RunConfig]:
    """The set-ups a link's tokens name, by token, at its quick-look setting ("setup" needs
    `controls`: without them it names nothing)."""
    configs = {}
    for token in tokens:
        if token == SETUP_TOKEN:
            if controls is not None:
                configs[token] = quick_look(controls, quick)
        else:
            configs[token] = quick_look(PRESETS[token].config, quick)
    return configs


def run_tokens(
    configs: Sequence[RunConfig], controls: RunConfig | None, quick: bool, quick_look: QuickLook
) -> tuple[list[str], list[RunConfig]]:
    """The tokens naming `configs` in a link (at most MAX_LINK_RUNS), and the configs no token
    names (a custom run that is not the controls' set-up, a run at the other quick-look
    setting, or one past the limit)."""
    named = {quick_look(PRESETS[key].config, quick): key for key in TRAINING_PRESETS}
    if controls is not None:
        named.setdefault(quick_look(controls, quick), SETUP_TOKEN)
    tokens, left_out = [], []
    for config in configs:
        token = named.get(config)
        if token is None or len(tokens) == MAX_LINK_RUNS:
            left_out.append(config)
        elif token not in tokens:
            tokens.append(token)
    return tokens, left_out


def short_query(
    preset: str,
    controls: RunConfig | None,
    quick: bool,
    quick_default: bool,
    labs: Iterable[QuerySetup],
    view: str | None,
    default_view: str,
    tokens: Sequence[str] = (),
    names: Sequence[str] = (),
) -> dict[str, str]:
    """The fewest keys that reopen this page: the preset, the controls that differ from it,
    quick look when off its default, the labs' keys that differ from theirs, the view, the runs
    and the names the user gave them (`names` aligned with `tokens`, "" for a run's own)."""
    query = {"preset": preset}
    if controls is not None:
        base = (PRESETS[preset].config if preset in PRESETS else RunConfig()).to_query()
        query.update(
            {name: text for name, text in controls.to_query().items() if base[name] != text}
        )
    if quick != quick_default:
        query["quick"] = "true" if quick else "false"
    for setup in labs:
        defaults = type(setup)().to_query()
        query.update({key: text for key, text in setup.to_query().items() if defaults[key] != text})
    if view and view != default_view:
        query["view"] = view
    if tokens:
        query["runs"] = ",".join(tokens)
        if names and any(names):
            query["names"] = NAME_SEPARATOR.join(names)
    return query


def link_tokens(params: Mapping[str, str]) -> list[str]:
    """The run tokens of a clean link (none when it names no runs)."""
    text = params.get("runs", "")
    return text.split(",") if text else []
