"""Cold start and memory of the app: `python tools/cold_start.py [--repeat N]`.

Measures, in a real browser, the seconds from `streamlit run app.py` (the process starting) to
the first chart of the default preset, and the server's peak memory:

1. Chromium is started first (a person's browser is already open), then the server process;
2. server ready: `/_stcore/health` answers;
3. page loaded: `/?preset=A1&quick=true` shows its title and the first script run has ended
   (TensorFlow and the dataset imported);
4. Train pressed: the sidebar's Train button is clicked;
5. first chart: the live training curves are drawn (an svg inside a Vega-Lite chart, visible).

Peak memory is VmHWM (peak resident set) of the server and any child process, read from
/proc after the run has finished, just before the server is stopped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import e2e

URL_PATH = "/?preset=A1&quick=true"
TARGET_SECONDS = 20.0
TARGET_PEAK_BYTES = 1.2e9


def measure(playwright) -> dict[str, float]:
    """One cold start; returns the seconds of each stage since the process start, and peak RSS."""
    browser = e2e.launch_chromium(playwright)
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.set_default_timeout(e2e.RUN_SECONDS * 1000)
    try:
        with e2e.streamlit_server() as server:
            times = {"server ready": server.ready_seconds}
            since_start = lambda: time.perf_counter() - server.started_at  # noqa: E731
            e2e.open_app(page, server.url + URL_PATH)
            times["page loaded"] = since_start()
            e2e.watch_script_runs(page)
            e2e.train_button(page).click()
            times["Train pressed"] = since_start()
            page.locator(f"{e2e.DRAWN_CHART_SELECTOR} >> visible=true").first.wait_for()
            times["first chart"] = since_start()
            e2e.wait_for_run_end(page)
            times["run finished"] = since_start()
            assert page.locator(e2e.EXCEPTION_SELECTOR).count() == 0, "the app raised"
            times["peak RSS"] = server.peak_rss_bytes()
    finally:
        browser.close()
    return times


def report(times: dict[str, float]) -> bool:
    for stage in ("server ready", "page loaded", "Train pressed", "first chart", "run finished"):
        print(f"  {stage:<14} {times[stage]:6.1f} s after `streamlit run` started")
    first_chart, peak = times["first chart"], times["peak RSS"]
    chart_ok, memory_ok = first_chart <= TARGET_SECONDS, peak <= TARGET_PEAK_BYTES
    print(
        f"  first chart    {first_chart:6.1f} s   (target ≤ {TARGET_SECONDS:.0f} s): "
        f"{'PASS' if chart_ok else 'MISS'}"
    )
    print(
        f"  peak RSS       {peak / 1e9:6.2f} GB  (target ≤ {TARGET_PEAK_BYTES / 1e9:.1f} GB): "
        f"{'PASS' if memory_ok else 'MISS'}"
    )
    return chart_ok and memory_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="cold starts to measure")
    args = parser.parse_args()
    if not e2e.CHROMIUM.exists():
        print(e2e.NO_CHROMIUM, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    print(f"Cold start of `streamlit run app.py`, first chart of {URL_PATH} after Train:")
    passed = True
    with sync_playwright() as playwright:
        for attempt in range(1, args.repeat + 1):
            print(f"run {attempt} of {args.repeat}:")
            passed = report(measure(playwright)) and passed
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
