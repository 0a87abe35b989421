"""Numbers as Vietnamese members type them: "46 triệu", "46tr", "1,2 tỷ", "1 tỷ 200 triệu",
"500k", "1.200.000", "1200000 đồng", "12 người", "2 nghìn", "3 ngàn", "1 triệu 2"; the slang
members use for money ("5 củ" and "5kk" = 5 million, "5 lít" = 500 thousand, "2 tỏi" = 2
billion, "5 chục" = 50, "3 trăm k" = 300 thousand) and numbers in words ("mười lăm",
"hai mươi mốt", "một trăm linh năm", "hai triệu rưỡi").

:func:`parse_number` returns every whole-number reading of the text. Vietnamese writes
"1.200.000" for a million two hundred thousand and "1,5" for one and a half; English writing
swaps the two, so "1.200" or "1,200" (one separator, three digits after it) is read both ways
and the caller asks the member which one was meant. Nothing here translates: problems are
codes for the caller to explain. Anything that is not plainly a number (superscripts, circled
digits, more digits than any amount has) is no reading, never a guess.
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
    # Slang for money, as members type it.
    "cu": 1_000_000,  # "5 củ" = 5 triệu
    "kk": 1_000_000,  # "5kk" = 5 triệu
    "lit": 100_000,  # "5 lít" = 500 nghìn
    "toi": 1_000_000_000,  # "2 tỏi" = 2 tỷ
}
# Words that scale the number before them and may stand before another multiplier:
# "5 chục triệu" = 50 million, "3 trăm k" = 300 thousand.
SMALL_MULTIPLIERS: dict[str, int] = {"chuc": 10, "tram": 100}
# Numbers in words (folded): digits, and the words that build tens and hundreds.
DIGIT_WORDS: dict[str, int] = {
    "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "lam": 5, "sau": 6,
    "bay": 7, "tam": 8, "chin": 9,
}  # fmt: skip
ZERO_LINKS = frozenset({"linh", "le"})  # "một trăm linh năm" = 105
TEN_WORDS = frozenset({"muoi"})  # mười (10) and mươi (×10) fold alike
MAX_DIGITS = 15  # 10^15 đồng is beyond any cooperative's figures

HALF = frozenset({"ruoi", "ruwoi"})  # "2 triệu rưỡi" = 2.5 million
ZERO_WORDS = frozenset({"khong", "ko", "k co", "khong co", "chua", "chua co", "none", "no"})
LEADING_WORDS = frozenset({"khoang", "tam", "chung", "gan", "duoc", "la", "co"})

# Problems (codes, explained by the caller).
EMPTY, NOT_A_NUMBER, NOT_WHOLE, NEGATIVE = "empty", "not_a_number", "not_whole", "negative"
TOO_LARGE = "too_large"

_TOKEN = re.compile(r"[.,]?[0-9]+(?:[.,][0-9]+)*|[a-z]+|\S")
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
    if token[0] in ".,":  # ".12" is 0.12, never 12
        token = "0" + token
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
    lead = groups[0]
    return 1 <= len(lead) <= 3 and lead[0] != "0" and all(len(g) == 3 for g in groups[1:])


def _is_number(token: str) -> bool:
    """A token of ASCII digits (with separators): "²" and "③" are not numbers here."""
    return token[:1] in _DIGITS or (token[:1] in (".", ",") and token[1:2] in _DIGITS)


_DIGITS = frozenset("0123456789")


def _word_value(tokens: list[str], i: int) -> tuple[int | None, int]:
    """The number written in words from ``tokens[i]`` (below a thousand: "hai mươi lăm",
    "một trăm linh năm") and the index after it; ``(None, i)`` when the words make none."""
    group: int | None = None  # tens and hundreds read so far
    digit: int | None = None  # the digit word waiting for "mươi" or "trăm"
    j = i
    while j < len(tokens):
        word = tokens[j]
        if word in DIGIT_WORDS:
            if digit is not None:
                return None, i  # "hai ba"
            digit = DIGIT_WORDS[word]
        elif word in TEN_WORDS or word == "tram":
            scale = 10 if word in TEN_WORDS else 100
            group = (group or 0) + (1 if digit is None else digit) * scale
            digit = None
        elif word in ZERO_LINKS and group is not None and digit is None:
            pass  # "một trăm linh năm" = 105
        else:
            break
        j += 1
    if group is None and digit is None:
        return None, i
    return (group or 0) + (digit or 0), j


def _words_to_digits(tokens: list[str]) -> list[str] | None:
    """Numbers written in words become digits: ["hai", "muoi", "lam", "trieu"] →
    ["25", "trieu"]; "trăm" right after digits stays a multiplier ("3 trăm k"). ``None`` when
    words that look like a number do not make one."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        word = tokens[i]
        starts = word in DIGIT_WORDS or word in TEN_WORDS or word == "tram"
        if starts and not (word == "tram" and out and _is_number(out[-1])):
            value, i = _word_value(tokens, i)
            if value is None:
                return None
            out.append(str(value))
            continue
        out.append(word)
        i += 1
    return out


