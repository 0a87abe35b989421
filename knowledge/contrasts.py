"""Acts that are opposites or siblings, so that a question about one never gets the other.

"giải thể" and "thành lập", "rút vốn" and "góp vốn" share most of their words with each other's
questions ("thủ tục … hợp tác xã"), so word overlap alone lets the founding steps answer a
question about dissolving. Each :class:`Group` below lists the terms of one family of acts;
each term is a few phrases (written in Vietnamese, compared folded, abbreviations expanded).

Search (:mod:`knowledge.search`) uses the table so: when a question names a term of a group,
an entry whose wordings (questions, title, tags) name another term of that group and never
the asked one loses :data:`CONTRAST_PENALTY`, which puts it under the confidence line. With
``required``, an entry that names no term of the group at all loses
:data:`MISSING_PENALTY`: a question about a fair is not answered by an entry that never
speaks of fairs or events.

To add a family: add a group here and a pair of questions to ``tests/data/qa_set.jsonl``
(one that must get the entry, one that must not). Entries need no change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from knowledge.normalize import tokenize

CONTRAST_PENALTY = 0.3
MISSING_PENALTY = 0.15


@dataclass(frozen=True)
class Group:
    name: str
    terms: dict[str, tuple[str, ...]]  # term name → phrases (Vietnamese)
    required: bool = False


# fmt: off
GROUPS: tuple[Group, ...] = (
    Group(
        "lifecycle",
        {
            "found": ("thành lập", "lập hợp tác xã", "lập tổ hợp tác", "mở hợp tác xã"),
            "dissolve": ("giải thể",),
            "bankrupt": ("phá sản",),
            "suspend": ("tạm ngừng", "ngừng hoạt động", "dừng hoạt động", "ngừng kinh doanh"),
            "reorganise": ("chia tách", "tách hợp tác xã", "chia hợp tác xã", "hợp nhất", "sáp nhập",
                           "tổ chức lại"),
            "convert": ("chuyển đổi", "chuyển thành"),
        },
    ),
    Group(
        "membership",
        {
            "join": ("gia nhập", "kết nạp", "vào hợp tác xã", "vào tổ hợp tác", "trở thành thành viên",
                     "làm thành viên", "tham gia hợp tác xã"),
            "leave": ("ra khỏi", "rút khỏi", "rời khỏi", "rút tên", "xin ra", "thôi làm thành viên",
                      "chấm dứt tư cách", "khai trừ", "mất tư cách"),
        },
    ),
    Group(
        "capital",
        {
            "contribute": ("góp vốn", "vốn góp tối đa", "góp đủ vốn", "tăng vốn"),
            "withdraw": ("rút vốn", "trả lại vốn", "hoàn trả vốn", "trả vốn", "lấy lại vốn",
                         "chuyển nhượng vốn", "trả lại phần vốn"),
            "inherit": ("thừa kế", "qua đời", "đã mất", "vừa mất"),
        },
    ),
    Group(
        "lender",
        {
            "internal": ("cho thành viên vay", "vay nội bộ", "cho vay nội bộ", "vay của hợp tác xã",
                         "vay tiền của hợp tác xã", "vay vốn của hợp tác xã", "thành viên vay"),
            "fund": ("quỹ hỗ trợ phát triển",),
            "bank": ("ngân hàng", "tổ chức tín dụng"),
        },
        required=True,
    ),
    Group(
        "events",
        {
            "fair": ("hội chợ", "triển lãm", "sự kiện", "tuần lễ", "gian hàng", "xúc tiến thương mại"),
        },
        required=True,
    ),
)
# fmt: on


@dataclass(frozen=True)
class _Compiled:
    group: int
    term: int
    phrase: tuple[str, ...]


def _compile(groups: Sequence[Group]) -> list[_Compiled]:
    out = []
    for gi, group in enumerate(groups):
        for ti, phrases in enumerate(group.terms.values()):
            for phrase in phrases:
                out.append(_Compiled(gi, ti, tuple(t.folded for t in tokenize(phrase))))
    # Longest first, so "cho vay nội bộ" is read before "vay nội bộ".
    out.sort(key=lambda c: -len(c.phrase))
    return out


_PHRASES = _compile(GROUPS)


def terms_named(folded: Sequence[str]) -> set[tuple[int, int]]:
    """(group, term) pairs that a folded syllable sequence names."""
    found: set[tuple[int, int]] = set()
    if not folded:
        return found
    text = f" {' '.join(folded)} "
    for c in _PHRASES:
        if f" {' '.join(c.phrase)} " in text:
            found.add((c.group, c.term))
    return found


def entry_terms(wordings: Iterable[Sequence[str]]) -> set[tuple[int, int]]:
    """The (group, term) pairs any of an entry's wordings (folded syllables) names."""
    found: set[tuple[int, int]] = set()
    for folded in wordings:
        found |= terms_named(folded)
    return found


def penalty(asked: set[tuple[int, int]], entry: set[tuple[int, int]]) -> float:
    """How much an entry naming ``entry`` terms loses for a question naming ``asked``."""
    total = 0.0
    for gi in {g for g, _t in asked}:
        want = {t for g, t in asked if g == gi}
        has = {t for g, t in entry if g == gi}
        if has and not has & want:
            total += CONTRAST_PENALTY
        elif not has and GROUPS[gi].required:
            total += MISSING_PENALTY
    return total
