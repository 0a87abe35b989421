"""The law at hand: the shipped text, references, word search, and articles opened on the
console, Telegram (faked at the HTTP layer) and Zalo (httpx.MockTransport), on SQLite and
PostgreSQL."""

from __future__ import annotations

import gzip
import html
import importlib.util
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.app import App
from bot.channels.telegram import TelegramChannel, TelegramLimiter, utf16_len
from bot.channels.zalo import ZaloChannel
from knowledge.base import DATA_DIR, KnowledgeStore, load_dir
from knowledge.check import check_citations
from knowledge.law import (
    DATA,
    LAW,
    Reference,
    citations,
    law_text,
    parse_number_or_reference,
    parse_reference,
)
from tests.conftest import Chat
from tests.telegram_fake import TOKEN as TG_TOKEN
from tests.telegram_fake import FakeTelegram, callback_update, message_update
from tests.test_zalo import BASE as ZALO_BASE
from tests.test_zalo import TOKEN as ZALO_TOKEN
from tests.test_zalo import FakeZalo, Sleeps, text_update

ROOT = Path(__file__).resolve().parent.parent
ND92 = "92/2024/NĐ-CP"
LAN = 5001
ZLAN = "c0ffee0011223344"

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


# --- the shipped text ------------------------------------------------------------------------


def test_shipped_text_has_every_article_and_names_its_source() -> None:
    with gzip.open(DATA, "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    assert "phap-dien-hop-tac-xa.md" in raw["source"] and "pháp điển" in raw["source"]
    text = law_text()
    # The source has 714 article headings: each of the 372 articles is named in the text and
    # again in the closing list (30 text headings are glued to the paragraph before them).
    assert len(text.articles) == 372 and len(raw["articles"]) == 372
    assert sorted(a.num for a in text.in_document(LAW)) == list(range(1, 116))
    assert len(text.documents) == 13 and len(text.in_document(ND92)) == 65
    a90 = text.get(LAW, 90)
    assert a90 is not None and a90.title == "Trả lại, thừa kế phần vốn góp"
    assert len(a90.clauses) == 6 and a90.chapter == "VI" and a90.in_force == "2024-07-01"
    a30 = text.get(LAW, 30)
    assert a30 is not None and a30.title == "Điều kiện trở thành thành viên hợp tác xã"
    assert len(a30.clauses) == 7 and a30.section == "Mục 1. THÀNH VIÊN HỢP TÁC XÃ"
    assert [p for p, _ in a30.clauses[0].points] == ["a", "b", "c", "d"]
    a14 = text.get(LAW, 14)  # its heading is glued to the paragraph before it in the source
    assert a14 is not None and [p for p, _ in a14.clauses[0].points] == list("abcdđeg")
    assert len(text.get(LAW, 4).clauses) == 26  # type: ignore[union-attr]
    d12 = text.get(ND92, 12)
    assert d12 is not None and d12.title.startswith("Ủy quyền thực hiện thủ tục đăng ký")
    assert len(d12.clauses) == 4 and d12.in_force == "2024-07-18"


def test_build_script_is_deterministic_and_matches_the_shipped_file(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_law", ROOT / "scripts" / "build_law.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    if not build.SOURCE.exists():
        pytest.skip("the Pháp điển source (../shared) is not next to the project")
    data = build.parse(build.SOURCE.read_text(encoding="utf-8"))
    build.write(data, tmp_path / "a.json.gz")
    build.write(build.parse(build.SOURCE.read_text(encoding="utf-8")), tmp_path / "b.json.gz")
    first = (tmp_path / "a.json.gz").read_bytes()
    assert first == (tmp_path / "b.json.gz").read_bytes() == DATA.read_bytes()


# --- references and words --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("90", Reference(LAW, 90)),
        ("90.2", Reference(LAW, 90, 2)),
        ("12 nđ 92", Reference(ND92, 12, doc_typed="Nghị định 92")),
        ("điều 90 luật htx", Reference(LAW, 90)),
        ("dieu 33 luat hop tac xa", Reference(LAW, 33)),
        ("Điều 33 Luật HTX nói gì?", Reference(LAW, 33)),
        ("khoản 2 điều 90", Reference(LAW, 90, 2)),
        ("k2 d90", Reference(LAW, 90, 2)),
        ("điểm đ khoản 1 điều 14", Reference(LAW, 14, 1, "đ")),
        ("diem a khoan 2 dieu 30 luat htx", Reference(LAW, 30, 2, "a")),
        ("điều 12 nghị định 92", Reference(ND92, 12, doc_typed="Nghị định 92")),
        ("điều 12 nđ 92/2024", Reference(ND92, 12, doc_typed="Nghị định 92/2024")),
        ("thông tư 09/2024 điều 6", Reference("09/2024/TT-BKHĐT", 6, doc_typed="Thông tư 09/2024")),
        ("nghị định 99 điều 3", Reference(None, 3, doc_typed="Nghị định 99")),
    ],
)
def test_references_are_read(typed: str, expected: Reference) -> None:
    assert parse_number_or_reference(typed) == expected


