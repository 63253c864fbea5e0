"""A validated YAML file together with its node tree, so that problems can name their line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class Parsed:
    """A validated file and the YAML node tree it came from (for line numbers)."""

    name: str
    model: Any
    node: yaml.Node | None

    def line(self, *path: str | int) -> int:
        return line_of(self.node, path)


def line_of(node: yaml.Node | None, path: Sequence[str | int]) -> int:
    """The 1-based line of the value at `path`, or of the deepest part of it that exists."""
    line = node.start_mark.line + 1 if node else 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line
