"""Numbers written as Vietnamese words: "hai" → 2, "mười lăm" → 15, "một trăm linh năm" → 105.

:func:`words_to_digits` turns the number words at the start of a text into digits and keeps
the rest, so the usual number reader (``knowledge.numbers``) reads the result with its units
and multipliers: "hai triệu" → "2 triệu", "mười lăm người" → "15 người". Numbers up to 999 in
words (larger ones are written with digits or a multiplier).
"""

from __future__ import annotations

from knowledge.normalize import fold

# Folded (no diacritics): "mười" and "mươi" are both "muoi"; "mốt" (1), "tư" (4) and "lăm"
# (5) are the forms used after a ten.
DIGITS = {
    "khong": 0,
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "lam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
}
TEN = "muoi"
HUNDRED = "tram"
ZERO_TENS = ("linh", "le")


def _leading_number(words: list[str]) -> tuple[int, int] | None:
    """The value of the number words at the start of ``words`` and how many were used."""
    i, total = 0, 0
    if len(words) >= 2 and words[0] in DIGITS and words[1] == HUNDRED:
        total, i = DIGITS[words[0]] * 100, 2
    if i < len(words) and words[i] == TEN:
        total, i = total + 10, i + 1
    elif i + 1 < len(words) and words[i] in DIGITS and words[i + 1] == TEN:
        total, i = total + DIGITS[words[i]] * 10, i + 2
    elif i and i + 1 < len(words) and words[i] in ZERO_TENS and words[i + 1] in DIGITS:
        i += 1
    if i < len(words) and words[i] in DIGITS:
        total, i = total + DIGITS[words[i]], i + 1
    return (total, i) if i else None


def words_to_digits(text: str) -> str | None:
    """``text`` with its leading number words as digits; ``None`` when it does not start
    with a number word."""
    words = fold(text).split()
    found = _leading_number(words)
    if found is None:
        return None
    value, used = found
    return " ".join([str(value), *words[used:]])
