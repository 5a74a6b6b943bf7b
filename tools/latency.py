"""Latency of the app's cached actions in a real browser: `python tools/latency.py [--repeats N]`.

A real `streamlit run` server and headless Chromium (tests/e2e.py). Phases:

1. cold: `--cold` times, a fresh server; right after it answers its health check a fresh tab
   opens `/?preset=A1&quick=true&view=Curves` and times *first paint* (the title and the
   sidebar's Train button visible, from `page.goto`), then presses Train and times the *first
   chart* of quick A1 (a drawn Vega chart, the live curves included, from `page.goto`).
2. the last cold tab trains quick A2 too (preset A2, Train), then times, `--repeats` times
   each: switching view (Curves ↔ Pre-activations), changing the selected runs (add or remove
   a run in "Runs to show"), Train on a trained set-up (a cache hit), changing the preset
   (A1 ↔ A2) and a lab control (the Saturation lab's Activation, sigmoid ↔ tanh).
3. warm: `--repeats` fresh tabs on that (warm) server time first paint again.

An action is timed in the page, on its clock (performance.now()): from the click's pointerdown
until the script is idle and every chart of the open view is drawn, and no chart has changed
for `--quiet` seconds (that quiet wait is not counted: the time is that of the last change).
The script time beside it is how long the app's `data-test-script-state` said "running" in
that span (what the browser sees of the server's script runs: a fragment's run counts too).

A click that starts no script run within 5 s (seen once in about ten runs of this tool, on a
tab) is reported and taken again. Prints each median with min–max against its target, and with
--verbose every timing split into click → run start, script, run end → charts drawn. Exits 1
only if the page showed an exception or a wait timed out (a benchmark: a missed target is
reported, not failed).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import e2e

LINK = "/?preset=A1&quick=true&view=Curves"
WINDOW = {"width": 1400, "height": 1200}
PANEL = "[data-testid=stTabPanel]"
ACTION_SECONDS = 60  # the longest a cached action is waited for
TITLE = "Initialization & Scaling Explorer"

TARGET_ACTION = 1.0  # s, each cached action's median (quiet 2-core machine)
TARGET_FIRST_PAINT = 3.0  # s after the server answers its health check
TARGET_FIRST_CHART = 10.0  # s, quick A1's first chart after the first page load

# Installed in every page before its own scripts: the script state's changes and the last change
# inside any chart, timestamped on the page's clock, and the pointerdown that starts an action.
INSTRUMENT = """(() => {
    const L = (window.__lat = { events: [], lastChart: 0, armed: false, start: null, app: null });
    const now = () => performance.now();
    const watchApp = (app) => {
        L.app = app;
        L.events.push({ state: app.dataset.testScriptState || 'initial', t: now() });
        new MutationObserver((records) => {
            const t = now();
            records.forEach((record, i) => {
                const next = i + 1 < records.length
                    ? records[i + 1].oldValue : app.dataset.testScriptState;
                if (next !== L.events[L.events.length - 1].state) L.events.push({ state: next, t });
            });
        }).observe(app, {
            attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state'],
        });
    };
    new MutationObserver((records) => {
        if (!L.app) {
            const app = document.querySelector('[data-testid=stApp]');
            if (app) watchApp(app);
        }
        for (const record of records) {
            const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
            if (node && node.closest && node.closest('[data-testid=stVegaLiteChart]')) {
                L.lastChart = now();
                break;
            }
        }
    }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    document.addEventListener('pointerdown', () => {
        if (L.armed) { L.armed = false; L.start = now(); }
    }, true);
})();"""

ARM = "() => { window.__lat.armed = true; window.__lat.start = null; }"

# Resolves once, since the armed pointerdown, a script run has happened, the script is idle, the
# open view's charts are all drawn and nothing (script state, charts) changed for `quiet` ms.
SETTLED = """async ({ scope, quiet, timeout, noRun }) => {
    const L = window.__lat;
    const visible = (el) => el.getClientRects().length > 0;
    const deadline = performance.now() + timeout;
    let readySince = null;
    for (;;) {
        const now = performance.now();
        const runs = [];
        let firstRun = null, lastRunEnd = null;
        if (L.start !== null) {
            let began = null;
            for (const event of L.events) {
                if (event.t < L.start) continue;
                if (event.state === 'running') {
                    began = event.t;
                    if (firstRun === null) firstRun = began;
                } else if (began !== null) {
                    runs.push(event.t - began);
                    lastRunEnd = event.t;
                    began = null;
                }
            }
        }
        const idle = L.app && L.app.dataset.testScriptState === 'notRunning';
        const charts = [...document.querySelectorAll(scope)].filter(visible)
            .flatMap((panel) => [...panel.querySelectorAll('[data-testid=stVegaLiteChart]')])
            .filter(visible);
        const drawn = charts.length > 0
            && charts.every((chart) => chart.querySelector(':is(svg, canvas).marks'));
        if (runs.length && idle && drawn) {
            if (readySince === null) readySince = now;
            const lastEvent = L.events[L.events.length - 1].t;
            const end = Math.max(readySince, L.lastChart, lastEvent);
            if (now - end >= quiet) {
                return {
                    seconds: (end - L.start) / 1000,
                    script: runs.reduce((a, b) => a + b, 0) / 1000,
                    runs: runs.length,
                    charts: charts.length,
                    before: (firstRun - L.start) / 1000,
                    after: (end - lastRunEnd) / 1000,
                };
            }
        } else {
            readySince = null;
        }
        if (L.start !== null && firstRun === null && idle && now - L.start > noRun) {
            return { lost: true, runs: 0, events: L.events.slice(-4),
                     tab: document.querySelector('[role=tab][aria-selected=true]')?.innerText };
        }
        if (now > deadline) {
            return { timeout: true, started: L.start, runs: runs.length, idle,
                     charts: charts.length, drawn, events: L.events.slice(-6),
                     tab: document.querySelector('[role=tab][aria-selected=true]')?.innerText };
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
}"""

# The script time of the runs since the page loaded, up to now (for a first load).
LOAD_SCRIPT = """() => {
    let total = 0, began = null;
    for (const event of window.__lat.events) {
        if (event.state === 'running') began = event.t;
        else if (began !== null) { total += event.t - began; began = null; }
    }
    return total / 1000;
}"""


@dataclass
class Measure:
    name: str
    target: float
    seconds: list[float] = field(default_factory=list)
    script: list[float] = field(default_factory=list)

    def add(self, seconds: float, script: float | None = None) -> None:
        self.seconds.append(seconds)
        if script is not None:
            self.script.append(script)


class ExceptionShown(RuntimeError):
    pass


def check(page, where: str) -> None:
    shown = page.locator(e2e.EXCEPTION_SELECTOR)
    if shown.count():
        raise ExceptionShown(f"{where}: {shown.first.inner_text()[:2000]}")


def new_page(browser):
    context = browser.new_context(viewport=WINDOW)
    context.add_init_script(INSTRUMENT)
    context.set_default_timeout(e2e.RUN_SECONDS * 1000)
    return context.new_page()


def first_paint(page, url: str) -> float:
    """Seconds from `page.goto` to the title and the sidebar's Train button visible."""
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.get_by_role("heading", name=TITLE).wait_for(state="visible")
    e2e.train_button(page).wait_for(state="visible")
    return time.perf_counter() - started


def wait_idle(page) -> None:
    """The first load's runs are over (the link's clean-up rerun included)."""
    page.wait_for_selector(e2e.IDLE_SELECTOR)


VERBOSE = False
NO_RUN_SECONDS = 5  # a click that started no script run in this long had no effect
LOST_TRIES = 3
LOST_CLICKS: list[str] = []  # the actions whose click started no run, reported at the end


def timed(
    page,
    action: Callable[[], None],
    where: str,
    quiet: float,
    prepare: Callable[[], None] | None = None,
) -> dict:
    """After `prepare` (opening a list: not timed), do `action` (the click that changes
    something) and time it until settled. A click that starts no script run is noted
    (LOST_CLICKS) and the sample is taken again."""
    for _ in range(LOST_TRIES):
        if prepare is not None:
            prepare()
        page.evaluate(ARM)
        clicked = time.perf_counter()
        action()
        result = page.evaluate(
            SETTLED,
            {
                "scope": PANEL,
                "quiet": quiet * 1000,
                "timeout": ACTION_SECONDS * 1000,
                "noRun": NO_RUN_SECONDS * 1000,
            },
        )
        returned = time.perf_counter() - clicked
        check(page, where)
        if not result.get("lost"):
            break
        LOST_CLICKS.append(f"{where}: {result}")
        print(f"    {where}: the click started no script run in {NO_RUN_SECONDS} s: {result}")
    if result.get("timeout") or result.get("lost"):
        raise TimeoutError(f"{where}: not settled after {ACTION_SECONDS} s: {result}")
    if VERBOSE:
        print(
            f"    {where:<36} {result['seconds']:4.2f} s = {result['before']:4.2f} s to the "
            f"run + script {result['script']:4.2f} s ({result['runs']} run) + "
            f"{result['after']:4.2f} s to {result['charts']} chart(s) drawn; "
            f"Playwright's click→settled {returned - quiet:4.2f} s",
            flush=True,
        )
    return result


def cold_start(browser, log_dir: Path, attempt: int, measures: dict, keep: bool):
    """A fresh server; first paint and quick A1's first chart in a fresh tab right after the
    health check. Returns (server, page) when `keep`, else stops both."""
    server = e2e.StreamlitServer(log_dir / f"cold{attempt}.log")
    page = None
    try:
        server.wait_healthy()
        measures["ready"].add(server.ready_seconds)
        page = new_page(browser)
        started = time.perf_counter()
        paint = first_paint(page, server.url + LINK)
        wait_idle(page)
        loaded = time.perf_counter() - started
        load_script = page.evaluate(LOAD_SCRIPT)
        measures["paint cold"].add(paint, load_script)
        check(page, "cold load")
        e2e.watch_script_runs(page)
        pressed = time.perf_counter()
        e2e.train_button(page).click()
        page.locator(f"{e2e.DRAWN_CHART_SELECTOR} >> visible=true").first.wait_for()
        chart = time.perf_counter()
        e2e.wait_for_run_end(page)
        page.locator(f"{PANEL}:visible {e2e.DRAWN_CHART_SELECTOR}").first.wait_for()
        trained = time.perf_counter()
        check(page, "quick A1's training")
        measures["first chart"].add(chart - started, load_script)
        print(
            f"  cold start {attempt}: server healthy {server.ready_seconds:.1f} s after start; "
            f"from goto: title {paint:.2f} s, idle {loaded:.1f} s (script {load_script:.1f} s), "
            f"first chart {chart - started:.1f} s (Train +{chart - pressed:.1f} s), "
            f"trained with Curves drawn {trained - started:.1f} s",
            flush=True,
        )
    except BaseException:
        if page is not None:
            page.context.close()
        server.stop()
        raise
    if keep:
        return server, page
    page.context.close()
    server.stop()
    return None, None


def open_then_pick(page, opener, option_name: str, where: str, quiet: float) -> dict:
    """Open a combobox (not timed), then time picking `option_name`."""
    option = page.get_by_role("option", name=option_name, exact=True)
    return timed(page, option.click, where, quiet, prepare=opener.click)


def cached_actions(page, measures: dict, repeats: int, quiet: float) -> None:
    def record(name: str, result: dict) -> None:
        measures[name].add(result["seconds"], result["script"])

    # quick A1 is trained (the cold tab); quick A2 once, then the runs picker holds both.
    e2e.act_and_wait(page, lambda: e2e.choose(page, "Preset", "A2"))
    e2e.press_train(page)
    check(page, "quick A2's training")

    tabs = ["Pre-activations", "Curves"]
    for index in range(repeats):
        tab = page.get_by_role("tab", name=tabs[index % 2], exact=True)
        record("view", timed(page, tab.click, f"switch to {tabs[index % 2]}", quiet))
    e2e.open_tab(page, "Curves")

    picker = page.locator("[data-testid=stMultiSelect]").first
    removers = picker.get_by_role("button", name=re.compile("^Remove "))
    for _ in range(repeats):
        if removers.count() < 2:  # add the run not shown
            opener = picker.get_by_role("combobox")
            opener.click()
            option = page.get_by_role("option").first
            name = option.inner_text().strip()
            page.keyboard.press("Escape")
            pick = page.get_by_role("option", name=name, exact=True)
            record("runs", timed(page, pick.click, f"add run {name}", quiet, opener.click))
            page.keyboard.press("Escape")
        else:  # both shown: remove the first
            label = removers.first.get_attribute("aria-label") or "remove a run"
            record("runs", timed(page, removers.first.click, label, quiet))

    for _ in range(repeats):
        record("train", timed(page, e2e.train_button(page).click, "Train (cached)", quiet))

    presets = ["A1", "A2"]
    for index in range(repeats):
        opener = page.get_by_role("combobox", name="Preset", exact=True)
        name = presets[index % 2]
        record("preset", open_then_pick(page, opener, name, f"preset {name}", quiet))

    panel = e2e.open_tab(page, "Saturation lab")
    panel.locator(e2e.DRAWN_CHART_SELECTOR).first.wait_for()
    activations = ["tanh", "sigmoid"]
    for index in range(repeats):
        opener = panel.get_by_role("combobox", name="Activation", exact=True)
        name = activations[index % 2]
        record("lab", open_then_pick(page, opener, name, f"lab activation {name}", quiet))


def warm_paints(browser, server, measures: dict, repeats: int) -> None:
    for _ in range(repeats):
        page = new_page(browser)
        try:
            paint = first_paint(page, server.url + LINK)
            wait_idle(page)
            measures["paint warm"].add(paint, page.evaluate(LOAD_SCRIPT))
            check(page, "warm load")
        finally:
            page.context.close()


def report(measures: dict) -> None:
    rows = [
        ("paint cold", "first paint, fresh server (goto → title + Train)"),
        ("paint warm", "first paint, warm server, new session"),
        ("first chart", "first chart of quick A1 (goto → chart, Train incl.)"),
        ("view", "switch view (Curves ↔ Pre-activations)"),
        ("runs", "change the selected runs (fragment)"),
        ("train", "Train on a trained set-up (cache hit)"),
        ("preset", "change preset (A1 ↔ A2)"),
        ("lab", "lab control (Saturation lab's Activation)"),
    ]
    width = max(len(label) for _, label in rows)
    print()
    print(
        f"{'action':<{width}}  {'n':>2}  {'median':>7}  {'min–max':>11}  "
        f"{'script':>7}  {'target':>7}  result"
    )
    for key, label in rows:
        measure = measures[key]
        if not measure.seconds:
            print(f"{label:<{width}}   0  (not measured)")
            continue
        median = statistics.median(measure.seconds)
        spread = f"{min(measure.seconds):.2f}–{max(measure.seconds):.2f}"
        script = f"{statistics.median(measure.script):.2f}" if measure.script else "—"
        met = "met" if median <= measure.target else "MISSED"
        print(
            f"{label:<{width}}  {len(measure.seconds):>2}  {median:6.2f}s  {spread:>11}  "
            f"{script:>6}s  ≤{measure.target:>4.1f} s  {met}"
        )
    ready = measures["ready"].seconds
    print(
        f"\nserver start → health check: median {statistics.median(ready):.1f} s "
        f"({min(ready):.1f}–{max(ready):.1f}). Script: time the page showed the script running "
        "(for first paint and first chart: the first load's runs, TensorFlow's import included)."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timings of each action (≥ 1)")
    parser.add_argument("--cold", type=int, default=3, help="fresh servers for the cold timings")
    parser.add_argument(
        "--quiet", type=float, default=0.5, help="seconds without change that end an action"
    )
    parser.add_argument("--log-dir", type=Path, help="keep the servers' logs here")
    parser.add_argument("--verbose", action="store_true", help="print every timing")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    if args.repeats < 1 or args.cold < 1:
        parser.error("--repeats and --cold must be at least 1")
    if not e2e.CHROMIUM.exists():
        print(e2e.NO_CHROMIUM, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    measures = {
        "ready": Measure("ready", 0.0),
        "paint cold": Measure("paint cold", TARGET_FIRST_PAINT),
        "paint warm": Measure("paint warm", TARGET_FIRST_PAINT),
        "first chart": Measure("first chart", TARGET_FIRST_CHART),
        **{key: Measure(key, TARGET_ACTION) for key in ("view", "runs", "train", "preset", "lab")},
    }
    started = time.perf_counter()
    exit_code = 0
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        log_dir = args.log_dir or Path(scratch)
        log_dir.mkdir(parents=True, exist_ok=True)
        browser = e2e.launch_chromium(playwright)  # open before the server, as a person's is
        server = None
        try:
            print(f"cold: {args.cold} fresh server(s), {LINK}", flush=True)
            for attempt in range(1, args.cold + 1):
                server, page = cold_start(
                    browser, log_dir, attempt, measures, keep=attempt == args.cold
                )
            print(f"cached actions: {args.repeats} each, after quick A1 and A2", flush=True)
            cached_actions(page, measures, args.repeats, args.quiet)
            page.context.close()
            print(f"warm first paint: {args.repeats} new sessions", flush=True)
            warm_paints(browser, server, measures, args.repeats)
        except ExceptionShown as shown:
            print(f"the app showed an exception: {shown}", file=sys.stderr)
            exit_code = 1
        except Exception as error:  # a timeout: report what was measured, then say why
            print(f"benchmark stopped: {type(error).__name__}: {error}", file=sys.stderr)
            exit_code = 1
        finally:
            if server is not None:
                server.stop()
            browser.close()
    report(measures)
    if LOST_CLICKS:
        print(f"{len(LOST_CLICKS)} click(s) started no script run and were taken again:")
        for lost in LOST_CLICKS:
            print(f"  {lost}")
    print(f"done in {time.perf_counter() - started:.0f} s")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
