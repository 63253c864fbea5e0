"""The knowledge base (知识库): answers the center has approved for the questions citizens ask, and how a
consultation is answered from it at intake (直接办结).

Pure: an entry, its rules of validity, and the ranking of entries for a question typed as a caller says
it (`rank`): keyword and character-bigram overlap, each bigram weighted by how rare it is among the
entries, so that a colloquial question ("外地人在北京那个暂住证咋办啊") finds the entry written the
official way ("如何办理北京市居住证"). No external service, no index: a knowledge base holds hundreds to a
few thousand entries, ranked in a few milliseconds.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

ENTRY_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
QUESTION_MAX, ANSWER_MAX, TEXT_MAX, CATEGORY_MAX = 500, 4000, 500, 64
KEYWORDS_MAX, KEYWORD_MAX = 30, 32
# Words every caller says whatever the question: they match nothing in particular.
FILLERS = frozenset(
    word
    for line in (
        "请问 问一 一下 我想 想问 你好 您好 问问 咨询 知道 谢谢 麻烦 帮我",  # asking
        "怎么 么办 怎样 如何 什么 是什 为什 哪里 哪儿 多少 办法 要求 需要",  # how, what, where
        "可以 是不 不是 能不 不能 有没 没有 了吗 的吗 的话",  # whether
        "这个 那个 这样 那样 一个 一些 我们 你们 他们 我家 我的",  # this, that, who
        "时候 现在 然后 那么 就是 还是 因为 所以",  # when, so
    )
    for word in line.split()
)


class KnowledgeError(ValueError):
    """An entry that cannot be stored: a field missing or too long, a validity ending before it starts."""


@dataclass(frozen=True)
class KnowledgeEntry:
    """One answer of the knowledge base, valid from `valid_from` to `valid_to` (both days included;
    none: open-ended). A retired entry is kept, since the cases it answered name it, but never offered."""

    id: str
    question: str
    answer: str
    category: str = ""
    keywords: tuple[str, ...] = ()
    source: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    retired: bool = False

    def valid_on(self, day: date) -> bool:
        """Offered on `day`: not retired, and within its validity."""
        if self.retired:
            return False
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


def check_entry(entry: KnowledgeEntry) -> KnowledgeEntry:
    """The entry with its texts trimmed and its keywords cleaned (blank and repeated ones dropped);
    `KnowledgeError` with a one-line reason when it cannot be stored."""
    if not ENTRY_ID.match(entry.id):
        raise KnowledgeError(f"id {entry.id!r}: 1-64 letters, digits, '.', '_', ':' or '-'")
    question, answer = entry.question.strip(), entry.answer.strip()
    category, source = entry.category.strip(), entry.source.strip()
    for name, value, low, high in (
        ("question", question, 1, QUESTION_MAX),
        ("answer", answer, 1, ANSWER_MAX),
        ("category", category, 0, CATEGORY_MAX),
        ("source", source, 0, TEXT_MAX),
    ):
        if not low <= len(value) <= high:
            raise KnowledgeError(f"{entry.id}: {name} needs {low} to {high} characters, has {len(value)}")
        if "\x00" in value:
            raise KnowledgeError(f"{entry.id}: {name} contains the NUL character")
    keywords = tuple(dict.fromkeys(word.strip() for word in entry.keywords if word.strip()))
    if len(keywords) > KEYWORDS_MAX:
        raise KnowledgeError(f"{entry.id}: at most {KEYWORDS_MAX} keywords, has {len(keywords)}")
    too_long = [word for word in keywords if len(word) > KEYWORD_MAX or "\x00" in word]
    if too_long:
        raise KnowledgeError(f"{entry.id}: keyword {too_long[0][:40]!r} is over {KEYWORD_MAX} characters")
    if entry.valid_from and entry.valid_to and entry.valid_to < entry.valid_from:
        raise KnowledgeError(f"{entry.id}: valid_to {entry.valid_to} is before valid_from {entry.valid_from}")
    return KnowledgeEntry(
        entry.id,
        question,
        answer,
        category,
        keywords,
        source,
        entry.valid_from,
        entry.valid_to,
        entry.retired,
    )


@dataclass(frozen=True)
class DirectAnswer:
    """直接办结: the operator answered a consultation at intake from the knowledge base entry `entry_id`,
    telling the requester `answer`; the case is opened closed and never dispatched."""

    entry_id: str
    answer: str
    by: str


# ---- ranking ------------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Full-width forms folded (ＡＢＣ１２３ → abc123), lower case, only letters and digits (Chinese
    characters included) kept: punctuation and spaces do not separate what callers run together."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch.isalnum())


def bigrams(text: str) -> set[str]:
    """The character bigrams of the normalized text (a text of one character: that character)."""
    plain = normalize(text)
    if len(plain) == 1:
        return {plain}
    return {plain[i : i + 2] for i in range(len(plain) - 1)}


@dataclass(frozen=True)
class Match:
    entry: KnowledgeEntry
    score: float
    keywords: tuple[str, ...] = field(default=())  # the entry's keywords found in the question


# the weight of what matched in each part of an entry
KEYWORD_WEIGHT, QUESTION_WEIGHT, ANSWER_WEIGHT = 2.0, 1.0, 0.25
MIN_SCORE = 1.0  # below this, a match is a coincidence of common characters
RELATIVE = 0.1  # nor is one below a tenth of the best match offered


def rank(query: str, entries: Sequence[KnowledgeEntry], limit: int = 10) -> list[Match]:
    """The entries that answer `query`, best first, at most `limit`.

    Each bigram of the query found in an entry counts by its rarity among the entries (an inverse
    document frequency, so that "居住" counts for more than "办理"); the callers' fillers (请问, 怎么...)
    count nothing. A keyword of the entry found whole in the query counts double, bigrams of the
    question once, of the answer a quarter; the sum is divided by the square root of the question's
    length in bigrams, so a short question that matches beats a long one that happens to. Matches
    under `MIN_SCORE`, or under a tenth of the best one, are left out. Ties: the entry's id."""
    asked = {gram for gram in bigrams(query) if gram not in FILLERS}
    plain_query = normalize(query)
    if not asked or not entries:
        return []
    documents = [_document(entry) for entry in entries]
    frequency: Counter[str] = Counter(gram for document in documents for gram in document[0] | document[1])
    total = len(entries)

    def weight(gram: str) -> float:
        return math.log(1 + total / (1 + frequency[gram])) + 0.5

    found = []
    for entry, (question, answer, keywords) in zip(entries, documents, strict=True):
        hits = tuple(word for word, plain in keywords if len(plain) >= 2 and plain in plain_query)
        keyword_score = sum(
            sum(weight(gram) for gram in bigrams(word)) for word in hits
        )  # a whole keyword: all its bigrams
        question_score = sum(weight(gram) for gram in asked & question)
        answer_score = sum(weight(gram) for gram in (asked & answer) - question)
        raw = KEYWORD_WEIGHT * keyword_score + QUESTION_WEIGHT * question_score + ANSWER_WEIGHT * answer_score
        score = raw / math.sqrt(max(len(question), 4) / 4)
        if score >= MIN_SCORE:
            found.append(Match(entry, round(score, 4), hits))
    found.sort(key=lambda match: (-match.score, match.entry.id))
    best = found[0].score if found else 0.0
    return [match for match in found if match.score >= best * RELATIVE][:limit]


@functools.lru_cache(maxsize=16_384)
def _document(entry: KnowledgeEntry) -> tuple[frozenset[str], frozenset[str], tuple[tuple[str, str], ...]]:
    """An entry's question bigrams (its keywords' too), answer bigrams, and keywords (as given, plain);
    kept for the entries searched lately (an edited entry is another entry)."""
    keywords = tuple((word, normalize(word)) for word in entry.keywords)
    question = bigrams(entry.question) | {gram for _, plain in keywords for gram in bigrams(plain)}
    return frozenset(question - FILLERS), frozenset(bigrams(entry.answer) - FILLERS), keywords


def search(
    query: str,
    entries: Iterable[KnowledgeEntry],
    *,
    on: date | None,
    category: str | None = None,
    limit: int = 10,
) -> list[Match]:
    """`rank` among the entries of `category` (a category code or its prefix: `01` is every heating
    entry; all when None) offered `on` that day (every entry, retired ones included, when `on` is None)."""
    chosen = [
        entry
        for entry in entries
        if (on is None or entry.valid_on(on)) and (not category or entry.category.startswith(category))
    ]
    return rank(query, chosen, limit)
