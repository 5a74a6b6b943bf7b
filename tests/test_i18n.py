"""Both languages: the catalog is complete and current, follows the glossary, and the page speaks
繁體中文 when the link or the browser asks for it (the views converted so far)."""

import csv
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from explorer import budget, config, data, i18n, links
from explorer.i18n import _, lazy_gettext, placeholders, use_language
from explorer.presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
POT = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"
GLOSSARY = i18n.LOCALE_DIR / "glossary.csv"
TITLE_ZH = "權重初始化與縮放探索器"


def extracted() -> dict[str, tuple[str, ...]]:
    """Every message in the code, as `pybabel extract -F babel.cfg` finds it: {msgid: (ids…)}."""
    with (ROOT / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    keywords = {**DEFAULT_KEYWORDS, **i18n.KEYWORDS}
    found = {}
    for _filename, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords
    ):
        ids = message if isinstance(message, tuple) else (message,)
        found[ids[0]] = ids
    return found


def catalog(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def entries(path: Path) -> dict[str, tuple[str, ...]]:
    """{msgid: (msgid, msgid_plural…)} of a catalog, without its header."""
    found = {}
    for message in catalog(path):
        if message.id:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            found[ids[0]] = ids
    return found


# --- the catalog -----------------------------------------------------------------------------


def test_the_template_is_current_with_the_code():
    """A `_()` string added, changed or removed without `pybabel extract` fails here."""
    code, template = extracted(), entries(POT)
    assert set(code) - set(template) == set(), "in the code, not in explorer.pot: pybabel extract"
    assert set(template) - set(code) == set(), "in explorer.pot, not in the code: pybabel extract"
    assert code == template  # plural forms too


@pytest.mark.parametrize("code", sorted(i18n.CATALOGS))
def test_every_message_has_a_translation_with_the_same_placeholders(code):
    translated = catalog(i18n.catalog_path(code))
    messages = {
        message.id if isinstance(message.id, str) else message.id[0]: message
        for message in translated
        if message.id
    }
    assert set(messages) == set(extracted()), "catalog and code differ: pybabel update"
    for msgid, message in messages.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        assert all(strings) and not message.fuzzy, f"untranslated or fuzzy: {msgid!r}"
        for string in strings:
            for english in ids:
                assert placeholders(string) == placeholders(english), (msgid, string)


def test_no_compiled_catalog_is_kept_to_go_stale():
    """The .po files are read as they are (Cloud has no build step): no .mo beside them."""
    assert not list(i18n.LOCALE_DIR.rglob("*.mo"))


def glossary() -> list[dict[str, str]]:
    with GLOSSARY.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def test_glossary_terms_are_used_in_every_translation_that_needs_them():
    """Where a glossary term is in a message (outside its {placeholders}), its Chinese term is
    in the translation: 學習率 for every learning rate, 訓練週期 for every epoch, …"""
    rows = glossary()
    assert {row["term_zh_TW"] for row in rows} >= {
        "權重初始化", "標準常態分佈", "Glorot 分佈", "激活函數", "神經元飽和",
        "梯度消失", "梯度爆炸", "學習率", "批次大小", "訓練週期",
        "驗證準確率", "損失函數", "均方誤差", "交叉熵",
    }  # fmt: skip
    misses = []
    for code, folder in i18n.CATALOGS.items():
        misses += glossary_misses(code, [row for row in rows if row.get(f"term_{folder}")])
    assert not misses


def glossary_misses(code: str, rows: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    """(English term, its term, msgid) for each translation into `code` without the term."""
    column = f"term_{i18n.CATALOGS[code]}"
    misses = []
    for message in catalog(i18n.catalog_path(code)):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        english = re.sub(r"\{[^{}]*\}", " ", " ".join(ids))
        for row in rows:
            term = re.escape(row["term_en"])
            # A word of the sentence, not part of an identifier (keras.datasets, batch_size).
            if re.search(rf"(?<![\w.-]){term}(?:s|es|d|ed)?(?!\w|\.\w)", english, re.IGNORECASE):
                missing = [s for s in strings if row[column].casefold() not in s.casefold()]
                if missing:
                    misses.append((row["term_en"], row[column], ids[0]))
    return misses


# --- the engine's words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("en", "en"), ("en-US", "en"), ("EN_gb", "en"),
        ("zh-TW", "zh-TW"), ("zh_tw", "zh-TW"), ("zh-HK", "zh-TW"), ("zh-Hant", "zh-TW"),
        ("zh-Hant-TW", "zh-TW"), ("zh-MO", "zh-TW"),
        ("zh-CN", None), ("zh-Hans", None), ("zh", None), ("fr-FR", None), ("", None), (None, None),
    ],
)  # fmt: skip
def test_language_tags_from_links_and_browsers(tag, code):
    assert i18n.match_language(tag) == code
    assert i18n.from_locale(tag) == (code or "en")


