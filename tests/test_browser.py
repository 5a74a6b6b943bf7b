"""The app as a person sees it: `streamlit run app.py` driven by a real Chromium.

One server for the module; every test trains small set-ups (a few seconds each) and uses its
own configuration, so the server's shared cache never answers one test with another's run.
"""

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import e2e
import pytest

from explorer.presets import PRESETS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not e2e.CHROMIUM.exists(), reason=e2e.NO_CHROMIUM),
    pytest.mark.usefixtures("fashion"),  # the app trains on it: skips as the fixture says
]

QUICK_LOOK = "Quick look (10,000 training images)"
# Every tab of the first release and the least number of drawn charts in it after one run.
CHARTS_PER_TAB = {
    "Curves": 2,
    "Pre-activations": 2,
    "Saturation": 3,
    "Gradients and updates": 1,
    "Data": 1,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with e2e.streamlit_server(tmp_path_factory.mktemp("streamlit")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = e2e.launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, server):
    """A page in a fresh browser context: its own cookies, its own Streamlit session."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1400, "height": 1200})
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert "Traceback" not in server.log(), server.log()


def assert_no_exception(page):
    exceptions = page.locator(e2e.EXCEPTION_SELECTOR)
    assert exceptions.count() == 0, exceptions.first.inner_text()


def test_preset_trains_shows_charts_and_its_short_link_reopens_the_runs(server, new_page):
    page = new_page()
    e2e.open_app(page, server.url + "/")
    assert page.get_by_text("Nothing trained yet").is_visible()
    assert page.get_by_text("The two puzzles, answered").is_visible()
    assert_no_exception(page)

    e2e.act_and_wait(page, lambda: e2e.choose(page, "Preset", "A3"))
    e2e.expect_number(page, "Divide weights by", "255")
    assert page.get_by_role("switch", name=QUICK_LOOK).is_checked()  # on by default
    e2e.press_train(page)

    assert_no_exception(page)
    assert e2e.summary_value(page, "epochs trained") == "2 of 2"
    assert e2e.summary_value(page, "diverged") == "no"
    for tab, least in CHARTS_PER_TAB.items():
        panel = e2e.open_tab(page, tab)
        drawn = panel.locator(e2e.DRAWN_CHART_SELECTOR)
        drawn.nth(least - 1).wait_for(state="visible")
        assert drawn.count() >= least, tab
        assert_no_exception(page)

    e2e.open_tab(page, "Curves")
    link = e2e.share_link(page)
    query = parse_qs(urlsplit(link).query)
    assert link.startswith(server.url)
    assert query == {"preset": ["A3"], "runs": ["A3"], "view": ["Curves"]}
    assert len(link) - len(server.url) < 120  # short enough for a slide

    # A student opens the link in a fresh browser: the same view, the same run, drawn.
    restored = new_page()
    e2e.open_app(restored, link)
    assert_no_exception(restored)
    open_view = restored.get_by_role("tab", selected=True)
    assert open_view.inner_text().strip() == "Curves"
    panel = restored.locator("[data-testid=stTabPanel]:visible")
    panel.locator(e2e.DRAWN_CHART_SELECTOR).nth(1).wait_for(state="visible")
    assert panel.get_by_text(PRESETS["A3"].title).first.is_visible()  # the run, by its name
    e2e.expect_number(restored, "Divide pixels by", "1")
    e2e.expect_number(restored, "Divide weights by", "255")
    assert e2e.combobox_value(restored, "Preset") == "A3"
    assert float(e2e.number_value(restored, "First-layer lr ×")) == pytest.approx(1 / 255**2)
    assert restored.get_by_role("switch", name=QUICK_LOOK).is_checked()


def history_csv(page) -> list[dict[str, str]]:
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download history \\(CSV\\)")).first.click()
    return list(csv.DictReader(io.StringIO(download.value.path().read_text())))


def test_two_sessions_pressing_train_at_once_share_one_training(server, new_page):
    # A set-up no other test trains; both sessions ask for it while the first is training.
    url = f"{server.url}/?preset=A1&train_samples=3000&validation_samples=500&epochs=1&seed=11"
    pages = [new_page(), new_page()]
    for page in pages:
        e2e.open_app(page, url)
        e2e.watch_script_runs(page)
    train = [e2e.train_button(page) for page in pages]
    train[0].click()
    train[1].click()
    assert not e2e.run_ended(pages[0]), "the second Train came after the first run ended"
    for page in pages:
        e2e.wait_for_run_end(page)
        assert_no_exception(page)

    # train_seconds and every checkpoint's elapsed_s are wall-clock readings of one training
    # process: two trainings would not agree to the microsecond.
    times = [e2e.summary_value(page, "training time") for page in pages]
    assert times[0] == times[1] and times[0].endswith("set-up)"), times
    histories = [history_csv(page) for page in pages]
    elapsed = [[row["elapsed_s"] for row in history] for history in histories]
    assert len(elapsed[0]) > 10 and float(elapsed[0][-1]) > 0
    assert elapsed[0] == elapsed[1]


def test_twin_lab_trains_three_runs_and_explains_them_with_their_numbers(server, new_page):
    page = new_page()
    url = f"{server.url}/?preset=A1&train_samples=3000&validation_samples=500&epochs=1&seed=5"
    e2e.open_app(page, url + "&twin_factor=255&twin_optimizer=sgd")
    panel = e2e.open_tab(page, "Twin lab")
    e2e.act_and_wait(page, panel.get_by_role("button", name="Train the three twins").click)

    # The lab's button reruns the lab (a fragment), which reruns the whole page to train the
    # three as one group: the heading comes once that second run has trained them.
    heading = "Why runs 1 and 2 part, and why run 3 does not"
    panel.get_by_role("heading", name=heading).wait_for(timeout=e2e.RUN_SECONDS * 1000)
    assert_no_exception(page)
    drawn = panel.locator(e2e.DRAWN_CHART_SELECTOR)
    drawn.nth(3).wait_for(state="visible")  # first steps, histograms, curves, loss gap
    # The derivation quotes this run's measured first-step ratio next to c² = 65,025.
    measured = panel.locator("li", has_text="Measured on the first step").inner_text()
    ratio, square = re.findall(r"= ([\d,.]+)", measured)[:2]
    assert float(square.replace(",", "")) == 255**2
    assert float(ratio.replace(",", "")) == pytest.approx(255**2, rel=1e-3)


# The repro: tiny layers, batch 1, 50 epochs of 100 checkpoints (about a minute).
LONG_RUN = (
    "/?hidden_units=8,8,8,8&train_samples=1000&validation_samples=1000&batch_size=1&epochs=50"
    "&checkpoints_per_epoch=100"
)


def start_training(page) -> None:
    e2e.train_button(page).click()
    page.get_by_text("training, step").first.wait_for(timeout=120_000)


def test_cancel_and_a_closed_tab_stop_the_training(server, new_page):
    page = new_page()
    e2e.open_app(page, server.url + LONG_RUN + "&seed=11")
    start_training(page)
    page.get_by_role("button", name="Cancel training").click()
    page.get_by_text("Cancelled").first.wait_for()
    assert server.wait_idle(timeout=4) < 3  # the training stopped, not only the page
    assert_no_exception(page)

    abandoned = new_page()
    e2e.open_app(abandoned, server.url + LONG_RUN + "&seed=12")
    start_training(abandoned)
    abandoned.context.close()  # the tab closes mid-training
    assert server.wait_idle(timeout=5) < 4


def test_a_chinese_browser_gets_the_page_and_its_charts_in_chinese(server, browser):
    """A Chromium whose locale is zh-TW, with no `lang` in the link: the title, the sidebar, the
    Train button and, once a quick preset has trained, a chart's axis titles in 繁體中文."""
    zh = {
        message: e2e.translated(message, "zh-TW")
        for message in (e2e.TITLE, "Preset", "Learning rate", "Epochs", "Loss", "Train", "Curves")
    }
    context = browser.new_context(viewport={"width": 1400, "height": 1200}, locale="zh-TW")
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        url = f"{server.url}/?preset=A1&train_samples=2000&validation_samples=500&epochs=1&seed=21"
        e2e.open_app(page, url)
        assert page.get_by_role("heading", name=zh[e2e.TITLE]).is_visible()
        assert page.title() == zh[e2e.TITLE]
        assert "lang=zh-TW" in page.url  # a link copied from here keeps the language
        for label in ("Preset", "Learning rate", "Epochs", "Loss"):
            # The first visible one: a label's text can also sit in a hidden tooltip.
            shown = e2e.sidebar(page).get_by_text(zh[label], exact=True).locator("visible=true")
            shown.first.wait_for(state="visible", timeout=10_000)
        e2e.press_train(page, label=zh["Train"])
        assert_no_exception(page)

        panel = e2e.open_tab(page, zh["Curves"])
        chart = panel.locator(e2e.DRAWN_CHART_SELECTOR).first
        chart.wait_for(state="visible")
        # Vega draws an SVG whose axes say their titles: "X-axis titled '訓練週期' for a …".
        axes = chart.locator("[aria-label*='-axis titled']")
        titles = [
            re.search(r"-axis titled '(.*?)'", axis.get_attribute("aria-label")).group(1)
            for axis in axes.all()
        ]
        assert titles and "訓練週期" in titles, titles  # the glossary's word for epoch
        for title in titles:
            assert re.search(r"[\u4e00-\u9fff]", title) and not re.search(r"[a-z]{3}", title), title
        assert set(titles) <= set(chart.locator("text").all_text_contents())  # drawn, not only said
        assert_no_exception(page)
    finally:
        context.close()
    assert "Traceback" not in server.log(), server.log()