@pytest.mark.parametrize(
    "text",
    [
        "điều kiện thành lập htx là gì",
        "theo điều 18 thì htx cần đạt tiêu chí gì để được hỗ trợ",
        "Dạ em chào anh, điều 30 luật hợp tác xã quy định những đối tượng nào được làm "
        "thành viên chính thức vậy anh?",
        "thừa kế vốn góp",
    ],
)
def test_questions_that_mention_an_article_are_not_taken_as_references(text: str) -> None:
    assert parse_reference(text, whole=True) is None


def test_no_question_of_the_project_sets_is_taken_as_a_reference() -> None:
    rows = (ROOT / "tests" / "data" / "qa_set.jsonl").read_text(encoding="utf-8").splitlines()
    taken = [q for q in (json.loads(r)["q"] for r in rows if r) if parse_reference(q, whole=True)]
    assert taken == []


@pytest.mark.parametrize("words", ["thừa kế vốn góp", "thua ke von gop"])
def test_words_find_the_article_with_or_without_diacritics(words: str) -> None:
    found = law_text().find(words, 3)
    assert found[0].doc == LAW and found[0].num == 90


def test_every_article_cited_by_the_knowledge_base_exists() -> None:
    loaded = load_dir(DATA_DIR)
    assert check_citations(loaded.entries) == []
    cited = [c for e in loaded.entries for s in e.sources for c in citations(s) or []]
    assert len(cited) >= 40 and all(law_text().get(doc, n) for doc, n in cited)
    assert citations("Luật Hợp tác xã số 17/2023/QH15, Điều 17 đến Điều 29") == [
        (LAW, n) for n in range(17, 30)
    ]


def test_kb_check_fails_on_an_article_that_does_not_exist() -> None:
    entry = next(iter(KnowledgeStore(DATA_DIR).entries.values()))
    from dataclasses import replace

    wrong = replace(entry, sources=("Nghị định số 92/2024/NĐ-CP, Điều 250",))
    (problem,) = check_citations([wrong])
    assert "Điều 250" in problem.message and problem.entry == entry.id


# --- the console ----------------------------------------------------------------------------


def _header(num: int, title: str, doc: str = "Luật Hợp tác xã số 17/2023/QH15") -> str:
    return f"📖 {doc}, Điều {num}. {title}"


@pytest.mark.parametrize(
    ("typed", "num", "title", "doc"),
    [
        ("/luat 90", 90, "Trả lại, thừa kế phần vốn góp", None),
        ("/law 90", 90, "Trả lại, thừa kế phần vốn góp", None),
        ("điều 90 luật htx", 90, "Trả lại, thừa kế phần vốn góp", None),
        ("dieu 33 luat hop tac xa", 33, "Chấm dứt tư cách thành viên hợp tác xã", None),
        ("điều 12 nghị định 92", 12, "Ủy quyền thực hiện thủ tục đăng ký", ND92),
        ("điều 12 nđ 92/2024", 12, "Ủy quyền thực hiện thủ tục đăng ký", ND92),
    ],
)
async def test_each_reference_opens_the_article_on_the_console(
    small_app: App, typed: str, num: int, title: str, doc: str | None
) -> None:
    out = await Chat(small_app).send(typed)
    (reply,) = out.replies
    name = f"Nghị định số {doc}" if doc else "Luật Hợp tác xã số 17/2023/QH15"
    assert reply.text.startswith(f"📖 {name}, Điều {num}. {title}")
    assert "Trích nguyên văn (có hiệu lực từ" in reply.text
    quoted = [line for line in reply.text.splitlines() if line.startswith("> ")]
    assert quoted[0].startswith("> 1. ")  # the text is quoted, never the assistant's words
    actions = [b.action for b in reply.flat_buttons()]
    assert any(a.startswith("lawch:") for a in actions)


