"""Soak the app as a careless class would: abandon runs, stack Train/Stop, run 50 distinct runs.

    python tools/soak.py [--runs 50] [--abandons 3]

A real `streamlit run` server and headless Chromium (tests/e2e.py). A sampler reads the
server's RSS and CPU time every 0.25 s. Phases:
1. abandon: a long training (the issue's repro link) is started and its tab closed mid-way;
   the time until the server's CPU falls back to idle is measured, `--abandons` times.
2. cancel: Train, then the Cancel button; again the time to idle.
3. stop: Train → Stop → Train → Stop → Train in one tab (Streamlit's own Stop), then close:
   CPU use while stacked (at most one training's worth) and the time to idle.
4. runs: `--runs` distinct quick runs, each in a fresh tab; RSS after the 5th and the last.
Prints RSS over time, each figure against its target, and exits 1 on a missed target or an
exception on a page or in the server log.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import e2e

PEAK_RSS_TARGET_MB = 1200
IDLE_TARGET_SECONDS = 2.0
GROWTH_TARGET_MB = 150  # RSS after the last distinct run minus RSS after the 5th
IDLE_CORES = 0.10  # below this share of one core the server counts as idle
# The repro: tiny layers, batch 1, 50 epochs, 100 checkpoints each (about a minute).
LONG_RUN = {
    "hidden_units": "8,8,8,8",
    "train_samples": "1000",
    "validation_samples": "1000",
    "batch_size": "1",
    "epochs": "50",
    "checkpoints_per_epoch": "100",
}


class Sampler(threading.Thread):
    """RSS (MB) and CPU (cores busy since the previous sample) of the server, every 0.25 s."""

    def __init__(self, server: e2e.StreamlitServer):
        super().__init__(daemon=True)
        self.server, self.samples, self.running = server, [], True
        self.started = time.monotonic()

    def rss_mb(self) -> float:
        total = 0
        for pid in [self.server.process.pid, *e2e._descendants(self.server.process.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def run(self) -> None:
        last_time, last_cpu = time.monotonic(), self.server.cpu_seconds()
        while self.running:
            time.sleep(0.25)
            now, cpu = time.monotonic(), self.server.cpu_seconds()
            cores = (cpu - last_cpu) / max(now - last_time, 1e-6)
            self.samples.append((now - self.started, self.rss_mb(), cores))
            last_time, last_cpu = now, cpu

    def since(self, moment: float) -> list[tuple[float, float, float]]:
        return [sample for sample in self.samples if sample[0] >= moment - self.started]

    def seconds_to_idle(self, moment: float, timeout: float = 20.0) -> float:
        """Seconds from `moment` until the CPU first stays under IDLE_CORES for 0.75 s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            samples = self.since(moment)
            for index in range(len(samples) - 2):
                window = samples[index : index + 3]
                if all(cores < IDLE_CORES for _, _, cores in window):
                    # The idle window starts after the sample before it: time to that point.
                    return max(0.0, window[0][0] - 0.25 - (moment - self.started))
            time.sleep(0.25)
        return float("inf")


def link(server: e2e.StreamlitServer, **params: str) -> str:
    return f"{server.url}/?{urlencode(params)}"


def check_page(page, problems: list[str], where: str) -> None:
    if page.locator(e2e.EXCEPTION_SELECTOR).count():
        problems.append(f"{where}: {page.locator(e2e.EXCEPTION_SELECTOR).first.inner_text()}")


