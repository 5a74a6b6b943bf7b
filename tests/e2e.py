"""Shared helpers for driving the app in a real browser: a `streamlit run` server on a free
localhost port and Debian's Chromium through Playwright.

Used by tests/test_browser.py and the scripts in tools/ (screenshots, cold start, latency,
soak). Nothing here is downloaded: Playwright drives the system Chromium (`apt-get install
chromium`).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TITLE = "Initialization & Scaling Explorer"  # the page's title (its catalog message)
CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
SERVER_START_SECONDS = 90  # a cold `streamlit run` on a busy 2-core machine
RUN_SECONDS = 240  # the longest script run a caller waits for (training included)

APP_SELECTOR = "[data-testid=stApp]"
IDLE_SELECTOR = "[data-testid=stApp][data-test-script-state=notRunning]"
CHART_SELECTOR = "[data-testid=stVegaLiteChart]"
# A chart Vega has drawn: it renders into an svg (or a canvas) once its tab is shown.
DRAWN_CHART_SELECTOR = f"{CHART_SELECTOR} :is(svg, canvas).marks"
EXCEPTION_SELECTOR = "[data-testid=stException]"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StreamlitServer:
    """`streamlit run app.py`, headless, on a free localhost port, with its log in a file."""

    def __init__(self, log_path: Path, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            # An edit to the sources while a test runs must not rerun the app or show a banner.
            "--server.fileWatcherType",
            "none",
        ]
        self._log = open(log_path, "wb")  # closed in stop()
        self.ready_seconds: float | None = None  # set by wait_healthy
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout: float = SERVER_START_SECONDS) -> float:
        """Poll /_stcore/health until it answers "ok"; returns the seconds since start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        self.ready_seconds = time.perf_counter() - self.started_at
                        return self.ready_seconds
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"streamlit not healthy after {timeout} s:\n{self.log()}")

    def peak_rss_bytes(self) -> int:
        """VmHWM (peak resident set) of the server and its child processes, summed."""
        total = 0
        for pid in [self.process.pid, *_descendants(self.process.pid)]:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) * 1024
        return total

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server and its child processes have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in [self.process.pid, *_descendants(self.process.pid)]:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        return total

    def wait_idle(self, timeout: float, window: float = 0.5, cores: float = 0.15) -> float:
        """Seconds until the server used under `cores` of CPU over a `window`; TimeoutError
        after `timeout` (a training still running, say)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            before = self.cpu_seconds()
            time.sleep(window)
            if (self.cpu_seconds() - before) / window < cores:
                return time.monotonic() - started - window
        raise TimeoutError(f"the server was still busy {timeout} s later")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _descendants(pid: int) -> list[int]:
    children = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            children.extend(int(child) for child in text)
    return [grand for child in children for grand in [child, *_descendants(child)]]


@contextlib.contextmanager
def streamlit_server(log_dir: Path | None = None) -> Iterator[StreamlitServer]:
    """A healthy server for the duration of the block."""
    with tempfile.TemporaryDirectory() as scratch:
        server = StreamlitServer(Path(log_dir or scratch) / "streamlit.log")
        try:
            server.wait_healthy()
            yield server
        finally:
            server.stop()


def launch_chromium(playwright):
    """Debian's Chromium, headless; Playwright gives each launch a fresh profile."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


# --- page helpers ---------------------------------------------------------------------------


def translated(message: str, language: str) -> str:
    """`message` (an English message of the app's catalog) as the page shows it in `language`."""
    from explorer.i18n import _, use_language

    with use_language(language):
        return _(message)


def title_pattern() -> re.Pattern:
    """The page's title in any of its languages."""
    from explorer.i18n import LANGUAGES

    titles = {translated(TITLE, language) for language in LANGUAGES}
    return re.compile("|".join(f"^{re.escape(title)}$" for title in sorted(titles)))


def open_app(page, url: str, timeout: float = RUN_SECONDS) -> None:
    """Load the page and wait for the first script run to end (the title is drawn, in
    whichever language the link or the browser asks for)."""
    page.goto(url)
    page.get_by_role("heading", name=title_pattern()).wait_for(timeout=timeout * 1000)
    page.wait_for_selector(IDLE_SELECTOR, timeout=timeout * 1000)