@pytest.mark.parametrize("typed", ["khoản 2 điều 90", "k2 d90", "/luat 90.2"])
async def test_clause_references_open_at_that_clause(small_app: App, typed: str) -> None:
    (reply,) = (await Chat(small_app).send(typed)).replies
    assert reply.text.startswith(_header(90, "Trả lại, thừa kế phần vốn góp"))
    assert "Trích nguyên văn khoản 2 (" in reply.text
    quoted = [line for line in reply.text.splitlines() if line.startswith("> ")]
    assert len(quoted) == 1 and quoted[0].startswith("> 2. Thành viên được trả lại phần vốn góp")
    assert reply.flat_buttons()[0].label == "Cả Điều 90"


async def test_point_reference_opens_the_point_under_its_clause(small_app: App) -> None:
    (reply,) = (await Chat(small_app).send("điểm đ khoản 1 điều 14")).replies
    quoted = [line for line in reply.text.splitlines() if line.startswith("> ")]
    assert quoted[0].startswith("> 1. Thông tin công bố cho thành viên")
    assert quoted[1].startswith("> đ) ") and len(quoted) == 2


async def test_unknown_number_gets_one_line_and_the_closest_articles(small_app: App) -> None:
    (reply,) = (await Chat(small_app).send("/luat 200")).replies
    assert reply.text == (
        "Luật Hợp tác xã số 17/2023/QH15 không có Điều 200 trong Pháp điển về hợp tác xã. "
        "Các điều gần số này:"
    )
    assert [b.action for b in reply.flat_buttons()] == [
        "law:LQ.115:0::",
        "law:LQ.114:0::",
        "law:LQ.113:0::",
    ]
    (other,) = (await Chat(small_app).send("/luat điều 3 nghị định 99")).replies
    assert other.text.startswith("Tôi chưa có văn bản “Nghị định 99”")


async def test_words_list_the_best_articles_and_buttons_navigate(small_app: App) -> None:
    chat = Chat(small_app)
    (found,) = (await chat.send("/luat thừa kế vốn góp")).replies
    first = found.flat_buttons()[0]
    assert (
        first.label.startswith("📖 Điều 90 Luật HTX: Trả lại") and first.action == "law:LQ.90:0::"
    )
    (nxt,) = (await chat.send(action="law:LQ.91:0::")).replies
    assert nxt.text.startswith("📖 Luật Hợp tác xã số 17/2023/QH15, Điều 91.")
    labels = [b.label for b in nxt.flat_buttons()]
    assert "◂ Điều 90" in labels and "Điều 92 ▸" in labels
    (chapter,) = (await chat.send(action="lawch:LQ:VI:0")).replies
    assert chapter.text.startswith("Luật Hợp tác xã số 17/2023/QH15, Chương VI.")
    assert "law:LQ.90:0::" in [b.action for b in chapter.flat_buttons()]
    (typed,) = (await chat.send("1")).replies  # a numbered button on the console
    assert typed.text.startswith("📖 Luật Hợp tác xã số 17/2023/QH15, Điều ")
    for b in (*found.flat_buttons(), *nxt.flat_buttons(), *chapter.flat_buttons()):
        assert b.action.isascii() and len(b.action.encode()) <= 64


async def test_answers_get_a_button_to_each_article_they_cite(small_app: App) -> None:
    chat = Chat(small_app)
    (answer,) = (await chat.send("Hồ sơ đăng ký thành lập hợp tác xã gồm những gì?")).replies
    button = next(b for b in answer.flat_buttons() if b.label.startswith("📖"))
    assert (button.label, button.action) == ("📖 Điều 42", "law:LQ.42:0::")
    (article,) = (await chat.send(action=button.action)).replies
    assert article.text.startswith(
        "📖 Luật Hợp tác xã số 17/2023/QH15, Điều 42. Đăng ký thành lập hợp tác xã"
    )


