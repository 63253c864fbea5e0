"""The operator's assessment file (config/assessment.yaml): callback outcomes and the rates' weights."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from dispatcher.domain.callbacks import Assessment, WhenUnsatisfied
from dispatcher.domain.scores import PeriodWeights, ScoreSettings, Weights


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeightsSpec(Strict):
    response: str = "0.1"
    resolution: str = "0.5"
    satisfaction: str = "0.4"
    basic_credit: str = "0.9"


class PeriodSpec(WeightsSpec):
    since: str
    until: str | None = None
    unit_class: str | None = None


class WeightsSection(Strict):
    default: WeightsSpec = WeightsSpec()
    periods: list[PeriodSpec] = []


class WhenUnsatisfiedSection(Strict):
    default: WhenUnsatisfied = WhenUnsatisfied.REOPEN
    categories: dict[str, WhenUnsatisfied] = {}


class AssessmentFile(Strict):
    when_unsatisfied: WhenUnsatisfiedSection = WhenUnsatisfiedSection()
    weights: WeightsSection = WeightsSection()


class AssessmentFileError(ValueError):
    """The assessment file is wrong; the message says where."""


def _weights(spec: WeightsSpec) -> Weights:
    return Weights.of(spec.response, spec.resolution, spec.satisfaction, spec.basic_credit)


def load_assessment(path: Path) -> Assessment:
    """The assessment the file describes; a missing file means the defaults; a wrong one raises
    `AssessmentFileError` saying what is wrong."""
    if not path.exists():
        return Assessment()
    try:
        parsed = AssessmentFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        periods = tuple(
            PeriodWeights(period.since, period.until, period.unit_class, _weights(period))
            for period in parsed.weights.periods
        )
        settings = ScoreSettings(_weights(parsed.weights.default), periods)
    except (yaml.YAMLError, ValidationError, ValueError, ZeroDivisionError) as error:
        raise AssessmentFileError(f"{path}: {error}") from None
    return Assessment(settings, parsed.when_unsatisfied.default, dict(parsed.when_unsatisfied.categories))