def watch_script_runs(page) -> None:
    """Record, from now on, whether the app's script started a run (even a brief one)."""
    page.evaluate(
        """() => {
            window.__sawRun = false;
            const app = document.querySelector('[data-testid=stApp]');
            new MutationObserver((records) => {
                const now = app.dataset.testScriptState;
                if (now === 'running' || records.some((r) => r.oldValue === 'running')) {
                    window.__sawRun = true;
                }
            }).observe(app, {
                attributes: true,
                attributeOldValue: true,
                attributeFilter: ['data-test-script-state'],
            });
        }"""
    )


RUN_ENDED = """() => window.__sawRun && document.querySelector('[data-testid=stApp]')
    .dataset.testScriptState === 'notRunning'"""


def run_ended(page) -> bool:
    """After `watch_script_runs`: whether a run has started and ended since."""
    return page.evaluate(RUN_ENDED)


def wait_for_run_end(page, timeout: float = RUN_SECONDS) -> None:
    """After `watch_script_runs` and an action: wait for a run to have started and ended."""
    page.wait_for_function(RUN_ENDED, timeout=timeout * 1000)


RUN_STARTED = "() => window.__sawRun"
LOST_CLICK_SECONDS = 15  # a click that started no run by then was lost: it is made once more


def act_and_wait(page, action: Callable[[], None], timeout: float = RUN_SECONDS) -> None:
    """Do `action` (a click) and wait for the script run it triggers to end.

    On a busy machine the page rarely loses a click (no run starts; seen about once in a few
    hundred clicks here, also by tools/latency.py): such a click is made once more.
    """
    watch_script_runs(page)
    action()
    try:
        page.wait_for_function(RUN_STARTED, timeout=LOST_CLICK_SECONDS * 1000)
    except PlaywrightTimeoutError:
        action()
    wait_for_run_end(page, timeout)


def sidebar(page):
    return page.locator("[data-testid=stSidebar]")


def train_button(page, label: str = "Train"):
    """The sidebar form's Train button (`label`: its label in the page's language)."""
    return sidebar(page).get_by_role("button", name=label, exact=True)


def press_train(page, timeout: float = RUN_SECONDS, label: str = "Train") -> None:
    act_and_wait(page, train_button(page, label).click, timeout)


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` (a react-aria combobox)."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def switch_on(page, label: str) -> None:
    """Turn the toggle `label` on (its input is visually hidden: click its label)."""
    if not page.get_by_role("switch", name=label, exact=True).is_checked():
        act_and_wait(page, sidebar(page).get_by_text(label, exact=True).click)


def combobox_value(page, label: str) -> str:
    return page.get_by_role("combobox", name=label, exact=True).input_value()


def number_input(page, label: str):
    return page.get_by_label(label, exact=True)


def number_value(page, label: str) -> str:
    return number_input(page, label).input_value()


def expect_number(page, label: str, value: str, timeout: float = 10) -> None:
    """Wait for the number input `label` to show `value`. Right after a link's first run the
    browser can still show the widget's default for a frame or two (measured: 255 for ~70 ms
    in 9 of 40 loads of an A3 link, with no script run between), so reading it once races.
    """
    from playwright.sync_api import expect

    expect(number_input(page, label)).to_have_value(value, timeout=timeout * 1000)


def open_tab(page, name: str, timeout: float = RUN_SECONDS):
    """Click the main area's tab `name` and wait for the view to be drawn (only the open view
    renders: a click reruns the script); returns its visible panel."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.get_attribute("aria-selected") != "true":
        act_and_wait(page, tab.click, timeout)
    return page.locator("[data-testid=stTabPanel]:visible")


def summary_value(page, measure: str) -> str:
    """The value next to `measure` in the first Summary table (a Glide grid's a11y table)."""
    cells = (
        page.locator("[data-testid=stDataFrame] tr").filter(has_text=measure).first.locator("td")
    )
    return (cells.nth(1).text_content() or "").strip()


def share_link(page) -> str:
    """The first link in the open view's "Share this view" popover (then closed again)."""
    panel = page.locator("[data-testid=stTabPanel]:visible")
    panel.get_by_role("button", name=re.compile("Share this view")).click()
    code = page.locator("[data-testid=stPopoverBody] [data-testid=stCode] code").first
    code.wait_for(state="visible")
    link = code.inner_text().strip()
    page.keyboard.press("Escape")
    return link