async def test_a_refusal_offers_articles_to_read_but_stays_a_refusal(small_app: App) -> None:
    (reply,) = (await Chat(small_app).send("thừa kế phần vốn góp của thành viên đã chết")).replies
    assert "chưa có câu trả lời chắc chắn" in reply.text
    assert "Điều luật có thể liên quan, để anh/chị tự đọc (không phải câu trả lời):" in reply.text
    buttons = reply.flat_buttons()
    law = [b for b in buttons if b.action.startswith("law:")]
    assert 1 <= len(law) <= 3 and law[0].action == "law:LQ.90:0::"
    assert buttons[-1].action == "contact:"
    (nothing,) = (await Chat(small_app, "u2").send("hôm nay trời đẹp quá")).replies
    assert not any(b.action.startswith("law:") for b in nothing.flat_buttons())


async def test_english_member_gets_english_around_the_vietnamese_text(small_app: App) -> None:
    chat = Chat(small_app)
    await chat.send("/ngonngu en")
    (reply,) = (await chat.send("/law 90")).replies
    assert reply.text.startswith("📖 Luật Hợp tác xã số 17/2023/QH15, Article 90. Trả lại")
    assert "Original Vietnamese text (in force since" in reply.text


# --- Telegram and Zalo -----------------------------------------------------------------------


def _parts_start_at_clauses(parts: list[str]) -> None:
    """Every part after the first (which may open with the article's introduction) starts
    with a clause."""
    for part in parts[1:]:
        quoted = [line for line in part.splitlines() if line.startswith("&gt; ")]
        quoted = quoted or [line for line in part.splitlines() if line.startswith("> ")]
        first = quoted[0].removeprefix("&gt; ").removeprefix("> ")
        assert first.split(".", 1)[0].isdigit(), first[:40]


@pytest.fixture
async def tg(small_app: App) -> AsyncIterator[tuple[TelegramChannel, FakeTelegram]]:
    api = FakeTelegram()

    async def no_sleep(_: float) -> None:
        return None

    limiter = TelegramLimiter(sleep=no_sleep, clock=lambda: 0.0)
    channel = TelegramChannel(small_app.conversation, TG_TOKEN, request=api, limiter=limiter)
    await channel.initialize(retries=0)
    await channel.application.start()
    yield channel, api
    await channel.stop()


async def _tg_send(channel: TelegramChannel, data: dict[str, Any]) -> None:
    await channel.application.update_queue.put(Update.de_json(data, channel.bot))
    await channel.application.update_queue.join()


@pytest.mark.parametrize(
    ("typed", "start"),
    [
        ("/luat 90", _header(90, "Trả lại, thừa kế phần vốn góp")),
        ("điều 90 luật htx", _header(90, "Trả lại, thừa kế phần vốn góp")),
        ("k2 d90", _header(90, "Trả lại, thừa kế phần vốn góp")),
        ("điều 12 nghị định 92", f"📖 Nghị định số {ND92}, Điều 12. Ủy quyền"),
    ],
)
async def test_references_open_the_article_on_telegram(
    tg: tuple[TelegramChannel, FakeTelegram], typed: str, start: str
) -> None:
    channel, api = tg
    await _tg_send(channel, message_update(LAN, typed))
    (text,) = api.texts(LAN)
    assert text.startswith(start) and "&gt; " in text
    keyboard = api.sent()[0]["reply_markup"]["inline_keyboard"]
    data = [b["callback_data"] for row in keyboard for b in row]
    assert any(d.startswith("lawch:") for d in data)
    await _tg_send(channel, callback_update(LAN, data[-2]))  # the next or previous article
    assert api.texts(LAN)[-1].startswith("📖 ")


