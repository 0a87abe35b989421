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


# Provinces as members name them: the 34 of 2025 (from the package) and the 29 older names
# merged away in 2025, which members still use. Yên Bái is part of Lào Cai now.
HOME_PROVINCE = "lao cai"
_HOME_NAMES = frozenset({"lao cai", "yen bai"})
_OLD_PROVINCES = (
    "Hà Giang", "Bắc Kạn", "Yên Bái", "Hòa Bình", "Vĩnh Phúc", "Bắc Giang", "Hải Dương",
    "Thái Bình", "Hà Nam", "Nam Định", "Quảng Bình", "Quảng Nam", "Kon Tum", "Bình Định",
    "Phú Yên", "Ninh Thuận", "Đắk Nông", "Bình Phước", "Bình Thuận", "Bà Rịa Vũng Tàu",
    "Vũng Tàu", "Bình Dương", "Long An", "Tiền Giang", "Bến Tre", "Trà Vinh", "Sóc Trăng",
    "Bạc Liêu", "Hậu Giang", "Kiên Giang", "Sài Gòn", "Hồ Chí Minh",
)  # fmt: skip


@lru_cache(maxsize=1)
def province_names() -> dict[tuple[str, ...], tuple[str, str]]:
    """Folded syllables of a province's name → (key, toned syllables joined by spaces)."""
    from vietnam_provinces import Province

    from knowledge.normalize import syllables

    names = [p.name for p in Province.iter_all()] + list(_OLD_PROVINCES)
    found: dict[tuple[str, ...], tuple[str, str]] = {}
    for name in names:
        for prefix in ("Thành phố ", "Tỉnh "):
            name = name.removeprefix(prefix)
        sy = syllables(name)
        folded = tuple(f for _t, f in sy)
        key = " ".join(folded)
        found[folded] = ("lao cai" if key in _HOME_NAMES else key, " ".join(t for t, _f in sy))
    return found


@lru_cache(maxsize=1)
def _first_syllables() -> frozenset[str]:
    return frozenset(key[0] for key in province_names())


def provinces_named(folded: list[str], toned: list[str | None]) -> set[str]:
    """The provinces a question names (``"lao cai"`` for Lào Cai and the former Yên Bái).

    ``folded`` are the question's syllables; ``toned`` their accented readings where the
    member typed accents (``None`` elsewhere): typed accents must agree ("làm đồng" is not
    Lâm Đồng).
    """
    names = province_names()
    starts = _first_syllables()
    found: set[str] = set()
    for i in range(len(folded)):
        if folded[i] not in starts:
            continue
        for n in (4, 3, 2, 1):
            key = tuple(folded[i : i + n])
            if len(key) < n or key not in names:
                continue
            province, toned_name = names[key]
            typed = toned[i : i + n]
            if all(t is not None for t in typed) and " ".join(typed) != toned_name:  # type: ignore[arg-type]
                continue
            found.add(province)
            break
    return found
