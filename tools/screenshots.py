"""Write the README's screenshots of the main views: `python tools/screenshots.py`.

Starts `streamlit run app.py` on a free port, drives Debian's Chromium (1400 px wide) through
the views with quick-look set-ups (10,000 training images; about a minute in all on two cores)
and saves PNGs, cropped to the part of the page that matters, to docs/images/.
B2/B3 are MNIST presets; this uses Fashion-MNIST in their place (MNIST may not be available).

`--lang zh-TW` takes the same screenshots of the 繁體中文 page (the browser's locale asks for
it) into docs/images/zh-TW/. Buttons, tabs and options are found by their text in the page's
language, read from the app's own catalog, and options by their identifier's name.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import e2e

from explorer import config as cfg
from explorer.i18n import DEFAULT_LANGUAGE, LANGUAGES, use_language

OUT_DIR = e2e.ROOT / "docs" / "images"
WINDOW = {"width": 1400, "height": 2400}  # tall: Streamlit's main area scrolls on its own
MARGIN = 12
# The browser's locale for each language: the page reads it (no `lang` in the links).
LOCALES = {"en": "en-US", "zh-TW": "zh-TW"}
LANGUAGE = DEFAULT_LANGUAGE  # the page's language for this run (main() sets it)


def t(message: str) -> str:
    """An English message of the app's catalog as the page shows it in LANGUAGE."""
    return e2e.translated(message, LANGUAGE)


def option(field: str, value: str) -> str:
    """Option `value` of the sidebar's choice `field` as the page names it in LANGUAGE."""
    with use_language(LANGUAGE):
        return cfg.option_name(field, value)


def press_train(page) -> None:
    e2e.press_train(page, label=t("Train"))