def test_messages_follow_the_language_of_the_moment():
    assert _("Learning rate") == "Learning rate"  # no source, no override: English
    with use_language("zh-TW"):
        assert _("Learning rate") == "學習率"
        assert PRESETS["B2"].title == "B2 準確率 42% 的那次訓練"
        assert config.option_name("loss", "mse").startswith("均方誤差")
    assert PRESETS["B2"].title == "B2 the 42% run"
    with pytest.raises(ValueError, match="language must be one of en, zh-TW; got 'fr'"):
        with use_language("fr"):
            pass


def test_words_made_at_import_are_translated_when_shown():
    """A link rule's words are made when the module loads, before any reader is known."""
    rule = links.RULES["epochs"]
    assert rule.allowed == "a whole number from 1 to 50"
    with use_language("zh-TW"):
        assert rule.allowed == "1 到 50 之間的整數"
        nested = lazy_gettext(
            "{allowed}, in at most {count} characters", allowed=rule.words, count=9
        )
        assert str(nested) == "1 到 50 之間的整數，最多 9 個字元"
    assert f"{nested}" == "a whole number from 1 to 50, in at most 9 characters"


def test_validation_messages_keep_the_field_and_the_value():
    with use_language("zh-TW"):
        _config, problems = config.parse_query({"epochs": "lots", "loss": "hinge"})
    assert problems == [
        "loss 必須是 cross_entropy, mse 其中之一；收到的是 'hinge'",
        "epochs 必須是 1 到 50 之間的整數；收到的是 'lots'",
    ]


def test_refusals_and_data_errors_speak_the_readers_language(tmp_path, monkeypatch):
    big = config.RunConfig(hidden_units=(1024,) * 4, epochs=10)  # about 11 min of one core
    with use_language("zh-TW"):
        refusal = budget.over_budget([big], "this sweep")
        monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "nowhere"))
        with pytest.raises(data.DataError) as caught:
            data.load_dataset("mnist", download=False)
    assert refusal.startswith("這次參數掃描大約需要單一 CPU 核心")
    assert "無法載入 'mnist' 資料集" in str(caught.value)
    assert not english_phrases(refusal) and not english_phrases(str(caught.value))


# --- the page ----------------------------------------------------------------------------------

# An English word: letters, lower case after the first (so MNIST, ReLU, RandomNormal are names),
# maybe hyphenated or with 's. Three in a row, spaces only between them, make an English phrase.
_WORD = r"[A-Za-z][a-z]*(?:-[a-z]+)*(?:'[a-z]+)?"
_PHRASE = re.compile(rf"(?<![\w.`/\\-]){_WORD}(?: +{_WORD}){{2,}}(?![\w(/\\-])")
_CODE = re.compile(r"(`+).*?\1", re.DOTALL)  # code spans: identifiers, paths, a link's own text


def english_phrases(text: str) -> list[str]:
    """English phrases of three words or more in `text`, outside code spans."""
    return _PHRASE.findall(_CODE.sub(" □ ", text.replace("**", "")))


def test_the_detector_finds_english_sentences_but_not_names():
    assert english_phrases("Train a small Keras MLP on MNIST") == ["Train a small Keras"]
    assert english_phrases("按「訓練」：Glorot 常態分佈，LeCun normal，He 均勻分佈") == []
    assert english_phrases("`EXPLORER_DATA_DIR` (not set) at `/root/.keras/datasets`") == []
    assert english_phrases("連結 ` 'not a number at all' ` 已忽略") == []
    assert english_phrases("keras.datasets.mnist.load_data() or fashion_mnist/ one-hot") == []


STATIC_TEXT = ("title", "markdown", "caption", "subheader", "header", "text")
ALERTS = ("warning", "error", "info", "success", "exception")


def page_texts(app: AppTest) -> list[str]:
    """What the page says outside the open view (phase 1 of issue 15): the title, the intro,
    the puzzle cards, the link's problems, the whole sidebar, and the view tabs' labels."""
    texts = []

    def walk(node) -> None:
        kind = getattr(node, "type", None)
        if kind == "tab_container":  # the views: their labels, not their content
            texts.extend(tab.label for tab in node.children.values())
            return
        if kind in STATIC_TEXT or kind in ALERTS:
            texts.append(str(node.value))
        for attribute in ("label", "help", "placeholder"):
            value = getattr(node, attribute, None)
            if isinstance(value, str):
                texts.append(value)
        if kind in ("selectbox", "radio", "multiselect"):
            texts.extend(str(option) for option in node.options)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app.main)
    walk(app.sidebar)
    return [text for text in texts if text]


