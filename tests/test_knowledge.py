"""The knowledge base: its content is valid, and questions find the right entries."""

import shutil
from datetime import date
from pathlib import Path

import pytest

from knowledge.base import DATA_DIR, Entry, KnowledgeError, KnowledgeStore, load_dir
from knowledge.evaluate import evaluate, load_cases
from knowledge.normalize import tokenize
from knowledge.search import SearchIndex, kinds_of

ROOT = Path(__file__).resolve().parent.parent
OWN_SET = ROOT / "tests" / "data" / "qa_set.jsonl"
DEV_SET = ROOT / "tests" / "data" / "dev.jsonl"
LAW_SET = ROOT / "tests" / "data" / "qa_law.jsonl"
EN_SET = ROOT / "tests" / "data" / "qa_set_en.jsonl"
FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"

# (accuracy in scope, rejection out of scope) each set must keep. Issue #13's targets: 95 %
# right in scope, 95 % of out-of-scope questions refused. Measured when last raised: own
# 0.963 / 0.969, law 0.983 / 0.950, dev 1.000 / 1.000. The English set (31 questions) does not
# reach the in-scope target yet (0.880 / 1.000): its floor is the level reached.
FLOORS = {"own": (0.95, 0.95), "law": (0.95, 0.95), "dev": (0.95, 0.95), "en": (0.88, 0.95)}
# Answered with another entry (or answered at all when out of scope), of all questions: a wrong
# answer is worse than "I don't know". Issue #13: below 3 % (measured: own 0.024, law 0.011,
# dev 0, English 0).
MAX_WRONG = {"own": 0.03, "law": 0.03, "dev": 0.03, "en": 0.03}


def test_real_knowledge_base_is_valid() -> None:
    loaded = load_dir(DATA_DIR)
    assert not loaded.problems, "\n".join(map(str, loaded.problems))
    in_scope = [e for e in loaded.entries if e.scope == "in"]
    assert len(in_scope) >= 60
    for e in in_scope:
        assert e.sources and e.reviewed
        assert len(e.answer) <= 700


def test_own_question_set_is_large_and_varied() -> None:
    cases = load_cases(OWN_SET)
    assert sum(c.in_scope for c in cases) >= 300
    assert sum(not c.in_scope for c in cases) >= 60


def test_every_entry_the_own_set_names_exists(real_kb: KnowledgeStore) -> None:
    for case in load_cases(OWN_SET):
        for eid in case.entries:
            assert real_kb.get(eid), f"line {case.line}: no entry {eid}"


@pytest.mark.parametrize(
    ("name", "path"), [("own", OWN_SET), ("law", LAW_SET), ("dev", DEV_SET), ("en", EN_SET)]
)
def test_answer_quality(real_kb: KnowledgeStore, name: str, path: Path) -> None:
    min_accuracy, min_rejection = FLOORS[name]
    report = evaluate(real_kb, load_cases(path))
    assert report.accuracy >= min_accuracy, report.render()
    assert report.rejection >= min_rejection, report.render()
    assert report.wrong_share < MAX_WRONG[name], report.render()


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("thanh lap htx can it nhat may nguoi", "htx.min_members"),
        ("hồ sơ đăng kí thành lập hợp tác xả", "htx.dossier"),
        ("lmhtx tinh giup gi cho htx", "lienminh.services"),
        (
            "Chào anh chị, bên em đang định thành lập hợp tác xã trồng chè, "
            "xin hỏi cần chuẩn bị hồ sơ gì?",
            "htx.dossier",
        ),
    ],
)
def test_issue_examples_are_answered(real_kb: KnowledgeStore, question: str, entry_id: str) -> None:
    result = real_kb.index.search(question)
    assert result.matched and result.best and result.best.entry.id == entry_id


@pytest.mark.parametrize("question", ["giá vàng hôm nay", "thủ tục thành lập công ty TNHH"])
def test_issue_traps_are_refused(real_kb: KnowledgeStore, question: str) -> None:
    assert not real_kb.index.search(question).matched


def test_accented_reading_is_preferred(fixture_kb: KnowledgeStore) -> None:
    plain = fixture_kb.index.search("ho so dang ky htx")
    accented = fixture_kb.index.search("hồ sơ đăng ký htx")
    assert plain.best and accented.best
    assert plain.best.entry.id == accented.best.entry.id == "htx.dossier"


def _index(*questions: str) -> SearchIndex:
    entries = [
        Entry(f"t.{i}", q, (q,), "Trả lời.", (), ("nguồn",), date(2026, 11, 28))
        for i, q in enumerate(questions)
    ]
    return SearchIndex(entries)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("thog", "thong"), ("thag", "thang"), ("nhug", "nhung"), ("thah", "thanh"), ("hopw", "hop")],
)
def test_typo_correction_prefers_dropped_letters(typed: str, meant: str) -> None:
    """Phone typing mostly drops a letter: "thog" is "thông", not "thơ" or "thời"."""
    index = _index(
        "thơ thơ thời thời thai thai", "thông báo tháng này", "những nhu cầu", "thành lập hợp"
    )
    assert index._correct(typed) == meant


