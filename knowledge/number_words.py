"""Numbers written as Vietnamese words: "hai" → 2, "mười lăm" → 15, "một trăm linh năm" → 105.

:func:`words_to_digits` turns an answer written in number words into digits, so the usual
number reader (``knowledge.numbers``) reads it with its multipliers: "hai triệu" → "2 trieu",
"mười lăm người" → "15 nguoi". Numbers up to 999 in words (larger ones are written with digits
or a multiplier).

Careful, because folding away the diacritics makes words collide: "sau" (after) and "sáu" (6),
"bay" and "bảy" (7), "năm" (5, or year). So a text typed with diacritics must use the number
words' own spelling, and only a few words may follow the number (a multiplier or a unit such
as "người"): "sau Tết", "bây giờ", "năm nay" are not numbers.
"""

from __future__ import annotations

import unicodedata

from knowledge.normalize import fold

# Keys are folded: "mười" and "mươi" are both "muoi"; "mốt" (1), "tư" (4) and "lăm" (5) are
# the forms used after a ten.
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
# With diacritics, only these spellings are number words (each with its folded key).
SPELLED = {
    "không": "khong",
    "một": "mot",
    "mốt": "mot",
    "hai": "hai",
    "ba": "ba",
    "bốn": "bon",
    "tư": "tu",
    "năm": "nam",
    "lăm": "lam",
    "sáu": "sau",
    "bảy": "bay",
    "bẩy": "bay",
    "tám": "tam",
    "chín": "chin",
    "mười": "muoi",
    "mươi": "muoi",
    "trăm": "tram",
    "linh": "linh",
    "lẻ": "le",
}
# Words that may follow the number (folded): multipliers, a half, and the units of the form.
AFTER = frozenset(
    "nghin ngan trieu ty ti ruoi dong vnd nguoi thanh vien lao dong hoi cho lan".split()
)


def _leading_number(words: list[str]) -> tuple[int, int] | None:
    """The value of the (folded) number words at the start of ``words`` and how many were
    used."""
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


def _keys(text: str) -> list[str]:
    """The words of ``text``, folded; a word typed with diacritics that is not spelled as a
    number word becomes ``""`` (so it stops the number)."""
    words = unicodedata.normalize("NFC", text).lower().replace(",", " ").split()
    if all(w.isascii() for w in words):
        return words
    return [SPELLED.get(w, "") for w in words]


def words_to_digits(text: str) -> str | None:
    """``text`` written in number words, as digits (the words after it folded); ``None``
    when it is not a number written in words."""
    keys = _keys(text.strip(" .!"))
    found = _leading_number(keys)
    if found is None:
        return None
    value, used = found
    rest = [fold(w) for w in text.strip(" .!").split()[used:]]
    if not all(w in AFTER for w in rest):
        return None
    return " ".join([str(value), *rest])