def open_app(context: dict | None = None, **params) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180)
    app.context.update(context or {})
    for name, value in params.items():
        app.query_params[name] = value
    return app.run()


def sidebar_labels(app: AppTest) -> list[str]:
    return [widget.label for widget in [*app.sidebar.selectbox, *app.sidebar.number_input]]


@pytest.mark.usefixtures("fresh_caches")
@pytest.mark.parametrize("dataset", ["fashion_mnist", "mnist"])  # here, and (likely) not here
def test_a_zh_tw_link_shows_the_page_in_chinese_with_no_english_sentence(dataset):
    app = open_app(lang="zh-TW", epochs="lots", colour="red", dataset=dataset)
    assert not app.exception, app.exception
    assert app.title[0].value == TITLE_ZH
    labels = sidebar_labels(app)
    assert {
        "預設實驗",
        "資料集",
        "權重初始化器",
        "損失函數",
        "學習率",
        "批次大小",
        "訓練週期數",
    } <= set(labels)
    assert app.expander[0].label == "兩個謎題的解答"
    cards = " ".join(markdown.value for markdown in app.expander[0].markdown)
    assert "謎題 A" in cards and "謎題 B" in cards and "Glorot 分佈" in cards
    assert app.selectbox(key="loss").options == ["交叉熵", "均方誤差(MSE，對 one-hot 標籤)"]
    warnings = " ".join(warning.value for warning in app.warning)
    assert "連結的 `epochs` 沒有採用：它必須是 1 到 50 之間的整數" in warnings
    assert "不認得的參數" in warnings
    phrases = {text: english_phrases(text) for text in page_texts(app)}
    assert {text: found for text, found in phrases.items() if found} == {}


@pytest.mark.usefixtures("fresh_caches")
def test_identifiers_stay_in_the_link_whatever_the_language():
    app = open_app(lang="zh-TW", loss="mse", activation="tanh", view="Curves")
    assert not app.exception, app.exception
    assert app.selectbox(key="loss").value == "mse"
    assert app.session_state["view"] == "曲線"  # the open tab, by its label
    assert {key: app.query_params[key] for key in ("loss", "activation", "view", "lang")} == {
        "loss": "mse",
        "activation": "tanh",
        "view": "Curves",
        "lang": "zh-TW",
    }
    assert app.selectbox(key="preset").value == "Custom"
    assert "自訂" in app.selectbox(key="preset").options


@pytest.mark.usefixtures("fresh_caches")
def test_a_chinese_browser_without_lang_in_the_link_gets_chinese():
    app = open_app(context={"locale": "zh-Hant-TW"})
    assert not app.exception, app.exception
    assert app.title[0].value == TITLE_ZH
    assert app.selectbox(key="lang").value == "zh-TW"
    assert app.query_params["lang"] == "zh-TW"  # a shared link keeps the language
    app = open_app(context={"locale": "en-US"})
    assert app.title[0].value == "Initialization & Scaling Explorer"
    assert "lang" not in app.query_params


@pytest.mark.usefixtures("fresh_caches")
def test_the_switch_turns_the_page_back_to_english_and_keeps_the_view():
    app = open_app(lang="zh-TW", view="Curves", loss="mse", preset="B2")
    app = app.selectbox(key="lang").set_value("en").run()
    assert not app.exception, app.exception
    # Each choice keeps its value, though the browser sent its Chinese name.
    assert app.selectbox(key="loss").value == "mse" and app.selectbox(key="preset").value == "B2"
    assert app.selectbox(key="loss").options[1] == "Mean squared error (MSE) on one-hot labels"
    assert app.title[0].value == "Initialization & Scaling Explorer"
    assert "Learning rate" in sidebar_labels(app) and "Loss" in sidebar_labels(app)
    assert app.expander[0].label == "The two puzzles, answered"
    assert app.session_state["view"] == "Curves" and app.query_params["view"] == "Curves"
    assert "lang" not in app.query_params  # English on an English browser: the default

    app = open_app(context={"locale": "zh-TW"})
    app = app.selectbox(key="lang").set_value("en").run()
    assert app.title[0].value == "Initialization & Scaling Explorer"
    assert app.query_params["lang"] == "en"  # on a Chinese browser the link says English


# --- every view and lab, after a run (phase 2 of issue 15) -------------------------------------


