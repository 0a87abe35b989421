"""The communes and wards (xã, phường) of Lào Cai province, as reorganised in 2025.

The list comes from the ``vietnam_provinces`` package (99 units). Staff type names with or
without diacritics and with or without the "Xã"/"Phường" prefix; :func:`find_commune` accepts
all of these, :func:`suggest_communes` offers close names for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process, utils

from knowledge.normalize import fold

_PREFIXES = ("xa ", "phuong ", "thi tran ")


@dataclass(frozen=True)
class Commune:
    """A commune or ward: official name (``"Xã Khao Mang"``) and national code."""

    name: str
    code: int


def _key(text: str) -> str:
    """Fold ``text`` and drop a leading unit prefix: ``"Xã Khao Mang"`` → ``"khao mang"``."""
    folded = " ".join(fold(text).replace("_", " ").replace("-", " ").split())
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


@lru_cache(maxsize=1)
def communes() -> tuple[Commune, ...]:
    """Every commune and ward of Lào Cai province, in the package's order."""
    from vietnam_provinces import ProvinceCode, Ward

    return tuple(
        Commune(name=w.name, code=int(w.code.value))
        for w in Ward.iter_by_province(ProvinceCode.P_15)
    )


@lru_cache(maxsize=1)
def _index() -> dict[str, Commune]:
    """Lookup keys → commune: the full folded name, and the name without its prefix."""
    index: dict[str, Commune] = {}
    for commune in communes():
        index[fold(commune.name)] = commune
        index.setdefault(_key(commune.name), commune)
        index.setdefault(_key(commune.name).replace(" ", ""), commune)  # "sapa" for "Sa Pa"
    return index


def find_commune(text: str) -> Commune | None:
    """The commune named by ``text`` (``"khao mang"``, ``"Xa Khao Mang"``), or ``None``."""
    if not text or not text.strip():
        return None
    index = _index()
    folded = " ".join(fold(text).replace("_", " ").split())
    key = _key(text)
    return index.get(folded) or index.get(key) or index.get(key.replace(" ", ""))


def suggest_communes(text: str, limit: int = 3) -> list[str]:
    """Official names closest to ``text``, best first (for "did you mean …")."""
    key = _key(text)
    if not key:
        return []
    names = {c.name: _key(c.name) for c in communes()}
    found = process.extract(
        key,
        names,
        scorer=fuzz.ratio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=60,
    )
    return [name for _choice, _score, name in found]