def start_training(page) -> None:
    """Press Train and wait until the progress bar says it trains."""
    e2e.train_button(page).click()
    page.get_by_text("training, step").first.wait_for(timeout=120_000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--abandons", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    problems, idle = [], {}
    with e2e.streamlit_server() as server, sync_playwright() as playwright:
        sampler = Sampler(server)
        sampler.start()
        browser = e2e.launch_chromium(playwright)
        print(f"server ready in {server.ready_seconds:.1f} s; RSS {sampler.rss_mb():.0f} MB")

        for index in range(args.abandons):  # 1. abandon: close the tab mid-training
            context = browser.new_context()
            page = context.new_page()
            e2e.open_app(page, link(server, seed=str(index), **LONG_RUN))
            start_training(page)
            time.sleep(3)
            check_page(page, problems, "abandon")
            closed = time.monotonic()
            context.close()
            idle[f"abandon {index + 1}"] = sampler.seconds_to_idle(closed)

        context = browser.new_context()  # 2. the Cancel button
        page = context.new_page()
        e2e.open_app(page, link(server, seed="100", **LONG_RUN))
        start_training(page)
        time.sleep(2)
        pressed = time.monotonic()
        page.get_by_role("button", name="Cancel training").click()
        page.get_by_text("Cancelled").first.wait_for(timeout=30_000)
        idle["cancel"] = sampler.seconds_to_idle(pressed)
        check_page(page, problems, "cancel")
        context.close()

        context = browser.new_context()  # 3. Train → Stop, three times in one tab
        page = context.new_page()
        stacked_from = None
        for index in range(3):
            e2e.open_app(page, link(server, seed=str(200 + index), **LONG_RUN))
            start_training(page)
            stacked_from = stacked_from or time.monotonic()
            time.sleep(2)
            page.get_by_role("button", name="Stop").first.click()
            time.sleep(0.5)
        busiest = max((cores for _, _, cores in sampler.since(stacked_from)), default=0.0)
        check_page(page, problems, "stop")
        closed = time.monotonic()
        context.close()
        idle["stop"] = sampler.seconds_to_idle(closed)

        rss_after = {}  # 4. distinct quick runs, each in a fresh tab
        run_started = time.monotonic()
        for index in range(args.runs):
            context = browser.new_context()
            page = context.new_page()
            widths = ["32", "64,32", "16,16,16"][index % 3]
            e2e.open_app(
                page,
                link(
                    server,
                    train_samples="2000",
                    validation_samples="500",
                    epochs="1",
                    seed=str(1000 + index),
                    hidden_units=widths,
                ),
            )
            e2e.press_train(page)
            check_page(page, problems, f"run {index + 1}")
            context.close()
            if index + 1 in (5, args.runs):
                time.sleep(2)
                rss_after[index + 1] = sampler.rss_mb()
                print(
                    f"after {index + 1} distinct runs: RSS {rss_after[index + 1]:.0f} MB "
                    f"({time.monotonic() - run_started:.0f} s)",
                    flush=True,
                )
        browser.close()
        sampler.running = False
        sampler.join()
        log = server.log()
    if "Traceback" in log:
        problems.append("the server log holds a traceback:\n" + log)

    print("\nRSS over time (MB), every 10 s:")
    print(" ".join(f"{rss:.0f}" for moment, rss, _ in sampler.samples if moment % 10 < 0.25))
    peak = max(rss for _, rss, _ in sampler.samples)
    growth = rss_after.get(args.runs, 0.0) - rss_after.get(5, 0.0)
    rows = [
        (
            "peak server RSS",
            f"{peak:.0f} MB",
            f"≤ {PEAK_RSS_TARGET_MB} MB",
            peak <= PEAK_RSS_TARGET_MB,
        ),
        (
            f"RSS after {args.runs} runs − after 5",
            f"{growth:+.0f} MB",
            f"≤ {GROWTH_TARGET_MB} MB",
            growth <= GROWTH_TARGET_MB,
        ),
        *(
            (
                f"CPU idle after {what}",
                f"{seconds:.2f} s",
                f"≤ {IDLE_TARGET_SECONDS:g} s",
                seconds <= IDLE_TARGET_SECONDS,
            )
            for what, seconds in idle.items()
        ),
        ("busiest CPU while Train/Stop stacked", f"{busiest:.2f} cores", "one training", True),
        ("exceptions (pages, server log)", str(len(problems)), "0", not problems),
    ]
    print()
    for name, value, target, met in rows:
        print(f"{name:40} {value:>12}   target {target:12} {'met' if met else 'MISSED'}")
    for problem in problems:
        print(problem)
    return 0 if all(met for *_, met in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
