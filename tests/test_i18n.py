"""Both languages: the catalog is complete and current, follows the glossary, and the page speaks
繁體中文 when the link or the browser asks for it (the views converted so far)."""

import csv
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
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


def page_texts(app: AppTest, open_view: bool = False) -> list[str]:
    """What the page says: texts, alerts, labels, help, options, popover labels (charts' specs
    and tables' cells aside). Without `open_view`, only what it says outside the open view
    (phase 1 of issue 15): the title, the intro, the puzzle cards, the link's problems, the whole
    sidebar, and the view tabs' labels; with it, the open view and its popovers too."""
    texts = []

    def walk(node) -> None:
        kind = getattr(node, "type", None)
        if kind == "tab_container" and not open_view:  # the views' labels, not their content
            texts.extend(tab.label for tab in node.children.values())
            return
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
def test_every_view_and_lab_speaks_chinese_after_a_run(fashion, tiny_quick_look):
    """A1 from the link (640 images), then every view and both training labs with their
    results: no English sentence anywhere the page speaks, its charts included."""
    from explorer.ui import sweep_lab, twin_lab
    from explorer.ui.link import VIEWS

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
        said[view] = page_texts(app, open_view=True) + chart_words(app)
        english.update({text: found for text in said[view] if (found := english_phrases(text))})
    assert english == {}
    # Each view drew its results (not only a hint to press a button), in Chinese.
    assert "#### 為什麼訓練 1 與 2 會分開，而訓練 3 不會" in said["Twin lab"]
    assert any(text.startswith("最終驗證準確率與損失") for text in said["Sweep"])
    assert "飽和比例" in said["Saturation lab"] and "要顯示的訓練" in " ".join(said["Curves"])
    assert "損失與準確率" in said["Curves"] and "訓練週期" in said["Curves"]  # a title, an axis


# --- the engine in 繁體中文: charts, findings, labs' words (phase 2a) ---------------------------


def spec_strings(node) -> set[str]:
    """Every string of a chart spec: titles, axes, legends, tooltips, notes in the data, the
    slider's name, expressions."""
    if isinstance(node, dict):
        return set().union(*(spec_strings(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(spec_strings(value) for value in node))
    return {node} if isinstance(node, str) else set()


def histogram_frame(run: str, below: float = 0.0, **columns) -> pd.DataFrame:
    """Ten bins over [−3, 3] holding 10 values each, `below` more below them
    (`probes.histogram_rows`'s columns)."""
    edges, counts = np.linspace(-3, 3, 11), np.full(10, 10.0)
    total = counts.sum() + below
    every = np.concatenate([[below], counts, [0.0]])
    return pd.DataFrame(
        {
            "run": run,
            "side": ["below", *["inside"] * 10, "above"],
            "bin_start": [-np.inf, *edges[:-1], edges[-1]],
            "bin_end": [edges[0], *edges[1:], np.inf],
            "count": every,
            "share": every / total,
            "density": every / total / 0.6,
            "off_scale": below / total,
            **columns,
        }
    )


def curves_frame() -> pd.DataFrame:
    """A1 learns, A2 blows up (off the loss axis), A3 lies on A1."""
    rows = []
    for run, loss in (("A1", 0.5), ("A2", 1e35), ("A3", 0.5)):
        for step in (0, 10, 20):
            for split in ("train", "validation"):
                rows.append((run, step, step / 10, split, "loss", loss / (1 + step)))
                rows.append((run, step, step / 10, split, "accuracy", 0.5 + step / 100))
    return pd.DataFrame(rows, columns=["run", "step", "epoch", "split", "metric", "value"])


def layers_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run": "A1",
            "epoch": [0.0, 0.0, 1.0, 1.0],
            "step": [0, 0, 10, 10],
            "layer": ["dense", "dense_1"] * 2,
            "saturated_share": [0.9, 0.5, 0.8, 0.4],
            "dead_share": [0.1, 0.2, 0.3, 0.4],
            "gradient_norm": [np.nan, np.nan, 0.1, 0.2],
            "update_ratio": [np.nan, np.nan, 1e-3, 2e-3],
        }
    )


