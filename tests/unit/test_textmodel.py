"""The learned text classifier: what it computes at dispatch equals what scikit-learn trained, its
probabilities are calibrated on held-out folds, and the triage threshold comes from the measured curve."""

from __future__ import annotations

import numpy as np
import pytest

from rules.corpus import Example
from rules.textmodel import TextModel, ngrams, normalise
from rules.training import Point, _fit, choose_threshold, softmax, train

SITUATIONS = {
    "010101": [
        "家里暖气不热",
        "暖气片摸着冰凉",
        "屋里才十五度冻死了",
        "供暖温度太低孩子感冒",
        "暖和不起来屋里冷",
    ],
    "030201": [
        "楼上半夜跺脚太吵",
        "邻居家装修电钻声",
        "广场舞音响声音太大",
        "楼下饭馆吵到半夜",
        "邻居唱歌声音吵",
    ],
    "090101": [
        "家里突然停水了",
        "水龙头一滴水都没有",
        "小区没水了做不了饭",
        "自来水停了也不通知",
        "一早起来没水",
    ],
}


def corpus(repeat: int = 6) -> list[Example]:
    """Each situation said several ways: a caller's opening and closing around it."""
    openings = ["你好，", "我想反映一下，", "麻烦问问，", "", "我是老住户了，", "那个，"]
    closings = ["", "，谁管啊", "，好几天了", "，赶紧处理吧", "。", "，怎么办"]
    return [
        Example(f"{openings[i % 6]}{text}{closings[(i + n) % 6]}", code, f"t:{n}")
        for code, texts in SITUATIONS.items()
        for n, text in enumerate(texts)
        for i in range(repeat)
    ]


def test_numbers_and_full_width_characters_read_alike():
    assert normalise("室温 １８度") == normalise("室温18度") == "室温0度"
    assert ngrams("暖气") == ["暖", "气", "暖气"]


def test_the_model_at_dispatch_gives_the_probabilities_scikit_learn_trained():
    examples = corpus()
    trained = train(examples, folds=3)
    vectorizer, linear = _fit([e.text for e in examples], [e.category for e in examples])
    for text in ("暖气片冰凉屋里冷", "楼上太吵", "没水了", "什么都不相干的话"):
        expected = softmax(linear.decision_function(vectorizer.transform([text])), trained.model.temperature)
        assert np.allclose(trained.model.probabilities(text), expected[0], atol=1e-5), text


def test_words_it_was_never_given_as_keywords_still_reach_the_right_category():
    model = train(corpus(), folds=3).model
    assert model.top("老人说屋里冷得穿棉袄，暖气片不热")[0].category == "010101"
    assert model.top("楼上邻居半夜吵得睡不着")[0].category == "030201"
    assert model.top("今天小区突然没水")[0].category == "090101"


def test_a_model_survives_its_arrays_unchanged():
    model = train(corpus(), folds=3).model
    again = TextModel.from_arrays(model.to_arrays())
    assert again.version == model.version and again.classes == model.classes
    assert np.allclose(again.probabilities("暖气不热"), model.probabilities("暖气不热"))


def test_the_temperature_brings_confidence_close_to_accuracy():
    trained = train(corpus(), folds=3)
    before, after = trained.calibration_error
    assert after <= before


def test_the_threshold_weighs_a_wrong_unit_as_three_requests_in_triage():
    # cost = share in triage + 3 × share sent to a wrong unit
    curve = [Point(0.0, 1.0, 0.70, 0.30), Point(0.3, 0.8, 0.85, 0.12), Point(0.5, 0.6, 0.93, 0.042)]
    assert [round(point.cost, 3) for point in curve] == [0.9, 0.56, 0.526]
    assert choose_threshold(curve) == 0.5
    assert choose_threshold([*curve, Point(0.7, 0.4, 0.97, 0.012)]) == 0.5  # 0.636: more triage costs more


@pytest.mark.parametrize("text", ["", "？？？"])
def test_a_text_with_no_known_n_gram_gets_a_low_flat_probability(text: str):
    model = train(corpus(), folds=3).model
    assert model.top(text)[0].probability < 0.6
