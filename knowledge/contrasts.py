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
(one that must get the entry, one that must not). Entries need no change. Phrases are
compared without accents, so a phrase of one syllable would match too much ("tải" is also
"tài", "tại"): every phrase has at least two.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.normalize import fold, tokenize

CONTRAST_PENALTY = 0.5
MISSING_PENALTY = 0.15
# An entry is *about* a term when this share of its wordings (or its title) names it.
ABOUT_SHARE = 0.25
# For the central acts, an entry that names the act in this share of its wordings may answer
# (a multi-topic entry such as the federation's members names leaving in two of its wordings).
CENTRAL_SHARE = 0.08


@dataclass(frozen=True)
class Group:
    name: str
    terms: dict[str, tuple[str, ...]]  # term name → phrases (Vietnamese)
    required: bool = False
    # Acts a member must never get a near answer for (dissolving, leaving, getting money
    # back): only an entry about the act itself (or about another act the question names)
    # may answer; one naming it in passing loses CONTRAST_PENALTY.
    central: tuple[str, ...] = ()
    # Opposite terms whose phrases nest ("không muốn nhận tin" holds "muốn nhận tin"): a
    # phrase inside a longer phrase of another term does not count.
    nested: bool = False


# fmt: off
GROUPS: tuple[Group, ...] = (
    Group(
        "lifecycle",
        {
            "found": ("thành lập", "lập hợp tác xã", "lập tổ hợp tác", "mở hợp tác xã"),
            "dissolve": ("giải thể", "giải tán"),
            "revoke": ("thu hồi giấy", "bị thu hồi", "rút giấy đăng ký", "rút giấy chứng nhận"),
            "bankrupt": ("phá sản",),
            "suspend": ("tạm ngừng kinh doanh", "tạm ngừng hoạt động", "ngừng hoạt động",
                        "dừng hoạt động", "ngừng kinh doanh", "tạm dừng hoạt động",
                        "tạm ngừng sản xuất"),
            "reorganise": ("chia tách", "tách hợp tác xã", "chia hợp tác xã", "tổ chức lại",
                           "sáp nhập hai", "sáp nhập các hợp tác xã", "sáp nhập hợp tác xã",
                           "hợp nhất hai", "hợp nhất các hợp tác xã", "hợp nhất hợp tác xã"),
            "convert": ("chuyển đổi tổ hợp tác", "hợp tác xã chuyển đổi", "chuyển đổi từ tổ hợp tác",
                        "mới chuyển đổi", "chuyển đổi hợp tác xã", "chuyển đổi loại hình",
                        "chuyển đổi … thành hợp tác xã", "chuyển thành hợp tác xã",
                        "chuyển … thành công ti", "chuyển tổ hợp tác", "chuyển từ tổ hợp tác",
                        "chuyển sang hợp tác xã", "chuyển sang công ti", "chuyển đổi sang"),
        },
        central=("dissolve", "bankrupt", "suspend", "reorganise", "convert"),
    ),
    Group(
        "membership",
        {
            "join": ("gia nhập", "kết nạp", "vào hợp tác xã", "vào tổ hợp tác", "trở thành thành viên",
                     "làm thành viên", "tham gia hợp tác xã"),
            "leave": ("ra khỏi", "rút khỏi", "rời khỏi", "rút tên", "xin rút", "thôi làm thành viên",
                      "chấm dứt tư cách", "mất tư cách"),
            # being put out, not leaving of one's own will
            "expel": ("khai trừ", "bị đuổi", "đuổi khỏi", "đuổi … ra khỏi", "đuổi thành viên",
                      "đuổi xã viên", "loại khỏi", "gạch tên", "xóa tên"),
        },
        central=("leave", "expel"),
    ),
    Group(
        "capital",
        {
            "contribute": ("góp vốn",),
            "contribution_rules": ("góp … tối đa", "vốn góp tối đa", "góp đủ vốn", "hạn góp vốn",
                                   "không góp đủ", "chậm góp", "góp vốn … thời hạn",
                                   "thời hạn góp", "góp … bao nhiêu phần trăm",
                                   "chưa góp", "góp thiếu", "góp … chưa đủ", "quá hạn … góp",
                                   "góp … quá hạn", "chưa nộp đủ"),
            "capital_change": ("tăng vốn", "giảm vốn", "thay đổi vốn điều lệ",
                               "điều chỉnh vốn điều lệ"),
            "withdraw": ("rút vốn", "trả lại vốn", "hoàn trả vốn", "trả vốn", "lấy lại vốn",
                         "chuyển nhượng vốn", "trả lại phần vốn",
                         "trả lại tiền góp", "lấy lại tiền góp", "hoàn lại vốn", "nhận lại vốn",
                         "nhận lại tiền góp", "rút tiền góp", "hoàn lại tiền góp"),
            "inherit": ("thừa kế", "qua đời", "từ trần", "đã chết", "thành viên … vừa mất",
                        "thành viên … đã mất", "bố … vừa mất", "bố … đã mất", "mẹ … vừa mất",
                        "mẹ … đã mất", "chồng … vừa mất", "vợ … vừa mất"),
        },
        central=("withdraw", "inherit", "contribution_rules", "capital_change"),
    ),
    Group(
        "insurance",
        {
            "social": ("bảo hiểm xã hội", "bảo hiểm y tế", "bảo hiểm thất nghiệp", "đóng bảo hiểm",
                       "bảo hiểm cho người lao động"),
            "farm": ("bảo hiểm nông nghiệp", "bảo hiểm cây trồng", "bảo hiểm vật nuôi",
                     "bảo hiểm rủi ro"),
        },
        central=("social",),
    ),
    Group(
        "lender",
        {
            "internal": ("cho thành viên vay", "cho xã viên vay", "cho tv vay", "vay nội bộ", "cho vay nội bộ", "vay của hợp tác xã",
                         "vay tiền của hợp tác xã", "vay vốn của hợp tác xã", "vay tiền hợp tác xã"),
            "fund": ("quỹ hỗ trợ phát triển", "quỹ phát triển", "quỹ hợp tác xã", "vay quỹ",
                     "quỹ của nhà nước", "quỹ nào"),
            "bank": ("ngân hàng", "tổ chức tín dụng"),
            # the other direction: the cooperative borrows from (raises capital among) members
            "from_members": ("vay của thành viên", "vay tiền của thành viên",
                             "vay vốn của thành viên", "vay tiền thành viên", "vay của xã viên",
                             "vay tiền của xã viên", "mượn tiền của thành viên",
                             "mượn tiền thành viên", "mượn tiền xã viên", "huy động vốn",
                             "gọi vốn", "gọi thêm vốn", "huy động tiền"),
        },
        required=True,
        central=("internal",),
    ),
    Group(
        "whose",  # what the cooperative may and must do, against what its members must do
        {
            "cooperative": ("quyền của hợp tác xã", "quyền của tổ hợp tác", "nghĩa vụ của tổ hợp tác",
                            "tổ hợp tác có quyền", "tổ hợp tác được làm", "tổ hợp tác có nghĩa vụ", "nghĩa vụ của hợp tác xã",
                            "trách nhiệm của hợp tác xã", "hợp tác xã có quyền",
                            "hợp tác xã có nghĩa vụ", "hợp tác xã có những quyền",
                            "hợp tác xã có những nghĩa vụ", "quyền hạn của hợp tác xã",
                            "hợp tác xã được quyền", "hợp tác xã được phép",
                            "cho phép hợp tác xã", "cho hợp tác xã được", "hợp tác xã được làm",
                            "hợp tác xã phải làm", "hợp tác xã phải bồi thường",
                            "hợp tác xã gây thiệt hại", "hợp tác xã làm thiệt hại",
                            "hợp tác xã phải đền"),
            "member": ("nghĩa vụ của thành viên", "quyền của thành viên", "quyền thành viên",
                       "nghĩa vụ thành viên", "quyền lợi thành viên", "quyền lợi của thành viên", "trách nhiệm của thành viên",
                       "thành viên có nghĩa vụ", "thành viên có trách nhiệm",
                       "thành viên có những nghĩa vụ", "thành viên … phải làm", "bổn phận",
                       "thành viên gây thiệt hại", "thành viên làm hư hỏng",
                       "nghĩa vụ của xã viên", "trách nhiệm của xã viên",
                       "xã viên có trách nhiệm", "xã viên … phải làm", "xã viên gây thiệt hại"),
        },
        required=True,
    ),
    Group(
        "dissolution",  # the members decide to dissolve, against being made to
        {
            "forced": ("cưỡng chế giải thể", "buộc giải thể", "giải thể bắt buộc",
                       "bắt buộc giải thể", "bị giải thể", "tòa án … giải thể",
                       "thu hồi giấy chứng nhận … giải thể"),
            "voluntary": ("tự nguyện giải thể", "giải thể tự nguyện", "muốn giải thể",
                          "xin giải thể", "tự giải thể", "nghị quyết giải thể"),
        },
    ),
    Group(
        "channel",  # registering from afar (online, by post), not where the office is
        {
            "remote": ("qua mạng", "trực tuyến", "nộp điện tử", "hồ sơ điện tử", "từ xa",
                       "chuyển phát", "qua bưu điện", "dịch vụ công", "cổng thông tin"),
        },
        required=True,
    ),
    Group(
        "where",  # where to go or submit: an entry that says where
        {
            "place": ("ở đâu", "cơ quan nào", "nơi nào", "chỗ nào", "phòng ban nào", "phòng nào",
                      "lên đâu", "tận đâu", "nộp cho ai", "gửi cho ai", "nộp … đâu"),
        },
        required=True,
    ),
    Group(
        "compare",  # what changed against the old law, not the law itself
        {
            "changes": ("có gì mới", "điểm mới", "so với luật", "so với trước", "thay đổi gì",
                        "những thay đổi", "khác luật cũ", "so với năm 2012", "khác … 2012",
                        "so với … 2012", "luật cũ"),
        },
        required=True,
    ),
    Group(
        "count",  # how many communes, against how many cooperatives
        {
            "communes": ("bao nhiêu xã -viên", "mấy xã -viên", "số xã -viên", "bao nhiêu phường",
                         "mấy phường", "bao nhiêu đơn vị hành chính"),
            "cooperatives": ("bao nhiêu hợp tác xã", "mấy hợp tác xã", "số lượng hợp tác xã",
                             "tổng số hợp tác xã", "số hợp tác xã"),
            "income": ("thu nhập", "kiếm được", "tiền lương", "lương … tháng", "lương … năm",
                       "được bao nhiêu tiền"),
        },
        required=True,
    ),
    Group(
        "fee",  # what it costs
        {
            "fee": ("lệ phí", "mất bao nhiêu tiền", "đóng tiền", "thu tiền", "mất tiền", "mất phí",
                    "khoản tiền nào", "phí đăng ký", "miễn phí", "tiền phí", "tốn … tiền"),
        },
        required=True,
    ),
    Group(
        "office",  # removing someone from an office, not the office itself
        {
            "dismiss": ("miễn nhiệm", "bãi nhiệm", "cách chức", "thay giám đốc", "thôi chức",
                        "chấm dứt hợp đồng … giám đốc", "cho thôi", "bãi miễn"),
        },
        required=True,
    ),
    Group(
        "eligible",  # who may hold an office
        {
            "criteria": ("tiêu chuẩn", "điều kiện làm", "điều kiện để làm", "đáp ứng gì",
                         "được kiêm", "kiêm nhiệm", "kiêm luôn",
                         "được bầu vào", "được bầu làm"),
        },
        required=True,
    ),
    Group(
        "reissue",  # a lost or damaged certificate
        {
            "reissue": ("cấp lại", "thất lạc", "hư hỏng", "bị hỏng",
                        "bị rách", "làm lại giấy"),
        },
        required=True,
    ),
    Group(
        "quorum",  # how many must attend for a meeting to be valid
        {
            "quorum": ("có mặt", "số người dự", "người dự thì", "mới hợp lệ", "đại hội hợp lệ",
                       "không đủ … người", "không đủ … phần trăm", "đủ … phần trăm", "tỷ lệ dự",
                       "đủ số người", "người tham dự"),
        },
        required=True,
    ),
    Group(
        "contact",  # how to reach an office
        {
            "contact": ("số điện thoại", "số hotline", "đường dây nóng", "liên lạc", "số máy",
                        "gọi điện", "địa chỉ email",
                        "địa chỉ liên hệ", "trụ sở … ở đâu", "văn phòng … ở đâu"),
        },
        required=True,
    ),
    Group(
        "services",  # membership ends for not using the cooperative's services
        {
            "unused": ("không dùng dịch vụ", "không sử dụng dịch vụ", "không sử dụng sản phẩm",
                       "không dùng dv", "không góp sức", "không góp công",
                       "không tham gia hoạt động", "không giao dịch", "không mua vật tư",
                       "không bán … qua hợp tác xã", "không làm việc cho hợp tác xã"),
        },
        required=True,
    ),
    Group(
        "debt",  # how far members answer for the cooperative's debts
        {
            "debts": ("nợ của hợp tác xã", "chịu nợ", "trả nợ thay", "trả nợ cho hợp tác xã",
                      "gánh nợ", "trách nhiệm hữu hạn", "hợp tác xã … vỡ nợ", "hợp tác xã nợ",
                      "nợ … của hợp tác xã", "nợ nần", "trả nợ", "thứ tự thanh toán",
                      "ưu tiên thanh toán", "nợ lương", "trả hết nợ", "vỡ nợ"),
        },
        required=True,
    ),
    Group(
        "aid",  # what the State pays for or supports: not the rule itself
        {
            "support": ("được hỗ trợ", "hỗ trợ chi phí", "hỗ trợ tiền", "hỗ trợ kinh phí",
                        "hỗ trợ phí", "hỗ trợ một phần", "ai trả", "nhà nước trả",
                        "nhà nước hỗ trợ", "nhà nước có hỗ trợ", "chính sách hỗ trợ",
                        "nhà nước có đỡ", "được nhà nước hỗ trợ", "chính sách nào đỡ",
                        "hỗ trợ … bao nhiêu tiền", "mức hỗ trợ"),
        },
        required=True,
    ),
    Group(
        "notices",
        {
            "on": ("bật thông báo", "bật lại", "nhận lại", "mở lại thông báo", "batthongbao",
                   "muốn nhận tin", "đăng ký nhận", "gửi thông báo cho tôi", "không thấy thông báo", "theo dõi tin", "đăng ký theo dõi",
                   "gửi thông báo … cho tôi"),
            "off": ("tắt thông báo", "tắt tin", "ngừng nhận", "dừng nhận", "chặn tin", "tatthongbao",
                    "không muốn nhận", "hủy nhận", "bớt thông báo", "tắt đi", "cách tắt", "tắt sao",
                    "hủy đăng ký nhận", "không nhận thông báo", "không nhận tin", "hủy theo dõi",
                    "bỏ theo dõi"),
        },
        required=True,
        nested=True,
    ),
    Group(
        "ask",  # why or must, against how: the rule behind a duty is not how to do it
        {
            "must": ("tại sao", "vì sao", "sao … lại", "bắt buộc phải", "có bắt buộc",
                     "bắt buộc … không", "bị phạt", "xử phạt",
                     "trái luật", "vi phạm", "theo luật", "luật có"),
            "how": ("làm thế nào", "làm sao", "cách nào", "cách làm", "cách gửi", "cách nộp",
                    "lệnh gì", "bằng lệnh", "gõ lệnh",
                    "ra sao", "thế nào"),
        },
    ),
    Group(
        "person",  # reaching staff, against asking who the assistant is
        {
            "reach": ("hỏi người thật", "muốn nói chuyện với người thật", "nói chuyện với cán bộ",
                      "gặp cán bộ", "chuyển cho người",
                      "cán bộ thật", "người thật trả lời", "nhắn cán bộ", "hỏi cán bộ",
                      "gặp người thật", "nối máy", "liên hệ cán bộ", "cán bộ nào đang trực"),
            "who": ("bạn là ai", "em là ai", "là người thật", "người hay máy", "người hay là máy",
                    "là máy", "là robot", "là bot", "chatbot hay", "ai đang trả lời",
                    "ai làm ra", "bạn tên", "tên em", "trợ lý ảo", "người hay với máy",
                    "hay với máy"),
        },
    ),
    Group(
        "text",  # where to read a document, against what it says
        {
            "find": ("tải về", "tải … ở đâu", "xin file", "toàn văn", "bản pdf", "công báo",
                     "đọc ở đâu", "xem ở đâu",
                     "tìm ở đâu", "đăng ở đâu", "tra cứu", "xin bản", "đọc … ở đâu",
                     "xem … ở đâu", "tìm … trên mạng", "bản gốc", "tải bản", "tìm văn bản",
                     "xin văn bản", "file nghị quyết", "tải nghị quyết", "số hiệu"),
            "what": ("nói về gì", "nói gì", "nội dung", "hỗ trợ gì", "quy định gì", "gồm những gì",
                     "là gì", "những khoản nào", "mức hỗ trợ"),
        },
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
    first: str
    pattern: re.Pattern[str]


# "…" in a phrase: up to this many words between its parts ("góp … tối đa"); a last word
# with "-": the phrase must not go on with it ("chuyển đổi -số": not "chuyển đổi số").
GAP_WORDS = 8


def _compile(groups: Sequence[Group]) -> list[_Compiled]:
    out = []
    for gi, group in enumerate(groups):
        for ti, phrases in enumerate(group.terms.values()):
            for phrase in phrases:
                phrase, _, unless = phrase.partition(" -")
                parts = [" ".join(t.folded for t in tokenize(part)) for part in phrase.split("…")]
                gap = rf"(?: \S+){{0,{GAP_WORDS}}} "
                tail = f"(?! {re.escape(fold(unless))}(?: |$))" if unless else ""
                pattern = re.compile(rf"(?:^| ){gap.join(map(re.escape, parts))}{tail}(?: |$)")
                out.append(_Compiled(gi, ti, parts[0].split()[0], pattern))
    return out


_PHRASES = _compile(GROUPS)
_FIRST = frozenset(c.first for c in _PHRASES)


Key = tuple[int, int]  # (group, term)


def terms_named(folded: Sequence[str]) -> set[Key]:
    """(group, term) pairs that a folded syllable sequence names."""
    if not folded:
        return set()
    text = " ".join(folded)
    present = set(folded)
    spans: dict[Key, list[tuple[int, int]]] = {}
    for c in _PHRASES:
        if c.first in present:
            for m in c.pattern.finditer(text):
                spans.setdefault((c.group, c.term), []).append(m.span())
    # A phrase inside a longer phrase of another term of its group does not count: "không
    # muốn nhận tin" names stopping notices, not the "muốn nhận tin" inside it.
    found: set[Key] = set()
    for key, mine in spans.items():
        if not GROUPS[key[0]].nested:
            found.add(key)
            continue
        others = [sp for k, v in spans.items() if k[0] == key[0] and k != key for sp in v]
        if any(
            not any(a <= s and e <= b and (b - a) > (e - s) for a, b in others) for s, e in mine
        ):
            found.add(key)
    return found


def entry_terms(wordings: Sequence[Sequence[str]], title: Sequence[str] = ()) -> dict[Key, float]:
    """(group, term) → the share of an entry's wordings (folded syllables) that name it;
    1.0 when its title names it."""
    counts: dict[Key, int] = {}
    for folded in wordings:
        for key in terms_named(folded):
            counts[key] = counts.get(key, 0) + 1
    shares = {key: n / max(len(wordings), 1) for key, n in counts.items()}
    for key in terms_named(title):
        shares[key] = 1.0
    return shares


def penalty(asked: set[Key], entry: dict[Key, float]) -> float:
    """How much an entry (its :func:`entry_terms`) loses for a question naming ``asked``."""
    return float(Table([entry]).penalties(asked)[0])


class Table:
    """:func:`penalty` for every entry of an index at once (numpy arrays over the entries)."""

    def __init__(self, entries: Sequence[dict[Key, float]]) -> None:
        n = len(entries)
        keys = {k for e in entries for k in e}
        self._share = {k: np.asarray([e.get(k, 0.0) for e in entries]) for k in keys}
        self._zero = np.zeros(n)

    def penalties(self, asked: set[Key]) -> np.ndarray:
        total = self._zero.copy()
        for gi in {g for g, _t in asked}:
            group = GROUPS[gi]
            want = {t for g, t in asked if g == gi}
            has_any = self._zero > 0  # names a term of the group
            about_want = self._zero > 0  # is about an asked term
            # In a family with central acts, naming the asked act now and then is enough
            # (a multi-topic entry); elsewhere the entry must be about it.
            enough = CENTRAL_SHARE if group.central else ABOUT_SHARE
            about_other = self._zero > 0  # is about a term not asked
            for t in range(len(group.terms)):
                share = self._share.get((gi, t))
                if share is None:
                    continue
                has_any = has_any | (share > 0)
                if t in want:
                    about_want = about_want | (share >= enough)
                else:
                    about_other = about_other | (share >= ABOUT_SHARE)
            contrast = about_other & ~about_want
            total += np.where(contrast, CONTRAST_PENALTY, 0.0)
            if group.required:
                total += np.where(~has_any & ~contrast, MISSING_PENALTY, 0.0)
        # The acts where a near answer hurts most: only an entry about one of the asked ones
        # may answer ("ra khỏi HTX có được trả lại vốn không" names two; either entry fits).
        central = [(g, t) for g, t in asked if list(GROUPS[g].terms)[t] in GROUPS[g].central]
        if central:
            about = self._zero > 0
            for key in central:
                about = about | (self._share.get(key, self._zero) >= CENTRAL_SHARE)
            total += np.where(about, 0.0, CONTRAST_PENALTY)
        return total
