"""The catalog router: facts from a complaint, the first matching rule, the target unit, post and person.

Order of decision: a rule that matches; else a territorial category goes to the street of the location;
else the district of the location (the regulation's rule when the owner is unknown); else the center's
manual-dispatch queue. A request without a category is classified first, and goes to the triage queue when
the classifier is not confident enough. Nothing is ever dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo

from rules.catalog import Catalog, Handling, Rule, Target, Unit, UnitKind
from rules.classifier import Classifier, Proposal
from rules.complaint import Complaint, Urgency
from rules.decision import Assignment, Decision
from rules.location import Gazetteer, Place
from rules.matcher import Facts, Matcher
from rules.roster import on_duty
from rules.textmodel import TextModel


@dataclass(frozen=True)
class Choice:
    """Where the facts go before the person on duty is looked up: a unit (and the rule that chose it, the
    post it names) or a queue, with the reason when no rule chose."""

    urgency: Urgency
    unit: Unit | None = None
    post: str | None = None
    rule: Rule | None = None
    queue: str | None = None
    why: str = ""

    @property
    def destination(self) -> str:
        return self.unit.id if self.unit else f"queue {self.queue}"


@dataclass(frozen=True)
class Candidate:
    """A unit the rules would send a request to (with the post and the person on duty, and why in the
    assignment's reason), the category that sends it there, and the classifier's probability of the
    categories that do (None: the rules' own decision, or the place's territorial unit)."""

    assignment: Assignment
    category: str | None
    share: float | None
    decided: bool = False  # the rules' own decision (`propose` with the same units excluded)


def describe(proposal: Proposal, threshold: float) -> str:
    """The classification as a note of the decision's reason."""
    if proposal.category is None:
        return "no category keyword found in the description"
    below = f", below the threshold {threshold:.2f}" if proposal.confidence < threshold else ""
    words = f", keywords {'、'.join(proposal.keywords)}" if proposal.keywords else ""
    same = "".join(f" + {code} {p:.2f}" for code, p in proposal.same_unit)
    unit = f" for its unit ({proposal.alternatives[0][1]:.2f}{same})" if proposal.same_unit else ""
    others = "".join(f", then {code} {p:.2f}" for code, p in proposal.alternatives[1:3])
    how = f"{proposal.confidence:.2f}{unit} by {proposal.by}{below}{words}{others}"
    return f"classified as {proposal.category} ({how})"


class CatalogRouter:
    def __init__(
        self,
        catalog: Catalog,
        is_working_day: Callable[[date], bool],
        tz: tzinfo,
        model: TextModel | None = None,
    ) -> None:
        self.catalog = catalog
        self._is_working_day = is_working_day
        self._tz = tz
        self.matcher = Matcher(catalog.rules)
        self.gazetteer = Gazetteer(catalog.areas)
        self.classifier = Classifier(
            {code: cat.keywords for code, cat in catalog.categories.items() if cat.keywords}, model
        )
        # what decided: the catalog, and the text model where one is in use
        self.version = f"{catalog.version}+{model.version}" if model else catalog.version

    def threshold(self, proposal: Proposal) -> float:
        """The model's threshold (chosen from its precision/coverage curve) for its proposals, the catalog's
        for the keywords'."""
        model = self.classifier.model
        if proposal.by != "model" or model is None:
            return self.catalog.classifier_threshold
        category = self.catalog.categories.get(proposal.category or "")
        return model.threshold_for(category.urgency if category else None)

    def facts(self, complaint: Complaint, at: datetime) -> tuple[Facts, Place, list[str]]:
        notes: list[str] = []
        place = self.gazetteer.resolve(complaint.location)
        notes += place.notes
        local = at.astimezone(self._tz)
        category, urgency = complaint.category, complaint.urgency
        if category is None:
            proposal = self.classify(complaint, place, at)
            confident = proposal.confidence >= self.threshold(proposal)
            notes.append(describe(proposal, self.threshold(proposal)))
            if self._dangerous(proposal, notes):
                # an emergency never waits in triage: it goes where its most likely category goes
                confident, urgency = True, Urgency.EMERGENCY
            category = proposal.category if confident else None
        return self._facts(complaint, category, place, local, urgency), place, notes

    def classify(self, complaint: Complaint, place: Place, at: datetime) -> Proposal:
        """The category proposed for a request that came without one, as routing takes it at `at`: the
        model's (by unit, when no category alone is sure enough) or the keywords'. Its confidence is weighed
        against `threshold(proposal)`."""
        proposal = self.classifier.propose(complaint.description)
        if proposal.by == "model" and proposal.confidence < max(0.5, self.threshold(proposal)):
            # (a category at or above both alone is its unit's choice, whatever the others add)
            proposal = self._by_unit(proposal, complaint, place, at.astimezone(self._tz))
        return proposal

    def _dangerous(self, proposal: Proposal, notes: list[str]) -> bool:
        model = self.classifier.model
        danger, probability = (model.danger if model else None), proposal.danger
        if danger is None or probability is None or probability < danger.threshold:
            return False
        notes.append(f"danger {probability:.2f} (threshold {danger.threshold:.2f}): an emergency")
        return True

    def _facts(
        self,
        complaint: Complaint,
        category: str | None,
        place: Place,
        local: datetime,
        urgency: Urgency | None = None,
    ) -> Facts:
        known = self.catalog.categories.get(category or "")
        urgency = urgency or (Urgency(known.urgency) if known else Urgency.GENERAL)
        return Facts(
            category=category,
            areas=place.codes,
            kind=complaint.kind,
            urgency=urgency.value,
            channel=complaint.channel,
            groups=frozenset(complaint.requester.groups),
            description=complaint.description,
            working_day=self._is_working_day(local.date()),
            local_time=local.time().replace(tzinfo=None),
        )

    def _by_unit(self, proposal: Proposal, complaint: Complaint, place: Place, local: datetime) -> Proposal:
        """The model's proposals grouped by where they would go from this place: what the requester notices
        is the unit, so the confidence is the unit's share (the categories it handles among the model's
        first `CANDIDATES`), and the category is that unit's most probable one."""
        destinations = [
            (
                code,
                probability,
                self.choose(self._facts(complaint, code, place, local), place, []).destination,
            )
            for code, probability in proposal.alternatives
        ]
        shares: dict[str, float] = {}
        for _code, probability, where in destinations:
            shares[where] = shares.get(where, 0.0) + probability
        best = max(shares, key=shares.__getitem__)  # of equal shares, the one of the most probable category
        mine = [(code, probability) for code, probability, where in destinations if where == best]
        return replace(
            proposal, category=mine[0][0], confidence=round(shares[best], 3), same_unit=tuple(mine[1:])
        )

    def _destination(self, complaint: Complaint, category: str, place: Place, local: datetime) -> str:
        facts = self._facts(complaint, category, place, local, complaint.urgency)
        return self.choose(facts, place, []).destination

    def route(self, complaint: Complaint, at: datetime) -> Decision:
        facts, place, notes = self.facts(complaint, at)
        decision = self.decide(facts, place, notes, at)
        return replace(
            decision,
            district=place.district.code if place.district else None,
            street=place.street.code if place.street else None,
            community=place.community.code if place.community else None,
        )

    def propose(self, complaint: Complaint, at: datetime, exclude: frozenset[str]) -> Decision:
        """The decision the catalog would make if the units in `exclude` were not there (for arbitration)."""
        facts, place, notes = self.facts(complaint, at)
        return self.decide(facts, place, notes, at, exclude)

    def candidates(
        self, complaint: Complaint, at: datetime, exclude: frozenset[str] = frozenset(), limit: int = 5
    ) -> list[Candidate]:
        """The units the rules would send the request to, for a person who chooses (the supervisor's picker
        of a queued or returned case), most likely first, each once: the rules' own decision (`propose`
        with `exclude`) when it names a unit; then, for each of the classifier's top categories, where the
        rules send that category from this place, the probabilities of the categories going to one unit
        added up; then the street and the district of the place."""
        facts, place, notes = self.facts(complaint, at)
        local = at.astimezone(self._tz)
        found: dict[str, Candidate] = {}

        def add(decision: Decision, category: str | None, share: float | None, decided: bool = False) -> None:
            assignment = decision.assignment
            if assignment is None or assignment.unit in exclude:
                return
            known = found.get(assignment.unit)
            if known is None:
                found[assignment.unit] = Candidate(assignment, category, share, decided)
            elif share is not None:
                found[assignment.unit] = replace(known, share=round((known.share or 0.0) + share, 3))

        decided = self.decide(facts, place, notes, at, exclude)
        add(decided, facts.category, None, decided=True)
        for code, probability in self.classifier.ranked(complaint.description):
            if code in self.catalog.categories:
                category_facts = self._facts(complaint, code, place, local, complaint.urgency)
                add(self.decide(category_facts, place, [f"category {code}"], at, exclude), code, probability)
        for area, why in (
            (place.street, "属地 street"),  # as `choose` says them
            (place.district, "owner unknown: district of the location"),
        ):
            unit = self.catalog.unit_for_area(area.code) if area else None
            if unit is not None and unit.id not in exclude:
                add(self._assign(unit, None, None, facts, Urgency(facts.urgency), [], at, why), None, None)
        # the rules' own decision first, then the most probable (a stable sort: the place's units last)
        return sorted(found.values(), key=lambda c: (not c.decided, -(c.share or 0.0)))[:limit]

    def decide(
        self,
        facts: Facts,
        place: Place,
        notes: list[str],
        at: datetime,
        exclude: frozenset[str] = frozenset(),
    ) -> Decision:
        choice = self.choose(facts, place, notes, exclude)
        if choice.unit is None:
            return self._queue(
                choice.queue or self.catalog.manual_queue, facts, choice.urgency, notes, choice.why
            )
        return self._assign(
            choice.unit, choice.post, choice.rule, facts, choice.urgency, notes, at, choice.why
        )

    def choose(
        self, facts: Facts, place: Place, notes: list[str], exclude: frozenset[str] = frozenset()
    ) -> Choice:
        """The unit (or queue) the facts go to, before the person on duty is looked up."""
        urgency = Urgency(facts.urgency)
        # without a confident category, only the rules that name no category can hold (an emergency's
        # keywords, a channel); none holding, the case goes to triage
        for rule in self.matcher.matches(facts):
            if rule.then.target is Target.QUEUE:
                queue = rule.then.queue or self.catalog.manual_queue
                return Choice(Urgency(rule.then.urgency or urgency), queue=queue, why=f"rule {rule.id}")
            unit = self._target_unit(rule.then.target, rule.then.unit, place)
            if unit is None:
                target = rule.then.target.value.replace("_", " ")
                notes.append(f"rule {rule.id} wants the {target}, which is unknown")
                break
            if unit.id not in exclude:
                return Choice(Urgency(rule.then.urgency or urgency), unit, rule.then.post, rule)
        if facts.category is None:
            return Choice(urgency, queue=self.catalog.triage_queue, why="no confident category")
        category = self.catalog.categories.get(facts.category)
        for area, why in (
            (place.street if category and category.handling is Handling.TERRITORIAL else None, "属地 street"),
            (place.district, "owner unknown: district of the location"),
        ):
            unit = self.catalog.unit_for_area(area.code) if area else None
            if unit is not None and unit.id not in exclude:
                return Choice(urgency, unit, why=why)
        return Choice(urgency, queue=self.catalog.manual_queue, why=f"no unit for {place.describe()}")

    def unit_class(self, unit_id: str) -> str:
        unit = self.catalog.units.get(unit_id)
        return unit.kind.value if unit else "default"

    def assignment_for(self, unit_id: str, post_id: str | None, at: datetime, why: str) -> Assignment:
        """A supervisor's choice of unit (and post): the person on duty is found as for any dispatch."""
        unit = self.catalog.units.get(unit_id)
        if unit is None:
            raise KeyError(f"unknown unit {unit_id}")
        if post_id and unit.post(post_id) is None:
            raise KeyError(f"unit {unit_id} has no post {post_id}")
        facts = Facts(None, (), "", "general", "", frozenset(), "", True, at.time())
        decision = self._assign(unit, post_id, None, facts, Urgency.GENERAL, [], at, why)
        assert decision.assignment is not None
        return replace(decision.assignment, rule="supervisor")

    def _target_unit(self, target: Target, unit_id: str | None, place: Place) -> Unit | None:
        if target is Target.UNIT and unit_id:
            return self.catalog.units.get(unit_id)
        if target is Target.BRANCH_OF_LOCATION and unit_id:
            return self.catalog.branch_of(unit_id, place.district.code if place.district else None)
        area = place.street if target is Target.STREET_OF_LOCATION else place.district
        return self.catalog.unit_for_area(area.code) if area else None

    def _assign(
        self,
        unit: Unit,
        post_id: str | None,
        rule: Rule | None,
        facts: Facts,
        urgency: Urgency,
        notes: list[str],
        at: datetime,
        why: str = "",
    ) -> Decision:
        territorial = unit.kind in (UnitKind.STREET, UnitKind.DISTRICT)
        post = unit.post(post_id or "") or (unit.post(self.catalog.territorial_post) if territorial else None)
        post = post or unit.posts[0]
        local = at.astimezone(self._tz)
        person, duty = on_duty(self.catalog.rosters.get((unit.id, post.id)), local, self._is_working_day)
        if person is None and post.fallback_person:
            person, duty = post.fallback_person, f"{duty}; the post's fallback person"
        reason = f"rule {rule.id} ({rule.description})" if rule else why
        reason = "; ".join([reason, *notes, f"person: {duty}"])
        assignment = Assignment(
            unit.id,
            post.id,
            person,
            rule.id if rule else "fallback",
            self.version,
            reason[:500],
            rule.then.co_handlers if rule else (),
        )
        return Decision(
            urgency,
            facts.category,
            assignment=assignment,
            unit_class=unit.kind.value,
            round_the_clock=post.always_on,
        )

    def _queue(self, queue: str, facts: Facts, urgency: Urgency, notes: list[str], why: str) -> Decision:
        return Decision(urgency, facts.category, queue=queue, reason="; ".join([why, *notes])[:500])