def crop(page, path: Path, top, bottom=None, whole_window: bool = False) -> None:
    """Screenshot from `top`'s top to `bottom`'s bottom, across the main area (or the window)."""
    if not whole_window:  # bring `top` to the window's top: the main area scrolls on its own
        top.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(800)  # let Vega finish drawing and transitions settle
    main = page.locator("[data-testid=stMain]").bounding_box()
    first = top.bounding_box()
    last = (bottom or top).bounding_box()
    left = 0 if whole_window else main["x"] + MARGIN * 4
    right = WINDOW["width"] - MARGIN if whole_window else main["x"] + main["width"] - MARGIN * 4
    upper = 0 if whole_window else max(first["y"] - MARGIN, 0)
    lower = last["y"] + last["height"] + MARGIN
    clip = {"x": left, "y": upper, "width": right - left, "height": lower - upper}
    page.screenshot(path=path, clip=clip)
    print(f"  {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


def runs_picker(page):
    return page.locator("[data-testid=stMultiSelect]").first


def panel_bottom(panel):
    return panel.locator("[data-testid=stVerticalBlock]").first


def comparison_a(page, url: str, out: Path) -> None:
    """A1, A2 and A3 trained together (the sidebar's set button) and overlaid."""
    e2e.open_app(page, f"{url}/?preset=A1&quick=true")
    set_label = t("Train {presets} and compare").format(presets="A1, A2, A3")
    set_button = e2e.sidebar(page).get_by_role("button", name=set_label)
    e2e.act_and_wait(page, set_button.click)
    panel = e2e.open_tab(page, t("Curves"))
    panel.locator(e2e.DRAWN_CHART_SELECTOR).first.wait_for()
    downloaded_figure(page, panel, out / "downloaded_curves.png")
    for tab, name in [
        ("Curves", "a123_curves.png"),
        ("Pre-activations", "a123_preactivations.png"),
        ("Gradients and updates", "a123_gradients.png"),
    ]:
        panel = e2e.open_tab(page, t(tab))
        panel.locator(e2e.DRAWN_CHART_SELECTOR).first.wait_for()
        crop(page, out / name, runs_picker(page), panel_bottom(panel))
    # Back on Summary (a rerun: the training's progress and Cancel button are gone), the whole
    # window down to the lower of the sidebar's form and the Summary's tables.
    panel = e2e.open_tab(page, t("Summary"))
    parts = [e2e.sidebar(page).locator("[data-testid=stForm]"), panel_bottom(panel)]
    bottom = max(parts, key=lambda part: part.bounding_box()["y"] + part.bounding_box()["height"])
    crop(page, out / "overview.png", page.locator("[data-testid=stMain]"), bottom, True)


def downloaded_figure(page, panel, path: Path) -> None:
    """The Curves figure as a teacher gets it: the view's figures zip, its curves.png."""
    import io
    import zipfile

    button = panel.get_by_role("button", name=t("Download figures (SVG + PNG)"))
    with page.expect_download(timeout=120_000) as download:
        button.click()
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        path.write_bytes(archive.read("curves.png"))
    print(f"  {path}")


def puzzle_cards(page, url: str, out: Path) -> None:
    """The first screen: the two puzzle cards, before anything is trained."""
    e2e.open_app(page, f"{url}/")
    cards = page.locator("[data-testid=stExpander]").first
    crop(
        page, out / "puzzle_cards.png", page.get_by_role("heading", name=e2e.title_pattern()), cards
    )


def saturation_b1(page, url: str, out: Path) -> None:
    """B1: N(0, 1) weights on uniform inputs, at init; Train draws the picture, no training."""
    e2e.open_app(page, f"{url}/?preset=B1")
    press_train(page)
    panel = e2e.open_tab(page, t("Saturation"))
    panel.locator(e2e.DRAWN_CHART_SELECTOR).first.wait_for()
    tabs = page.get_by_role("tab", name=t("Summary"))
    crop(page, out / "b1_saturation.png", tabs, panel_bottom(panel))


def comparison_b(page, url: str, out: Path) -> None:
    """The B set at full size, three seeds each: B2, then B3, B4 and B5 as one change each."""
    # Full size (60,000 images, 20 epochs): on 10,000 images no run but B5 gets past 25%. The
    # presets name MNIST, which a build machine may lack: Fashion-MNIST, shown as such.
    e2e.open_app(page, f"{url}/?preset=B2&dataset=fashion_mnist&quick=false&seeds=3")
    press_train(page)  # B2: three seeds, one group
    changes = [  # B3, B4, B5: each one change from B2 (inside the form: no rerun)
        [(t("Kernel initializer"), option("kernel_initializer", "glorot_uniform"))],
        [(t("Kernel initializer"), option("kernel_initializer", "random_normal"))],
        [(t("Loss"), option("loss", "cross_entropy"))],
    ]
    for change in changes:
        for label, shown in change:
            e2e.choose(page, label, shown)
        if change is changes[1]:  # N(0, 1): the stddev too
            field = e2e.number_input(page, t("Stddev (normal) or limit (uniform)"))
            field.fill("1")
        press_train(page)
        if change is changes[1]:
            field = e2e.number_input(page, t("Stddev (normal) or limit (uniform)"))
            field.fill("0.05")  # back to B2's for the loss change
    picker = runs_picker(page)
    picker.get_by_role("combobox").click()  # the list's first option selects every run
    e2e.act_and_wait(page, page.get_by_role("option").first.click)
    page.keyboard.press("Escape")
    for tab, name in [
        ("Curves", "bset_curves.png"),
        ("Saturation", "bset_saturation.png"),
        ("Summary", "bset_summary.png"),
    ]:
        panel = e2e.open_tab(page, t(tab))
        if tab != "Summary":
            panel.locator(e2e.DRAWN_CHART_SELECTOR).first.wait_for()
        crop(page, out / name, runs_picker(page), panel_bottom(panel))


def twin_lab(page, url: str, out: Path) -> None:
    """Twin lab on A1 (quick look, SGD, c = 255): derivation, first steps, histograms, curves."""
    e2e.open_app(page, f"{url}/?preset=A1&quick=true")
    panel = e2e.open_tab(page, t("Twin lab"))
    e2e.act_and_wait(page, panel.get_by_role("button", name=t("Train the three twins")).click)
    heading = panel.get_by_role("heading", name=t("Why runs 1 and 2 part, and why run 3 does not"))
    panel.locator(e2e.DRAWN_CHART_SELECTOR).first.wait_for()
    crop(page, out / "twin_derivation.png", heading, panel.locator("[data-testid=stDataFrame]"))
    curves = panel.get_by_role("heading", name=t("Curves: does run 3 lie on run 1?"))
    crop(page, out / "twin_curves.png", curves, panel.locator(e2e.CHART_SELECTOR).last)


def sweep_lab(page, url: str, out: Path) -> None:
    """Sweep of the input scale on A1 (quick look), three seeds a value: raw pixels diverge,
    ÷255 trains, and each value's band shows how far its seeds agree."""
    query = "sweep_knob=input_scale&sweep_scale=log&sweep_from=1&sweep_to=255&sweep_count=5"
    e2e.open_app(page, f"{url}/?preset=A1&quick=true&seeds=3&{query}")
    panel = e2e.open_tab(page, t("Sweep"))
    e2e.act_and_wait(page, panel.get_by_role("button", name=t("Run the sweep")).click)
    panel.locator(e2e.DRAWN_CHART_SELECTOR).first.wait_for()
    crop(
        page,
        out / "sweep_input_scale.png",
        panel.locator("[data-testid=stForm]"),
        panel_bottom(panel),
    )


def saturation_lab(page, url: str, out: Path) -> None:
    """Saturation lab: random_normal(1.0), sigmoid, on real images ÷255 (drawn, not trained)."""
    e2e.open_app(
        page, f"{url}/?sat_initializer=random_normal&sat_activation=sigmoid&sat_input=scaled"
    )
    panel = e2e.open_tab(page, t("Saturation lab"))
    panel.locator(e2e.DRAWN_CHART_SELECTOR).first.wait_for()
    crop(
        page,
        out / "saturation_lab.png",
        panel.locator("[data-testid=stHorizontalBlock]").first,
        panel_bottom(panel),
    )


VIEWS = {
    "cards": puzzle_cards,
    "a123": comparison_a,
    "b1": saturation_b1,
    "bset": comparison_b,
    "twin": twin_lab,
    "sweep": sweep_lab,
    "satlab": saturation_lab,
}


def main() -> int:
    global LANGUAGE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lang",
        choices=list(LANGUAGES),
        default=DEFAULT_LANGUAGE,
        help="the page's language (default: en); other than English, --out defaults to "
        "docs/images/<lang>/",
    )
    parser.add_argument("--out", type=Path, help=f"folder for the PNGs (default: {OUT_DIR})")
    parser.add_argument("views", nargs="*", help=f"some of {', '.join(VIEWS)} (default: all)")
    args = parser.parse_args()
    LANGUAGE = args.lang
    if args.out is None:
        args.out = OUT_DIR if LANGUAGE == DEFAULT_LANGUAGE else OUT_DIR / LANGUAGE
    unknown = set(args.views) - set(VIEWS)
    if unknown:
        parser.error(f"unknown views {sorted(unknown)}; choose from {', '.join(VIEWS)}")
    if not e2e.CHROMIUM.exists():
        print(e2e.NO_CHROMIUM, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with e2e.streamlit_server() as server, sync_playwright() as playwright:
        browser = e2e.launch_chromium(playwright)
        for view in [VIEWS[name] for name in args.views or VIEWS]:
            print(f"{view.__name__}: {view.__doc__.splitlines()[0]}")
            context = browser.new_context(viewport=WINDOW, locale=LOCALES[LANGUAGE])
            context.set_default_timeout(60_000)
            view(context.new_page(), server.url, args.out)
            context.close()
        browser.close()
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