def chinese_charts():
    """(chart, the Chinese words it must show), built in 繁體中文."""
    from explorer import charts

    curves = curves_frame()
    coincident = pd.DataFrame(
        {"run": ["A3"], "reference": ["A1"], "loss_gap": [2e-6], "accuracy_gap": [0.0]}
    )
    step_loss = pd.DataFrame(
        {
            "run": ["A1"] * 3 + ["A2"] * 3,
            "step": [1, 2, 3] * 2,
            "loss": [2.3, 1.0, 0.5, 2.3, 1e30, 1e36],
        }
    )
    checkpoints = pd.concat(
        [
            histogram_frame(
                run,
                below=30.0 * checkpoint,
                checkpoint=checkpoint,
                step=checkpoint,
                epoch=checkpoint / 10,
            )
            for run in ("A1", "A2")
            for checkpoint in (0, 1)
        ],
        ignore_index=True,
    )
    stats = pd.DataFrame({"run": "A1", "epoch": [0.0, 1.0], "z_mean": [0.1, 0.2], "z_std": [1, 2]})
    at_init = pd.concat(
        [histogram_frame("A1", 30.0, layer=layer) for layer in ("dense", "dense_1")]
    )
    values = pd.DataFrame({"value": [*np.linspace(0, 1, 50), np.inf, np.nan]})
    pixels = histogram_frame("A1").drop(columns=["run", "density"])
    metrics = pd.DataFrame({"run": ["A1", "A2"], "metric": "val_accuracy", "value": [0.9, 0.1]})
    sweep = pd.DataFrame(
        {
            "value": [0.01, 0.01, 0.01, 1.0, 1.0, 1.0],
            "metric": ["val_accuracy", "val_loss", "saturation_at_init"] * 2,
            "result": [0.8, 0.5, 0.1, np.nan, np.nan, 0.2],
            "diverged": [False] * 3 + [True] * 3,
        }
    )
    ratios = pd.DataFrame(
        {"run": ["A1", "A2"], "update_ratio": [1e-3, 65.0], "ratio_to_first": [1.0, 65_000.0]}
    )
    gaps = pd.DataFrame({"run": "A3", "step": [1, 2, 3], "gap": [0.0, 1e-7, 1e-6]})
    return [
        (
            charts.curves_chart(curves, coincident),
            {
                "損失(對數縮放)",
                "準確率",
                "訓練週期",
                "資料劃分",
                "訓練",
                "驗證",
                "超出顯示縮放範圍：A2 達到 1e+35",
                "A3 與 A1 重合：損失的最大差距為 2e-6",
            },
        ),
        (charts.step_loss_chart(step_loss), {"訓練步", "訓練損失(對數縮放)"}),
        (
            charts.preactivation_chart(checkpoints),
            {"第一層預激活值 z = x·W + b", "密度", "區間", "檢查點 ", "A2：23.1% 超出顯示縮放範圍"},
        ),
        (charts.preactivation_stats_chart(stats), {"z 的平均值", "z 的標準差(對數縮放)"}),
        (
            charts.saturation_chart(layers_frame()),
            {"飽和(sigmoid/tanh)", "死亡單元(類 ReLU)", "層"},
        ),
        (
            charts.gradients_chart(layers_frame()),
            {"梯度範數 ‖∇W‖(對數縮放)", "更新比例 ‖ΔW‖/‖W‖(對數縮放)"},
        ),
        (
            charts.activation_histogram_chart(at_init, saturation_band=(0.05, 0.95)),
            {
                "初始化時的隱藏層激活值",
                "dense 激活值",
                "飽和尾端",
                "低",
                "高",
                "23.1% 的值超出顯示縮放範圍",
            },
        ),
        (
            charts.values_histogram_chart(values, "第一層輸出", (0.05, 0.95), (0, 1)),
            {"第一層輸出", "個數", "3.8% 的值超出顯示縮放範圍"},
        ),
        (charts.pixel_histogram_chart(pixels), {"縮放後的像素值", "像素數"}),
        (charts.final_metrics_chart(metrics), {"驗證準確率", "指標"}),
        (
            charts.sweep_chart(sweep, "學習率", log_x=True),
            {"學習率", "驗證準確率", "驗證損失(對數縮放)", "初始化時的飽和比例", "發散", "已訓練"},
        ),
        (charts.first_step_ratio_chart(ratios), {"第 1 步的 ‖ΔW‖/‖W‖(對數)", "× 訓練 1"}),
        (charts.loss_gap_chart(gaps, ["A1", "A3"]), {"|損失 − 參考|(對數)", "訓練步"}),
        (charts.curves_chart(curves.iloc[:0]), {"沒有資料", "附註"}),
    ]


