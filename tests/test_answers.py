"""Answer selection: never another question's answer, events from the database, English,
and a command line that shows what the chat shows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App
from bot.cli import main
from db.models import Event
from knowledge.base import KnowledgeStore
from knowledge.check import check_all
from knowledge.contrasts import GROUPS, penalty, terms_named
from knowledge.normalize import tokenize
from knowledge.places import provinces_named
from tests.conftest import Chat


def _answer(kb: KnowledgeStore, question: str, locale: str = "vi") -> str | None:
    result = kb.search(question, locale)
    return result.best.entry.id if result.matched and result.best else None


# (question, entries that must never answer it, the entry it must get; None: any other
# entry or a refusal). The opposite or sibling act shares most words with the question.
PAIRS = [
    ("thủ tục giải thể htx", {"htx.founding_steps", "htx.dossier"}, None),
    ("HTX thua lỗ muốn giải thể thì làm các bước gì", {"htx.founding_steps"}, None),
    ("các bước thành lập hợp tác xã", set(), "htx.founding_steps"),
    ("xin ra khỏi hợp tác xã thì làm thế nào", {"htx.founders", "htx.founding_steps"}, None),
    ("muốn gia nhập hợp tác xã cần điều kiện gì", set(), "htx.member_conditions"),
    ("tổ hợp tác cần ít nhất mấy thành viên", {"htx.min_members"}, "tht.definition"),
    ("thanh lap htx can it nhat may nguoi", {"tht.definition"}, "htx.min_members"),
    ("lệ phí đăng ký tổ hợp tác", {"htx.reg_fee"}, "tht.reg_fee"),
    ("le phi dang ky thanh lap hop tac xa", {"tht.reg_fee"}, "htx.reg_fee"),
    ("htx cho thành viên vay vốn được không", {"support.fund", "support.credit"}, None),
    ("vay vốn quỹ hỗ trợ phát triển hợp tác xã", set(), "support.fund"),
    ("thuê giám đốc", {"support.tax"}, None),
    ("thuê giám đốc điều hành htx được không", {"support.tax"}, None),
    ("htx được ưu đãi thuế gì", set(), "support.tax"),
    ("nghị quyết 12/2018 của HĐND tỉnh Nghệ An", {"nq12.overview", "nq12.content"}, None),
    ("lien minh htx tinh thai nguyen o dau", {"lienminh.contact"}, None),
    ("nq12 lao cai noi ve gi", set(), "nq12.overview"),
    ("hội chợ lào cai khi nào", {"province.communes", "province.merger", "stats.count"}, None),
    # who lends to whom
    ("hợp tác xã muốn vay tiền của xã viên để mua máy sấy", {"finance.internal_loan"}, None),
    (
        "xã viên muốn vay tiền của hợp tác xã để mua phân bón",
        {"capital.mobilise"},
        "finance.internal_loan",
    ),
    # a household business is not a cooperative
    ("hộ kinh doanh bán tạp hóa muốn tạm ngừng mấy tháng", {"reorg.suspend"}, None),
    # the duty to be audited, against the State paying for it
    (
        "hợp tác xã quy mô nhỏ có buộc phải thuê kiểm toán độc lập không",
        {"support.audit"},
        "finance.audit",
    ),
    ("nhà nước có trả tiền kiểm toán cho htx siêu nhỏ không", {"finance.audit"}, "support.audit"),
    # the members' duties, against the cooperative's
    (
        "xã viên làm hỏng máy của hợp tác xã có phải đền không",
        {"htx.rights_duties"},
        "member.duties",
    ),
    # made to dissolve, expelled
    ("htx bị tòa án buộc giải thể thì làm gì", {"dissolution.voluntary"}, "dissolution.compulsory"),
    ("thành viên bị hợp tác xã khai trừ thì sao", {"member.leave"}, "member.expulsion"),
]


@pytest.mark.parametrize(("question", "never", "want"), PAIRS)
def test_never_the_answer_to_another_question(
    real_kb: KnowledgeStore, question: str, never: set[str], want: str | None
) -> None:
    got = _answer(real_kb, question)
    assert got not in never, f"{question!r} got {got}"
    if want is not None:
        assert got == want, f"{question!r} got {got}, want {want}"


def test_contrast_table_reads_the_asked_act() -> None:
    def named(text: str) -> set[tuple[int, int]]:
        return terms_named([t.folded for t in tokenize(text)])

    names = {g.name: (gi, list(g.terms)) for gi, g in enumerate(GROUPS)}
    gi, terms = names["lifecycle"]
    dissolve, found = (gi, terms.index("dissolve")), (gi, terms.index("found"))
    assert named("giai the htx") == {dissolve}
    assert found in named("thủ tục thành lập HTX")
    # An entry about founding, asked about dissolving, loses; one that names both does not.
    assert penalty({dissolve}, {found: 0.8}) > 0
    assert penalty({dissolve}, {found: 0.2, dissolve: 1.0}) == 0
    # Dissolving is named only in passing (one wording in twenty): not an entry about it.
    assert penalty({dissolve}, {found: 0.9, dissolve: 0.05}) > 0
    assert penalty({found}, {}) == 0  # founding words are not required
    # Words with other meanings do not name an act.
    for text in ("chuyển đổi số cho htx", "chuyển đổi mục đích sử dụng đất",
                 "vừa mất giấy chứng nhận htx", "hội nghị thành lập htx"):  # fmt: skip
        assert all(GROUPS[g].name != "lifecycle" or t == terms.index("found")
                   for g, t in named(text)), text  # fmt: skip
    assert not named("vừa mất giấy chứng nhận htx")
    assert named("Bố em là thành viên HTX vừa mất, vốn góp xử lý sao") == {
        (names["capital"][0], names["capital"][1].index("inherit"))
    }


def test_contrast_phrases_have_two_syllables_at_least() -> None:
    """Compared without accents, one syllable would match too much ("tải" is "tài")."""
    for group in GROUPS:
        for phrases in group.terms.values():
            for phrase in phrases:
                words = phrase.split(" -")[0].replace("…", " ")
                assert len(tokenize(words)) >= 2, (group.name, phrase)


@pytest.mark.parametrize(
    ("text", "provinces"),
    [
        ("nghị quyết của HĐND tỉnh Nghệ An", {"nghe an"}),
        ("htx ở yên bái", {"lao cai"}),  # Yên Bái is part of Lào Cai since 2025
        ("hội chợ lào cai", {"lao cai"}),
        ("bón phân lúa giai đoạn làm đồng", set()),  # typed accents: not Lâm Đồng
        ("htx o ha giang", {"ha giang"}),
    ],
)
def test_provinces_are_recognised(text: str, provinces: set[str]) -> None:
    toks = tokenize(text)
    found = provinces_named(
        [t.folded for t in toks], [t.toned if t.typed_toned else None for t in toks]
    )
    assert found == provinces


def test_a_clear_question_is_not_asked_back(real_kb: KnowledgeStore) -> None:
    result = real_kb.search("thanh lap htx can may thanh vien")
    assert result.matched and not result.ambiguous
    assert result.best and result.best.entry.id == "htx.min_members"


def test_english_questions_find_the_same_entry(real_kb: KnowledgeStore) -> None:
    assert _answer(real_kb, "How many members does a new cooperative need?", "en") == (
        "htx.min_members"
    )
    assert _answer(real_kb, "which papers to register a cooperative", "en") == "htx.dossier"
    # A member who chose English may still type Vietnamese, with or without accents: it is
    # searched in Vietnamese, with the contrasts (not the few English wordings there are).
    assert _answer(real_kb, "thanh lap htx can may nguoi", "en") == "htx.min_members"
    assert _answer(real_kb, "htx là gì", "en") == "htx.definition"
    assert _answer(real_kb, "thủ tục giải thể htx", "en") not in {
        "htx.dossier",
        "htx.founding_steps",
    }
    assert real_kb.written_in_vietnamese("ho so htx")
    assert not real_kb.written_in_vietnamese("registration papers for an HTX")
    assert _answer(real_kb, "what is the price of gold today", "en") is None


def test_kb_check_reports_entries_without_english(tmp_path: Path) -> None:
    data = Path(__file__).parent / "fixtures" / "kb"
    problems, counts, warnings = check_all(data, english="error")
    assert any("no English" in str(p) for p in problems) and "problems" in str(counts)
    problems, counts, warnings = check_all(data, english="warn")
    assert not problems and warnings and "warnings" in str(counts) and counts.warnings


# --- chat: events from the events table, English answers ------------------------------------


async def _add_event(app: App, title: str, starts: datetime, **extra: object) -> None:
    async with app.conversation.sessions() as s:
        now = app.conversation.clock()
        s.add(Event(title=title, starts_at=starts, created_by="cli", created_at=now,
                    updated_at=now, **extra))  # fmt: skip
        await s.commit()


async def test_fair_questions_are_answered_from_the_events_table(app: App) -> None:
    farmer = Chat(app, "farmer")
    # No fair known (a training course is not a fair): the static background answers.
    await _add_event(app, "Tập huấn kế toán HTX", datetime(2026, 12, 5, 1, 0, tzinfo=UTC))
    before = await farmer.say("tuần lễ OCOP năm nay")
    assert "chưa có trong trợ lý" in before
    assert "Tập huấn" not in await farmer.say("hội chợ lào cai khi nào")
    await _add_event(
        app, "Tuần lễ OCOP Lào Cai 2026", datetime(2026, 12, 20, 1, 0, tzinfo=UTC),
        place="Quảng trường Lào Cai", tags=["ocop", "hội chợ"],
    )  # fmt: skip
    await _add_event(app, "Hội chợ Việt – Trung 2026", datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
    out = await farmer.send("tuần lễ OCOP năm nay")
    text = out.replies[0].text
    assert "Tuần lễ OCOP Lào Cai 2026" in text and "Việt – Trung" not in text
    assert "20/12/2026, 08:00" in text  # the member's time zone
    actions = [b.action for b in out.replies[0].flat_buttons()]
    assert any(a.startswith("ev:rem:") for a in actions) and "ev:list" in actions
    fairs = await farmer.say("sắp tới có hội chợ nào")
    assert "Việt – Trung" in fairs and "Tuần lễ OCOP" in fairs and "Tập huấn" not in fairs
    lao_cai = await farmer.say("hội chợ lào cai khi nào")
    assert "99" not in lao_cai and "Hội chợ" in lao_cai
    # How to take part is not a question about dates: its entry answers.
    assert "Sự kiện sắp tới" not in await farmer.say("đăng ký gian hàng hội chợ cho htx")


async def test_none_of_these_passes_on_the_question_just_asked(app: App) -> None:
    from sqlalchemy import select

    from db.models import Question, Ticket

    member = Chat(app, "hoa")
    out = await member.send("hồ sơ")  # one word: two close entries are two questions
    reply = out.replies[0]
    assert reply.text == "Anh/chị muốn hỏi về ý nào?"
    none = [b for b in reply.flat_buttons() if b.label == "Không phải các ý trên"]
    assert none and none[0].action.startswith("kb-none:")
    assert "Anh/chị nhắn câu hỏi" not in (await member.send(action=none[0].action)).replies[0].text
    async with app.conversation.sessions() as s:
        (ticket,) = (await s.execute(select(Ticket))).scalars()
        assert ticket.question == "hồ sơ"
        asked = (await s.execute(select(Question).where(Question.text == "hồ sơ"))).scalar_one()
        assert asked.matched is False  # shown to staff in /chuahoi
    again = await member.send(action=none[0].action)
    assert "đã được chuyển" in again.replies[0].text  # no second ticket
    # Someone else's question cannot be sent on.
    other = await Chat(app, "lan").send(action=none[0].action)
    assert "Không tìm thấy" in other.replies[0].text


async def test_an_english_member_gets_the_english_answer(app: App) -> None:
    member = Chat(app, "anna")
    await member.say("/ngonngu en")
    answer = await member.say("How many members do we need to found a cooperative?")
    assert "at least 05 official members" in answer
    assert "Sources: Luật Hợp tác xã số 17/2023/QH15" in answer
    answer = await member.say("thanh lap htx can may thanh vien")
    assert "at least 05 official members" in answer
    topic = (await member.send(action="topic:founding")).replies[0]
    labels = [b.label for b in topic.flat_buttons()]
    assert "Minimum number of members of a cooperative" in labels
    shown = (await member.send(action="kb:htx.min_members")).replies[0].text
    assert "at least 05 official members" in shown
    vietnamese = await Chat(app, "binh").say("thanh lap htx can may thanh vien")
    assert "ít nhất 05 thành viên" in vietnamese and "Nguồn:" in vietnamese


# --- the command line ------------------------------------------------------------------------


def _cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> int:
    monkeypatch.chdir(tmp_path)
    for key in ("COOPBOT_KNOWLEDGE_DIR", "COOPBOT_LOCALE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return main(list(args))


def test_ask_shows_the_choices_the_chat_would_offer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(monkeypatch, tmp_path, "ask", "--json", "thuê giám đốc") == 0
    record = json.loads(capsys.readouterr().out)
    assert record["entry_id"] != "support.tax"
    assert "ambiguous" in record and isinstance(record["choices"], list)
    if record["ambiguous"]:
        assert len(record["choices"]) >= 2
    assert _cli(monkeypatch, tmp_path, "ask", "thanh lap htx can may thanh vien") == 0
    out = capsys.readouterr().out
    assert "05 thành viên" in out and "Nguồn:" in out and "ý nào" not in out


def test_ask_prints_the_question_back_when_ambiguous(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import cli_ask as cli
    from ground.settings import load_settings

    record = {
        "matched": True, "ambiguous": True, "entry_id": "htx.min_members",
        "choices": [{"title": "A"}, {"title": "B"}], "alternatives": [],
    }  # fmt: skip
    kb = KnowledgeStore()
    text = cli._as_chat(kb, cli._translator(load_settings(), "vi"), record)
    assert text.splitlines()[0] == "Anh/chị muốn hỏi về ý nào?"
    assert "1. A" in text and "3. Không phải các ý trên" in text


def test_bare_ask_and_bad_question_sets_give_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(monkeypatch, tmp_path, "ask") == 2
    err = capsys.readouterr().err
    assert "hãy gõ một câu hỏi" in err and "--file" in err and len(err.splitlines()) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "thanh lap htx", "entry": "htx.min_members"}\n{"question": "x"}\n')
    assert _cli(monkeypatch, tmp_path, "eval", str(bad)) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "'q'" in err and "Traceback" not in err
    assert _cli(monkeypatch, tmp_path, "eval", str(tmp_path / "none.jsonl")) == 2
    assert "no such file" in capsys.readouterr().err


def test_eval_takes_an_english_set_and_reports_wrong_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "en.jsonl"
    lines = [
        {"q": "How many members to found a cooperative?", "entry": "htx.min_members"},
        {
            "q": "thủ tục giải thể htx",
            "entry": "dissolution.voluntary",
            "lang": "vi",
            "avoid": ["htx.founding_steps"],
        },
        {"q": "What is the price of gold today?", "entry": None},
    ]
    cases.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    assert (
        _cli(monkeypatch, tmp_path, "eval", "--locale", "en", "--max-wrong", "0", str(cases)) == 0
    )
    out = capsys.readouterr().out
    assert "2/2 correct" in out and "0 wrong (wrong share 0.000)" in out


def test_ask_answers_fair_questions_from_the_events_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(monkeypatch, tmp_path, "ask", "tuần lễ OCOP năm nay") == 0
    assert "chưa có trong trợ lý" in capsys.readouterr().out  # no event known yet
    events = tmp_path / "events.csv"
    events.write_text(
        "Tên sự kiện,Bắt đầu,Địa điểm,Thẻ\n"
        'Tuần lễ OCOP Lào Cai 2099,20/12/2099 08:00,Quảng trường Lào Cai,"ocop, hội chợ"\n',
        encoding="utf-8",
    )
    assert _cli(monkeypatch, tmp_path, "import", "events", str(events)) == 0
    capsys.readouterr()
    assert _cli(monkeypatch, tmp_path, "ask", "tuần lễ OCOP năm 2099") == 0
    out = capsys.readouterr().out
    assert "Tuần lễ OCOP Lào Cai 2099" in out and "20/12/2099, 08:00" in out
    assert _cli(monkeypatch, tmp_path, "ask", "--json", "hội chợ lào cai khi nào") == 0
    record = json.loads(capsys.readouterr().out)
    assert "Tuần lễ OCOP Lào Cai 2099" in record["events"][0]


def test_english_question_set(real_kb: KnowledgeStore) -> None:
    """The English set covers the entries that have English so far (three); it grows with
    the English content. No English question may get another entry's answer."""
    from knowledge.evaluate import evaluate, load_cases

    report = evaluate(real_kb, load_cases(Path(__file__).parent / "data" / "qa_set_en.jsonl"))
    assert report.wrong == 0, report.render()
    assert report.accuracy >= 0.85 and report.rejection == 1.0, report.render()


def test_missing_english_is_an_error_unless_kb_check_is_told_to_warn(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(monkeypatch, tmp_path, "kb", "check") == 0  # the shipped base: all in English
    capsys.readouterr()
    drafts = tmp_path / "kb"
    drafts.mkdir()
    (drafts / "one.yaml").write_text(
        "entries:\n"
        "  - id: draft.one\n"
        "    title: Một mục nháp\n"
        "    questions: [mục nháp này nói gì]\n"
        "    answer: Một câu trả lời nháp.\n"
        "    sources: [Luật Hợp tác xã số 17/2023/QH15, Điều 4]\n"
        "    reviewed: 2026-11-29\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("COOPBOT_KNOWLEDGE_DIR", str(drafts))
    monkeypatch.chdir(tmp_path)
    assert main(["kb", "check"]) == 1
    assert "no English" in capsys.readouterr().out
    assert main(["kb", "check", "--missing-english", "warn"]) == 0
    assert "cảnh báo:" in capsys.readouterr().out