def _unit_at(tokens: list[str], i: int) -> tuple[int | None, int]:
    """The multiplier that starts at ``tokens[i]`` ("chục", "trăm" may stand before another:
    "5 chục triệu") and the index after it; ``(None, i)`` when there is none."""
    unit = 1
    j = i
    while j < len(tokens) and tokens[j] in SMALL_MULTIPLIERS:
        unit *= SMALL_MULTIPLIERS[tokens[j]]
        j += 1
    if j < len(tokens) and tokens[j] in MULTIPLIERS:
        unit *= MULTIPLIERS[tokens[j]]
        j += 1
    return (unit, j) if j > i else (None, i)


def parse_number(text: str) -> NumberReading:
    """Read ``text`` as a whole number (counts, or money in VND)."""
    folded = fold(text).replace("\u00a0", " ")
    folded = folded.replace("₫", " ").strip(" !").rstrip(".")
    if not folded:
        return NumberReading(problem=EMPTY)
    if folded in ZERO_WORDS:
        return NumberReading((0,))
    folded = _SPACE_GROUP.sub("", folded)
    tokens = _TOKEN.findall(folded)
    # "tạm 5 triệu" (about 5 million), but "tám triệu" (8 million) folds to the same "tam".
    while tokens and tokens[0] in LEADING_WORDS and len(tokens) > 1:
        nxt = tokens[1]
        if nxt not in DIGIT_WORDS and nxt not in TEN_WORDS and not _is_number(nxt):
            break
        tokens = tokens[1:]
    if tokens and tokens[0] in ("-", "am"):
        return NumberReading(problem=NEGATIVE)
    tokens = _words_to_digits(tokens) or []
    if not tokens or not _is_number(tokens[0]):
        return NumberReading(problem=NOT_A_NUMBER)

    # segments: (readings of the number, multiplier); a bare number after a multiplier is
    # shorthand for a fraction of it ("1 triệu 2" = 1.2 million).
    totals: list[list[Decimal]] = []
    last_unit: int | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not _is_number(tok):
            break  # the rest must be unit nouns ("người", "đồng"), checked below
        if sum(ch.isdigit() for ch in tok) > MAX_DIGITS:
            return NumberReading(problem=TOO_LARGE)
        readings = _digit_readings(tok)
        if not readings:
            return NumberReading(problem=NOT_A_NUMBER)
        unit, after = _unit_at(tokens, i + 1)
        if unit is not None:
            if last_unit is not None and unit >= last_unit:
                return NumberReading(problem=NOT_A_NUMBER)  # "1 triệu 2 tỷ"
            i = after
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
    if any(not (t.isascii() and t.isalpha()) or t in MULTIPLIERS for t in rest):
        return NumberReading(problem=NOT_A_NUMBER)  # more numbers or symbols after the amount
    if any(t in HALF for t in rest):
        return NumberReading(problem=NOT_WHOLE)  # "mười rưỡi" = 10.5
    if any(t in SMALL_MULTIPLIERS for t in rest):
        return NumberReading(problem=NOT_A_NUMBER)  # "1 triệu 2 trăm": say it in full
    values = sorted({sum(combo, Decimal(0)) for combo in product(*totals)})
    if any(v >= 10**MAX_DIGITS for v in values):
        return NumberReading(problem=TOO_LARGE)
    whole = tuple(int(v) for v in values if v == v.to_integral_value())
    if not whole:
        return NumberReading(problem=NOT_WHOLE)
    return NumberReading(whole, ambiguous=len(values) > 1)