def test_every_chart_has_chinese_titles_axes_legends_and_notes():
    with use_language("zh-TW"):
        built = chinese_charts()
    for chart, words in built:
        said = spec_strings(chart.to_dict())
        assert words <= said, words - said
        assert {text: found for text in said if (found := english_phrases(text))} == {}
    # The checkpoint label is a Vega expression: its words are quoted in it.
    preactivation = spec_strings(built[2][0].to_dict())
    assert any(
        "'第 ' + format(datum.step, ',') + ' 步 · 訓練週期 '" in text for text in preactivation
    )


def test_charts_built_in_english_keep_their_english_words():
    from explorer import charts

    with use_language("zh-TW"):
        chinese = spec_strings(charts.curves_chart(curves_frame()).to_dict())
    english = spec_strings(charts.curves_chart(curves_frame()).to_dict())
    assert "損失(對數縮放)" in chinese and "loss (log scale)" not in chinese
    assert {"loss (log scale)", "accuracy", "split", "off scale: A2 reaches 1e+35"} <= english
    assert not any(re.search(r"[\u4e00-\u9fff]", text) for text in english)


def hand_built_results() -> dict:
    """RunResults made by hand (no training) that reach every sentence of the diagnosis: B2's
    slow learning, A2 blowing up, B4 stalled by saturation, A1 learning, an Adam A2 that has not
    trained, and a tanh run with a truncated normal kernel."""
    from explorer.train import RunResult

    def result(config, accuracy, saturated, dead, ratio, diverged_step=None, trained=True):
        steps = config.steps_per_epoch
        last = diverged_step - 1 if diverged_step else steps * config.epochs * trained
        checkpoints = sorted({0, 1, last}) if last else [0]
        history = pd.DataFrame(
            {
                "step": checkpoints,
                "epoch": [step / steps for step in checkpoints],
                "train_loss": 2.3,
                "train_accuracy": accuracy,
                "val_loss": 2.2,
                "val_accuracy": accuracy,
                "val_full": True,
                "elapsed_s": 1.0,
                "z_mean": 0.1,
                "z_std": 1.0,
                "z_min": -3.0,
                "z_max": 3.0,
                "z_outside": 0.0,
            }
        )
        layers = pd.DataFrame(
            [
                {
                    "step": step,
                    "epoch": step / steps,
                    "layer": layer,
                    "hidden": layer == "dense",
                    "saturated_share": saturated,
                    "dead_share": dead if step == 0 else 2 * dead,
                    "activation_mean": 0.5,
                    "activation_std": 0.2,
                    "gradient_norm": np.nan if step == 0 else 0.1,
                    "update_ratio": np.nan if step == 0 else ratio,
                }
                for step in checkpoints
                for layer in ("dense", "dense_1")
            ]
        )
        step_loss = np.full(diverged_step or max(last, 1), 1.5)
        if diverged_step:
            step_loss[-1] = np.nan
        return RunResult(
            config=config,
            history=history,
            layers=layers,
            step_loss=step_loss,
            preactivation_edges=np.linspace(-3, 3, 11),
            preactivation_counts=np.ones((len(checkpoints), 10)),
            preactivation_off_scale=np.zeros((len(checkpoints), 3)),
            activation_edges={},
            activation_counts={},
            activation_off_scale={},
            parameter_count=203_530,
            planned_steps=config.total_steps,
            diverged_step=diverged_step,
            setup_seconds=2.5,
            train_seconds=12.25,
            finished=True,
        )

    small = {"train_samples": 640, "validation_samples": 200}
    b2 = PRESETS["B2"].config.replace(epochs=2, **small)
    a2 = PRESETS["A2"].config.replace(epochs=2, **small)
    tanh = b2.replace(
        activation="tanh",
        loss="cross_entropy",
        kernel_initializer="truncated_normal",
        init_param=0.5,
    )
    return {
        "B2": result(b2, 0.42, 0.2, np.nan, 2e-4),
        "A2": result(a2, 0.1, np.nan, 0.3, 60.0, diverged_step=7),
        "B4": result(PRESETS["B4"].config.replace(epochs=1, **small), 0.12, 0.9, np.nan, 1e-6),
        "A1": result(PRESETS["A1"].config.replace(epochs=1, **small), 0.85, np.nan, 0.1, 3e-3),
        "Adam": result(
            a2.replace(optimizer="adam", learning_rate=0.001),
            np.nan,
            np.nan,
            0.0,
            0.5,
            trained=False,
        ),
        "tanh": result(tanh, 0.3, 0.3, np.nan, 0.01),
    }


