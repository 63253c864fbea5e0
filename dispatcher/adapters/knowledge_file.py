"""The knowledge base file (config/knowledge/starter.yaml): the entries a center starts its 知识库 with.

```yaml
entries:
  - id: residence-permit           # letters, digits, . _ : -; unique
    question: 外地人怎么办理北京居住证？
    answer: ...                     # what the operator reads out
    category: "020102"              # a category code of the catalog ("" for none)
    keywords: [居住证, 暂住证]        # the words callers use
    source: 北京市居住证暂行办法      # what the answer rests on
    valid_from: 2026-01-01          # or null: always
    valid_to: null                  # or the last day it is right
```
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dispatcher.domain.knowledge import KnowledgeEntry, KnowledgeError, check_entry


class KnowledgeFileError(ValueError):
    """The file cannot be read, or one of its entries is not valid: the message says which and why."""


class EntrySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    question: str
    answer: str
    category: str | None = ""
    keywords: list[str] = Field(default_factory=list)
    source: str | None = ""
    valid_from: date | None = None
    valid_to: date | None = None


class KnowledgeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entries: list[EntrySpec]


def read_knowledge_file(path: Path) -> list[KnowledgeEntry]:
    """Every entry of the file, checked (`check_entry`), ids unique; `KnowledgeFileError` otherwise."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise KnowledgeFileError(f"{path}: {error}") from None
    try:
        parsed = KnowledgeFile.model_validate(raw)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise KnowledgeFileError(f"{path}: {where}: {first['msg']}") from None
    entries, seen = [], set()
    for spec in parsed.entries:
        entry = KnowledgeEntry(
            spec.id,
            spec.question,
            spec.answer,
            spec.category or "",
            tuple(spec.keywords),
            spec.source or "",
            spec.valid_from,
            spec.valid_to,
        )
        try:
            entries.append(check_entry(entry))
        except KnowledgeError as error:
            raise KnowledgeFileError(f"{path}: {error}") from None
        if spec.id in seen:
            raise KnowledgeFileError(f"{path}: entry id {spec.id} is used twice")
        seen.add(spec.id)
    return entries
