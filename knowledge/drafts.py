"""Entries as plain mappings (kept in the database, edited in the console, exported and
imported): parse them with the YAML loader's rules and check them as ``coopbot kb check``
does. No database here: the operations hand mappings in and get entries and problems out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from knowledge.base import _parse_entry, cross_check
from knowledge.check import check_citations, missing_english
from knowledge.entries import Entry, Problem

FORMATS = ("yaml", "json")


def parse(raw: Any, file: str) -> tuple[Entry | None, list[Problem]]:
    problems: list[Problem] = []
    return _parse_entry(raw, file, problems), problems


def parse_all(raws: Iterable[tuple[str, Any]]) -> tuple[list[Entry], list[Problem]]:
    """(file, mapping) pairs to entries; the problems of the ones that do not parse."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    for file, raw in raws:
        entry = _parse_entry(raw, file, problems)
        if entry:
            entries.append(entry)
    return entries, problems


def check(entries: list[Entry]) -> list[Problem]:
    """The checks of ``coopbot kb check`` across a whole base: duplicate ids, dangling
    follow-ups, colliding questions, cited articles that do not exist, missing English."""
    return [*cross_check(entries), *check_citations(entries), *missing_english(entries)]


def dump(entries: Iterable[Entry], fmt: str) -> str:
    data = [e.export() for e in entries]
    if fmt == "json":
        return json.dumps({"entries": data}, ensure_ascii=False, indent=1) + "\n"
    return yaml.safe_dump({"entries": data}, allow_unicode=True, sort_keys=False, width=100)


def read(path: Path) -> tuple[list[tuple[str, Any]], list[Problem]]:
    """The raw entries of an exported file (YAML or JSON: ``{"entries": [...]}`` or a list)."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        first = f"cannot be read: {exc}".splitlines()[0]
        return [], [Problem(name, None, first)]
    raws = doc.get("entries") if isinstance(doc, dict) else doc
    if not isinstance(raws, list):
        return [], [Problem(name, None, "expected a list of entries or {'entries': [...]}")]
    return [(name, raw) for raw in raws], []
