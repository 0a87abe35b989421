"""Vietnamese text normalisation for search.

Members type with or without diacritics, with old or new tone placement (hoà / hòa), with
abbreviations and teen-code (htx, đk, ko, j) and typos. Every syllable is read two ways:

* the **toned** form keeps the vowel shapes (ă â ê ô ơ ư đ) and moves the tone to a digit at
  the end, so tone placement no longer matters: ``hoà`` and ``hòa`` both give ``hoa2``;
* the **folded** form drops every mark and maps đ to d: ``hoa``.

Folding follows ``../shared/eval/README.md``: NFD, drop combining marks, đ → d, lower case,
whitespace runs to one space.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Combining tone marks, numbered like the Vietnamese "telex" convention.
_TONES = {"\u0300": "2", "\u0301": "1", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
# Other combining marks that only change the shape of a vowel (â ă ơ) stay in the toned form.
_WORD = re.compile(r"[0-9a-zđ\u0300-\u036f]+")
_Y_AFTER = re.compile(r"^(k|l|m|s|t|h|v|n|d|đ|b)y(\d?)$")


def fold(text: str) -> str:
    """Drop every diacritic, map đ to d, lower-case and squeeze whitespace."""
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("đ", "d").replace("Đ", "D").lower()
    return " ".join(text.split())


def has_diacritics(text: str) -> bool:
    return fold(text) != " ".join(text.lower().split())


@lru_cache(maxsize=65536)
def _syllable(word: str) -> tuple[str, str]:
    """``word`` (lower-case NFD) → (toned form, folded form)."""
    tone = ""
    kept = []
    for ch in word:
        if ch in _TONES:
            tone = _TONES[ch]
        else:
            kept.append(ch)
    shaped = unicodedata.normalize("NFC", "".join(kept))
    toned = shaped + tone
    folded = fold(shaped)
    # Spelling variants with i/y after a consonant: ký/kí, lý/lí, mỹ/mĩ (not "quy").
    m = _Y_AFTER.match(toned)
    if m:
        toned = f"{m.group(1)}i{m.group(2)}"
    m = _Y_AFTER.match(folded)
    if m:
        folded = f"{m.group(1)}i"
    return toned, folded


def syllables(text: str) -> list[tuple[str, str]]:
    """Split ``text`` into syllables, each as (toned, folded); punctuation is dropped."""
    text = unicodedata.normalize("NFD", text.lower().replace("Đ", "đ"))
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text))
    return [_syllable(w) for w in _WORD.findall(text)]


# Abbreviations and teen-code, written in proper Vietnamese; keys are folded.
ABBREVIATIONS: dict[str, str] = {
    "htx": "hợp tác xã",
    "tht": "tổ hợp tác",
    "thtx": "tổ hợp tác",
    "lhhtx": "liên hiệp hợp tác xã",
    "lmhtx": "liên minh hợp tác xã",
    "lm": "liên minh",
    "tv": "thành viên",
    "tvien": "thành viên",
    "dk": "đăng ký",
    "dky": "đăng ký",
    "dki": "đăng ký",
    "nq": "nghị quyết",
    "nd": "nghị định",
    "hdnd": "hội đồng nhân dân",
    "ubnd": "ủy ban nhân dân",
    "qh": "quốc hội",
    "ko": "không",
    "k": "không",
    "kh": "không",
    "hok": "không",
    "hong": "không",
    "khg": "không",
    "kg": "không",
    "dc": "được",
    "j": "gì",
    "bn": "bao nhiêu",
    "bnh": "bao nhiêu",
    "bnhieu": "bao nhiêu",
    "ntn": "như thế nào",
    "sp": "sản phẩm",
    "dn": "doanh nghiệp",
    "ng": "người",
    "vs": "với",
    "cx": "cũng",
    "cg": "cũng",
    "mk": "mình",
    "mik": "mình",
    "e": "em",
    "a": "anh",
    "ac": "anh chị",
    "ad": "admin",
    "sdt": "số điện thoại",
    "tphcm": "thành phố hồ chí minh",
    "hn": "hà nội",
    "lc": "lào cai",
    "gcn": "giấy chứng nhận",
    "tt": "thông tư",
    "ttg": "thủ tướng",
    "xttm": "xúc tiến thương mại",
    "hc": "hội chợ",
    "bc": "báo cáo",
    "oy": "rồi",
    "r": "rồi",
    "z": "vậy",
    "v": "vậy",
    "thoy": "thôi",
    "hk": "không",
    "hum": "hôm",
    "bjo": "bây giờ",
    "bgio": "bây giờ",
    "ms": "mới",
    "trc": "trước",
    "wa": "quá",
    "lq": "liên quan",
    "hs": "hồ sơ",
    "kq": "kết quả",
    "slv": "sáng lập viên",
    "sx": "sản xuất",
    "sxkd": "sản xuất kinh doanh",
    "ht": "hỗ trợ",
    "tl": "thành lập",
    "vn": "việt nam",
    "tq": "trung quốc",
    "ak": "à",
    "ah": "à",
    "dkkd": "đăng ký kinh doanh",
    "cty": "công ty",
    "bhxh": "bảo hiểm xã hội",
    "bhyt": "bảo hiểm y tế",
    "tp": "thành phố",
    "nsnn": "ngân sách nhà nước",
    "ql": "quản lý",
    "hdqt": "hội đồng quản trị",
    "bks": "ban kiểm soát",
    "dhtv": "đại hội thành viên",
    "onl": "online",
    "onlai": "online",
    "onlain": "online",
    "onlaine": "online",
    "tks": "cảm ơn",
    "thks": "cảm ơn",
    "thanks": "cảm ơn",
    "thank": "cảm ơn",
    "mn": "mọi người",
    "mng": "mọi người",
    "tg": "thời gian",
    "ktra": "kiểm tra",
    "khum": "không",
    "ib": "nhắn tin",
    # The assistant's commands, typed as words: "/batthongbao" is "bật thông báo".
    "batthongbao": "bật thông báo",
    "tatthongbao": "tắt thông báo",
    "sukien": "sự kiện",
    "baocao": "báo cáo",
    "lienhe": "liên hệ",
    "dangky": "đăng ký",
    "ngonngu": "ngôn ngữ",
    "trogiup": "trợ giúp",
    "hoptacxa": "hợp tác xã",
    "chuahoi": "chưa hỏi",
}
# A number glued to a unit: "16t" (tuổi), "46tr" (triệu), "500k" (nghìn), "2ty" (tỷ).
_UNITS = {"t": "tuổi", "tr": "triệu", "k": "nghìn", "ty": "tỷ"}
_GLUED = re.compile(r"^(\d+)([a-zđ]+)$|^([a-zđ]+)(\d+)$")

# Teen-code letter swaps at the start of a word: "fai" → "phai", "wa" → "qua".
_LEADING_SWAPS = (("f", "ph"), ("w", "qu"), ("j", "gi"), ("z", "d"))


@dataclass(frozen=True)
class Token:
    toned: str
    folded: str
    typed_toned: bool  # the member typed a diacritic in this syllable


def _expand(toned: str, folded: str, typed: bool) -> list[Token]:
    # An abbreviation is typed without tone marks; đ is allowed (đk, HĐND, đc).
    if folded in ABBREVIATIONS and toned.replace("đ", "d") == folded:
        return [Token(t, f, True) for t, f in syllables(ABBREVIATIONS[folded])]
    if not typed and folded and folded[0] in "fwjz" and len(folded) > 1 and not folded.isdigit():
        for src, dst in _LEADING_SWAPS:
            if folded.startswith(src):
                folded = dst + folded[len(src) :]
                toned = folded
                break
    return [Token(toned, folded, typed)]


def _unglue(toned: str, folded: str) -> list[tuple[str, str]]:
    """``"nq12"`` → ``nq``, ``12``; ``"16t"`` → ``16``, ``tuổi``."""
    m = _GLUED.match(folded)
    if not m or toned != folded:
        return [(toned, folded)]
    if m.group(1):
        unit = _UNITS.get(m.group(2))
        rest = syllables(unit) if unit else [(m.group(2), m.group(2))]
        return [(m.group(1), m.group(1)), *rest]
    return [(m.group(3), m.group(3)), (m.group(4), m.group(4))]


def tokenize(text: str) -> list[Token]:
    """Normalise ``text`` into tokens with abbreviations expanded."""
    out: list[Token] = []
    for toned, folded in syllables(text):
        for t, f in _unglue(toned, folded):
            out.extend(_expand(t, f, t != f))
    return out