async def test_a_long_article_splits_at_clauses_within_telegram_limit(
    tg: tuple[TelegramChannel, FakeTelegram],
) -> None:
    channel, api = tg
    await _tg_send(channel, message_update(LAN, "/luat 4"))  # Giải thích từ ngữ: 26 clauses
    parts = [api.texts(LAN)[-1]]
    while True:
        keyboard = api.sent()[-1]["reply_markup"]["inline_keyboard"]
        nxt = [b for row in keyboard for b in row if b["text"].startswith("Phần tiếp")]
        if not nxt:
            break
        await _tg_send(channel, callback_update(LAN, nxt[0]["callback_data"]))
        parts.append(api.texts(LAN)[-1])
    assert len(parts) >= 2 and all(utf16_len(html.unescape(p)) <= 4096 for p in parts)
    assert len(api.sent()) == len(parts)  # each part is one message: the channel cut nothing
    _parts_start_at_clauses(parts)
    assert "&gt; 26.Vốn góp tối đa" in parts[-1]


@pytest.fixture
async def zalo(small_app: App) -> AsyncIterator[tuple[ZaloChannel, FakeZalo]]:
    api = FakeZalo()
    channel = ZaloChannel(
        small_app.conversation, ZALO_TOKEN, ZALO_BASE, transport=api.transport, sleep=Sleeps()
    )
    await channel.initialize(retries=0)
    yield channel, api
    await channel.stop()


async def _zalo_send(channel: ZaloChannel, text: str) -> None:
    channel.dispatch(text_update(ZLAN, text))
    await channel.join()


@pytest.mark.parametrize(
    ("typed", "start"),
    [
        ("/luat 90", _header(90, "Trả lại, thừa kế phần vốn góp")),
        ("dieu 33 luat hop tac xa", _header(33, "Chấm dứt tư cách thành viên hợp tác xã")),
        ("khoản 2 điều 90", _header(90, "Trả lại, thừa kế phần vốn góp")),
        ("điều 12 nđ 92/2024", f"📖 Nghị định số {ND92}, Điều 12. Ủy quyền"),
    ],
)
async def test_references_open_the_article_on_zalo(
    zalo: tuple[ZaloChannel, FakeZalo], typed: str, start: str
) -> None:
    channel, api = zalo
    await _zalo_send(channel, typed)
    (text,) = api.texts(ZLAN)
    assert text.startswith(start) and "\n> " in text and "Gõ 1, 2" in text


async def test_a_long_article_splits_at_clauses_within_zalo_limit(
    zalo: tuple[ZaloChannel, FakeZalo],
) -> None:
    channel, api = zalo
    await _zalo_send(channel, "/luat 4")
    parts = [api.texts(ZLAN)[-1]]
    while "Phần tiếp" in parts[-1]:
        number = next(
            line.split(".", 1)[0]
            for line in parts[-1].splitlines()
            if line[:1].isdigit() and "Phần tiếp" in line
        )
        await _zalo_send(channel, number)
        parts.append(api.texts(ZLAN)[-1])
    assert len(parts) >= 3 and all(len(p) <= 2000 for p in parts)
    assert len(api.texts(ZLAN)) == len(parts)  # each part is one message, its choices included
    _parts_start_at_clauses(parts)
    assert "\n> 26.Vốn góp tối đa" in parts[-1]


async def test_a_clause_longer_than_a_zalo_message_is_cut_inside_it(
    zalo: tuple[ZaloChannel, FakeZalo],
) -> None:
    channel, api = zalo
    # Điều 15 Nghị định 45/2021: 7,900 characters, one clause of about 2,800.
    article = law_text().get("45/2021/NĐ-CP", 15)
    assert article is not None and max(len("\n".join(c.paras)) for c in article.clauses) > 2000
    await _zalo_send(channel, "điều 15 nghị định 45/2021")
    parts = [api.texts(ZLAN)[-1]]
    while "Phần tiếp" in parts[-1]:
        number = next(
            line.split(".", 1)[0]
            for line in parts[-1].splitlines()
            if line[:1].isdigit() and "Phần tiếp" in line
        )
        await _zalo_send(channel, number)
        parts.append(api.texts(ZLAN)[-1])
    assert len(parts) >= 4 and all(len(p) <= 2000 for p in parts)
    quoted = [line[2:] for p in parts for line in p.splitlines() if line.startswith("> ")]
    assert " ".join(quoted) == " ".join(article.paragraphs())  # nothing lost, nothing added
    assert all("Ghi chú của Pháp điển: có nội dung bị bãi bỏ" in p for p in parts)