def test_typo_correction_prefers_the_common_syllable() -> None:
    index = _index("bán hàng", "hàng hóa", "mặt hàng", "hãng xe")
    assert index._correct("hafng") == "hang"


def test_known_syllables_and_short_words_are_not_corrected(real_kb: KnowledgeStore) -> None:
    assert real_kb.index._correct("thanh") is None
    assert real_kb.index._correct("ab") is None
    assert real_kb.index._correct("2025") is None


@pytest.mark.parametrize(
    ("typed", "expanded"),
    [("dk onlai", "dang ki online"), ("tks ad", "cam on admin"), ("tg xu ly", "thoi gian xu li")],
)
def test_teen_code_is_expanded(typed: str, expanded: str) -> None:
    assert " ".join(t.folded for t in tokenize(typed)) == expanded


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("thành lập htx cần mấy người", {"htx"}),
        ("tổ hợp tác khác hợp tác xã thế nào", {"tht", "htx"}),
        ("lhhtx gồm mấy hợp tác xã", {"lhhtx", "htx"}),
        ("mở cty hay lập htx", {"dn", "htx"}),
        ("hợp tác với nhau", set()),
        ("hộ kinh doanh cá thể muốn lên hợp tác xã", {"hkd", "htx"}),
        ("hỗ trợ kinh doanh cho hộ nghèo", set()),
    ],
)
def test_kinds_of_organisation_are_recognised(text: str, kinds: set[str]) -> None:
    assert kinds_of([t.folded for t in tokenize(text)]) == kinds


def test_entry_about_another_kind_of_organisation_loses(real_kb: KnowledgeStore) -> None:
    """ "hop tac xa" differs from "to hop tac" by one common word; the kind decides."""
    index = real_kb.index
    assert index._entry_kind[index.entries.index(real_kb.get("tht.definition"))] == "tht"
    htx = index.search("hop tac xa co phai la phap nhan khong")
    tht = index.search("to hop tac co phai la phap nhan khong")
    assert htx.best and htx.best.entry.id == "htx.definition"
    assert tht.best and tht.best.entry.id == "tht.definition"


def _copy_kb(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    return kb


def test_check_finds_duplicates_collisions_and_missing_sources(tmp_path: Path) -> None:
    kb = _copy_kb(tmp_path)
    (kb / "more.yaml").write_text(
        """entries:
  - id: htx.dossier
    title: Trùng id
    questions: [Một câu hỏi khác hẳn về hồ sơ]
    answer: x
    sources: [a]
    reviewed: 2026-11-28
  - id: htx.copy
    title: Câu hỏi trùng
    questions: ["Mở HTX phải có mấy người??"]
    answer: y
    sources: [b]
    reviewed: 2026-11-28
  - id: htx.nosource
    title: Không có nguồn
    questions: [Một câu hỏi chưa có nguồn trích dẫn]
    answer: z
    sources: []
    reviewed: 2026-11-28
  - id: htx.twice
    title: Câu hỏi lặp
    questions: [Hỏi một điều rất riêng lần một, "hỏi một điều rất riêng  lần một"]
    answer: w
    sources: [c]
    reviewed: 2026-11-28
""",
        encoding="utf-8",
    )
    messages = [str(p) for p in load_dir(kb).problems]
    assert any("duplicate id" in m for m in messages)
    assert any("collides with" in m and "htx.min_members" in m for m in messages)
    assert any("sources are missing" in m for m in messages)
    assert any("htx.twice" in m and "is listed twice" in m for m in messages)


def test_reload_swaps_a_good_base_and_keeps_the_old_on_a_broken_one(tmp_path: Path) -> None:
    kb = _copy_kb(tmp_path)
    store = KnowledgeStore(kb)
    assert store.reload_if_changed() is None
    text = (kb / "sample.yaml").read_text(encoding="utf-8")
    (kb / "sample.yaml").write_text(
        text.replace("05 thành viên chính thức", "năm (05) thành viên"), encoding="utf-8"
    )
    assert store.reload_if_changed() == []
    assert "năm (05)" in store.get("htx.min_members").answer  # type: ignore[union-attr]
    (kb / "sample.yaml").write_text("entries: [oops", encoding="utf-8")
    problems = store.reload_if_changed()
    assert problems and "not valid YAML" in str(problems[0])
    assert "năm (05)" in store.get("htx.min_members").answer  # type: ignore[union-attr]


def test_broken_base_refuses_to_start(tmp_path: Path) -> None:
    kb = _copy_kb(tmp_path)
    (kb / "sample.yaml").write_text("entries:\n  - id: Bad Id\n", encoding="utf-8")
    with pytest.raises(KnowledgeError):
        KnowledgeStore(kb)
