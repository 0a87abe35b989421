"""Numbers as Vietnamese members type them: "46 triệu", "46tr", "1,2 tỷ", "1 tỷ 200 triệu",
"500k", "1.200.000", "1200000 đồng", "12 người", "2 nghìn", "3 ngàn", "1 triệu 2".

:func:`parse_number` returns every whole-number reading of the text. Vietnamese writes
"1.200.000" for a million two hundred thousand and "1,5" for one and a half; English writing
swaps the two, so "1.200" or "1,200" (one separator, three digits after it) is read both ways
and the caller asks the member which one was meant. Nothing here translates: problems are
codes for the caller to explain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import product

from knowledge.normalize import fold

# Multipliers, folded: the unit words that scale the number before them.
MULTIPLIERS: dict[str, int] = {
    "k": 1_000,
    "nghin": 1_000,
    "ngan": 1_000,
    "ngin": 1_000,
    "tr": 1_000_000,
    "trieu": 1_000_000,
    "ty": 1_000_000_000,
    "ti": 1_000_000_000,
}
HALF = frozenset({"ruoi", "ruwoi"})  # "2 triệu rưỡi" = 2.5 million
ZERO_WORDS = frozenset({"khong", "ko", "k co", "khong co", "chua", "chua co", "none", "no"})
LEADING_WORDS = frozenset({"khoang", "tam", "chung", "gan", "duoc", "la", "co"})

# Problems (codes, explained by the caller).
EMPTY, NOT_A_NUMBER, NOT_WHOLE, NEGATIVE = "empty", "not_a_number", "not_whole", "negative"

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[a-z]+|\S")
_SPACE_GROUP = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")


@dataclass(frozen=True)
class NumberReading:
    """What a typed number may mean.

    ``candidates`` are the whole-number readings, smallest first; ``ambiguous`` is true when
    the text could be read more than one way (even when only one reading is a whole number:
    "1.200" is 1200 or 1.2), so the caller should repeat it back; ``problem`` says why there is
    no reading at all.
    """

    candidates: tuple[int, ...] = ()
    ambiguous: bool = False
    problem: str | None = None

    @property
    def value(self) -> int | None:
        """The one certain value, or ``None`` (no reading, or it needs confirming)."""
        if len(self.candidates) == 1 and not self.ambiguous:
            return self.candidates[0]
        return None


def _digit_readings(token: str) -> list[Decimal]:
    """Every plausible reading of a digit token with ``.`` and ``,`` separators."""
    seps = [ch for ch in token if ch in ".,"]
    if not seps:
        return [Decimal(token)]
    parts = re.split(r"[.,]", token)
    if len(set(seps)) == 2:
        # Both kinds: the last one is the decimal mark, the other groups thousands.
        decimal_mark = token[max(token.rfind("."), token.rfind(","))]
        group_mark = "," if decimal_mark == "." else "."
        whole, _, frac = token.rpartition(decimal_mark)
        groups = whole.split(group_mark)
        if whole.count(decimal_mark) or not _grouped(groups):
            return []
        return [Decimal("".join(groups) + "." + frac)]
    if len(seps) > 1:  # "1.200.000": only thousands groups make sense
        return [Decimal("".join(parts))] if _grouped(parts) else []
    whole, frac = parts
    if len(frac) == 3 and _grouped(parts):
        return [Decimal(whole + frac), Decimal(whole + "." + frac)]  # 1200 or 1.2
    return [Decimal(whole + "." + frac)]


def _grouped(groups: list[str]) -> bool:
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def parse_number(text: str) -> NumberReading:
    """Read ``text`` as a whole number (counts, or money in VND)."""
    folded = fold(text).replace("\u00a0", " ")
    folded = folded.replace("₫", " ").strip(" .!")
    if not folded:
        return NumberReading(problem=EMPTY)
    if folded in ZERO_WORDS:
        return NumberReading((0,))
    folded = _SPACE_GROUP.sub("", folded)
    tokens = _TOKEN.findall(folded)
    while tokens and tokens[0] in LEADING_WORDS:
        tokens = tokens[1:]
    if tokens and tokens[0] in ("-", "am"):
        return NumberReading(problem=NEGATIVE)
    if not tokens or not tokens[0][0].isdigit():
        return NumberReading(problem=NOT_A_NUMBER)

    # segments: (readings of the number, multiplier); a bare number after a multiplier is
    # shorthand for a fraction of it ("1 triệu 2" = 1.2 million).
    totals: list[list[Decimal]] = []
    last_unit: int | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not tok[0].isdigit():
            break  # the rest must be unit nouns ("người", "đồng"), checked below
        readings = _digit_readings(tok)
        if not readings:
            return NumberReading(problem=NOT_A_NUMBER)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt in MULTIPLIERS:
            unit = MULTIPLIERS[nxt]
            if last_unit is not None and unit >= last_unit:
                return NumberReading(problem=NOT_A_NUMBER)  # "1 triệu 2 tỷ"
            i += 2
            half = Decimal(0)
            if i < len(tokens) and tokens[i] in HALF:
                half, i = Decimal("0.5"), i + 1
            segment = [(r + half) * unit for r in readings]
            if last_unit is not None and any(v >= last_unit for v in segment):
                return NumberReading(problem=NOT_A_NUMBER)  # "1 tỷ 1500 triệu"
            totals.append(segment)
            last_unit = unit
        elif last_unit is not None and tok.isdigit() and len(tok) <= 3:
            totals.append([Decimal(tok) * last_unit / 10 ** len(tok)])
            i += 1
            last_unit = None  # nothing may follow the shorthand
            break
        elif totals:
            return NumberReading(problem=NOT_A_NUMBER)  # two bare numbers: "12 15"
        else:
            totals.append(readings)
            i += 1
            last_unit = 0  # a bare number ends the amount
            break
    rest = tokens[i:]
    if any(not t.isalpha() or t in MULTIPLIERS for t in rest):
        return NumberReading(problem=NOT_A_NUMBER)  # more numbers or symbols after the amount
    values = sorted({sum(combo, Decimal(0)) for combo in product(*totals)})
    whole = tuple(int(v) for v in values if v == v.to_integral_value())
    if not whole:
        return NumberReading(problem=NOT_WHOLE)
    return NumberReading(whole, ambiguous=len(values) > 1)