def everything_said(app: AppTest) -> list[str]:
    """What the whole page says, the open view and its popovers included: texts, alerts, labels,
    help, options, metrics, tab and expander labels (charts' specs and tables' cells aside)."""
    texts = []

    def walk(node) -> None:
        kind = getattr(node, "type", None)
        if kind in STATIC_TEXT or kind in ALERTS:
            texts.append(str(node.value))
        for attribute in ("label", "help", "placeholder"):
            value = getattr(node, attribute, None)
            if isinstance(value, str):
                texts.append(value)
        if kind in ("selectbox", "radio", "multiselect", "select_slider"):
            texts.extend(str(option) for option in node.options)
        if kind == "popover":  # a block: its label is in its proto
            texts.append(node.proto.popover.label)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app.main)
    walk(app.sidebar)
    return [text for text in texts if text]


def chart_words(app: AppTest) -> list[str]:
    """The words of the page's charts: titles, subtitles, axis and legend titles (their specs)."""
    words = []

    def walk(node, key: str | None = None) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, name)
        elif isinstance(node, list):
            for value in node:
                walk(value, key)
        elif isinstance(node, str) and key in ("title", "subtitle", "text") and node.strip():
            words.append(node)

    for chart in app.get("vega_lite_chart"):
        walk(json.loads(chart.proto.spec))
    return words


def show_view(app: AppTest, view: str) -> AppTest:
    """Open `view` as a click on its tab would: the tab's state and the link's view."""
    app.session_state["view"] = view
    app.query_params["view"] = view
    return app.run()


@pytest.mark.slow
@pytest.mark.usefixtures("fresh_caches")
def test_every_view_and_lab_speaks_chinese_after_a_run(fashion, monkeypatch):
    """A1 from the link (640 images), then every view and both training labs with their
    results: no English sentence anywhere the page speaks, its charts included."""
    from explorer.ui import sidebar, sweep_lab, twin_lab
    from explorer.ui.link import VIEWS

    monkeypatch.setattr(sidebar, "QUICK_LOOK_SAMPLES", 640)
    monkeypatch.setattr(sidebar, "QUICK_LOOK_VALIDATION", 200)
    app = open_app(lang="zh-TW", runs="A1", sweep_count="2", sweep_from="0.01")
    assert not app.exception, app.exception
    with use_language("zh-TW"):
        lab_buttons = {"Twin lab": _(twin_lab.TRAIN_BUTTON), "Sweep": _(sweep_lab.RUN_BUTTON)}
    said, english = {}, {}
    for view in VIEWS:
        app = show_view(app, view)
        if view in lab_buttons:
            next(b for b in app.button if b.label == lab_buttons[view]).click()
            app = app.run()
        assert not app.exception, (view, app.exception)
        assert not app.error, (view, [error.value for error in app.error])
        said[view] = everything_said(app) + chart_words(app)
        english.update({text: found for text in said[view] if (found := english_phrases(text))})
    assert english == {}
    # Each view drew its results (not only a hint to press a button), in Chinese.
    assert "#### 為什麼訓練 1 與 2 會分開，而訓練 3 不會" in said["Twin lab"]
    assert any(text.startswith("最終驗證準確率與損失") for text in said["Sweep"])
    assert "飽和比例" in said["Saturation lab"] and "要顯示的訓練" in " ".join(said["Curves"])
    assert "損失與準確率" in said["Curves"] and "訓練週期" in said["Curves"]  # a title, an axis


@pytest.mark.usefixtures("fresh_caches")
def test_the_labs_name_their_options_and_keep_their_values_through_a_switch(fashion):
    """The labs' choices show names in the reader's language, never in the link; a switch of
    language keeps each one's value (the browser sends back the old language's name)."""
    app = open_app(lang="zh-TW", view="Sweep", sweep_knob="input_scale", sweep_scale="linear")
    assert not app.exception, app.exception
    assert app.selectbox(key="sweep_knob").options[:3] == [
        "權重縮放(權重除以)",
        "輸入縮放(像素除以)",
        "學習率",
    ]
    app = app.selectbox(key="lang").set_value("en").run()
    assert not app.exception, app.exception
    assert app.selectbox(key="sweep_knob").value == "input_scale"
    assert app.selectbox(key="sweep_scale").value == "linear"
    assert "input scale (pixels divided by)" in app.selectbox(key="sweep_knob").options

    app = show_view(app, "Saturation lab")
    app = app.selectbox(key="sat_input").set_value("scaled").run()
    app = app.selectbox(key="lang").set_value("zh-TW").run()
    assert not app.exception, app.exception
    assert app.selectbox(key="sat_input").value == "scaled"
    assert app.selectbox(key="sat_input").options[1] == "真實影像 ÷255"
    assert app.metric[0].label == "飽和比例"
    assert not {"sat_input", "sweep_knob", "sweep_scale"} & set(app.query_params)
