"""The learned text classifier: what it computes at dispatch equals what scikit-learn trained, its
probabilities are calibrated on held-out folds, and the triage threshold comes from the measured curve."""

from __future__ import annotations

import numpy as np
import pytest

from rules.corpus import Example
from rules.textmodel import TextModel, ngrams, normalise
from rules.training import Point, _fit, by_owner, choose_threshold, fit_danger, softmax, train

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


def test_the_threshold_weighs_a_wrong_unit_as_five_requests_in_triage():
    # cost = share in triage + 5 × share sent to a wrong unit
    curve = [Point(0.0, 1.0, 0.70, 0.30), Point(0.3, 0.8, 0.85, 0.12), Point(0.5, 0.6, 0.93, 0.042)]
    assert [round(point.cost, 3) for point in curve] == [1.5, 0.8, 0.61]
    assert choose_threshold(curve) == 0.5
    assert choose_threshold([*curve, Point(0.7, 0.4, 0.97, 0.012)]) == 0.5  # 0.66: more triage costs more


@pytest.mark.parametrize("text", ["", "？？？"])
def test_a_text_with_no_known_n_gram_gets_a_low_flat_probability(text: str):
    model = train(corpus(), folds=3).model
    assert model.top(text)[0].probability < 0.6


def test_proposals_that_go_to_the_same_unit_add_up_to_its_confidence():
    probabilities = np.array([[0.40, 0.35, 0.25], [0.50, 0.30, 0.20]])
    owners = ["street", "street", "heating"]  # the first two categories go to the same unit
    proposed, confidence = by_owner(probabilities, owners)
    assert proposed.tolist() == [0, 0]
    assert np.allclose(confidence, [0.75, 0.80])
    proposed, confidence = by_owner(np.array([[0.30, 0.25, 0.45]]), owners)
    assert proposed.tolist() == [0] and np.isclose(confidence[0], 0.55)  # the unit outweighs one category


def test_with_a_development_set_the_model_is_calibrated_on_it_and_not_trained_on_it():
    development = [
        Example("屋里冷得待不住暖气片不热", "010101", "d:1"),
        Example("楼上天天半夜吵", "030201", "d:2"),
    ]
    trained = train(corpus(), folds=3, development=development)
    assert trained.measured_on == "the development set (2 requests)"
    assert "屋里冷得待不住暖气片不热" not in [e.text for e in corpus()]
    without = train(corpus(), folds=3)
    assert without.measured_on == "3-fold cross-validation"
    assert np.allclose(
        trained.model.coef, without.model.coef
    )  # the weights come from the training corpus only


def danger_corpus() -> list[Example]:
    danger = ["燃气管漏了满屋子味", "厨房着火了冒黑烟", "有人被困在电梯里喘不上气", "楼道里全是烟"]
    calm = ["燃气费怎么交", "上个月漏气修好了想问收费", "电梯年检什么时候", "楼道灯不亮"]
    return [
        *corpus(),
        *(
            Example(f"{text}{tail}", "090101", f"e:{n}", True)
            for n, text in enumerate(danger)
            for tail in "！啊快"
        ),
        *(
            Example(f"{text}{tail}", "090101", f"c:{n}", False)
            for n, text in enumerate(calm)
            for tail in "？呢吧"
        ),
    ]


def test_danger_is_told_from_calm_requests_with_the_same_words():
    model = train(danger_corpus(), folds=3).model
    assert model.danger is not None
    assert model.danger_of("厨房里着火了冒烟") >= model.danger.threshold  # type: ignore[operator]
    assert model.danger_of("燃气费在哪交") < model.danger.threshold  # type: ignore[operator]
    assert model.danger_of("暖气片不热") < model.danger.threshold  # type: ignore[operator]
    again = TextModel.from_arrays(model.to_arrays())
    assert again.danger_of("厨房里着火了冒烟") == pytest.approx(model.danger_of("厨房里着火了冒烟"))


def test_the_danger_threshold_misses_no_emergency_it_can_catch_for_a_few_false_alarms():
    scores = np.array([3.0, 1.0, -0.5, -2.0, -3.0, -3.5])  # the third is an emergency the model doubts
    truth = np.array([1, 1, 1, 0, 0, 0])
    _temperature, chosen = fit_danger(scores, truth)
    assert chosen.caught == 3 and chosen.false_alarms <= 1
    assert train(corpus(), folds=3).model.danger is None  # no labelled danger: no danger model