def test_the_diagnosis_speaks_chinese_with_its_numbers_as_in_english():
    from explorer import diagnosis

    results = hand_built_results()
    with use_language("zh-TW"):
        findings = {key: diagnosis.diagnose(result) for key, result in results.items()}
        tables = {key: diagnosis.summary_table(result) for key, result in results.items()}
    english = {key: diagnosis.diagnose(result) for key, result in results.items()}
    assert [len(said) for said in findings.values()] == [len(said) for said in english.values()]
    said = [finding for found in findings.values() for finding in found]
    assert len(said) >= 20  # every kind of sentence, in these six runs
    assert {text: found for text in said if (found := english_phrases(text))} == {}
    for table in tables.values():
        assert list(table.columns) == ["項目", "數值"]
        cells = [str(cell) for cell in table.to_numpy().ravel()]
        assert {text: found for text in cells if (found := english_phrases(text))} == {}
    assert findings["B2"][-1] == "2 個訓練週期後，驗證準確率是 42%：" + (
        "遠高於隨機猜測，但停滯在離這個網路能達到的水準還很遠的地方。"
    )
    assert "‖ΔW‖/‖W‖ = 0.0002，相較於經驗法則的 0.001，小了約 5 倍" in findings["B2"][1]
    assert findings["A2"][0].startswith("損失在第 7 步(訓練週期 0.35)不再是有限的數值")
    assert "c² = 65,025 倍" in " ".join(findings["A2"])  # numbers keep their format
    assert "Glorot 分佈" in findings["tanh"][2] and "神經元飽和" in findings["B4"][3]
    diverged = tables["A2"].set_index("項目")["數值"]
    assert diverged["發散"] == "是，在第 7 步(訓練週期 0.35)"
    assert english["A2"][0].startswith("The loss stopped being a finite number at step 7")


def test_labs_quiz_names_and_captions_speak_chinese():
    from explorer import compare, downloads, quiz, reopen, saturation, sweep, twin

    results = hand_built_results()
    numbers = {
        "factor": 255.0,
        "expected_growth": 65025.0,
        "measured_growth": 65000.5,
        "corrected_growth": 1.0,
        "gradient_growth": 255.0,
        "max_corrected_gap": 0.0,
        "steps_compared": 940.0,
        "second_diverged_step": 12.0,
    }
    with use_language("zh-TW"):
        said = [twin.derivation_markdown(optimizer, numbers) for optimizer in ("sgd", "rmsprop")]
        said += [*twin.run_labels(255), twin.learning_rate_advice("adam", 0.1)]
        said += downloads.caption_lines({"mine": results["A2"].config})
        table = quiz.reveal(
            {key: quiz.Prediction("learns", quiz.BANDS[2]) for key in results}, results
        )
        said += [quiz.score_words(table), *quiz.FATE_WORDS.values(), *table.columns]
        said += [*table.iloc[:, 1:3].to_numpy().ravel(), reopen.RUNS_RULE.allowed]
        said += [
            reopen.NAMES_RULE.allowed,
            compare.stable_name(PRESETS["A1"].config, None, {PRESETS["A1"].title}),
        ]
        picture = SimpleNamespace(saturated_share=0.5)  # what saturation_words reads of it
        said += [saturation.saturation_words("sigmoid", picture)[0]]
        errors = []
        for bad in (
            lambda: compare.check_name("a|b"),
            lambda: sweep.sweep_values(1, 0.5, 3),
            lambda: sweep.sweep_values(-1, 1, 3),
            lambda: sweep.check_knob("depth"),
        ):
            with pytest.raises(ValueError) as caught:
                bad()
            errors.append(str(caught.value))
    assert {text: found for text in said + errors if (found := english_phrases(text))} == {}
    assert "5. **修正。** 訓練 3 就是訓練 2 加上第一層學習率 ÷c²" in said[0]
    assert said[2:5] == ["1 · 輸入 ÷255", "2 · 權重 ÷255", "3 · 權重 ÷255，已修正"]
    assert (
        said[6].startswith("mine：A2 · Fashion-MNIST 640 張影像 ÷1") and "2 個訓練週期" in said[6]
    )
    assert "12 個預測中猜對" in said[7] and "學會(驗證準確率 ≥ 60%)" in said
    assert errors[1] == "sweep_from 必須小於 sweep_to；收到的是 1 和 0.5"
    assert errors[3].startswith("sweep_knob 必須是 ")
    assert quiz.FATE_WORDS["stalls"] == "learns slowly or stalls"  # English again outside


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
