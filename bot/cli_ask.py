"""``coopbot ask`` and ``coopbot eval``: what the chat would answer, and how well it answers."""

from __future__ import annotations

import argparse
import json
import sys

from ground.settings import Settings


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.answers import answer_record

    if args.file is None and not (args.question or "").strip():
        t = _translator(settings, settings.locale)
        print(t.t("coopbot ask: hãy gõ một câu hỏi, hoặc --file TỆP (mỗi dòng một câu hỏi)"),
              file=sys.stderr)  # fmt: skip
        return 2
    from bot.cli import _kb_store
    from bot.cli_kb import live_store

    store = live_store(settings, _kb_store(settings))  # what members get now
    if args.file is not None:
        try:
            fh = sys.stdin if str(args.file) == "-" else args.file.open(encoding="utf-8-sig")
            questions = [line.rstrip("\n") for line in fh if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            t = _translator(settings, settings.locale)
            problem = (t.t("không phải văn bản UTF-8") if isinstance(exc, UnicodeDecodeError)
                       else t.t("không có tệp này") if isinstance(exc, FileNotFoundError)
                       else exc.strerror or str(exc))  # fmt: skip
            print(t.t("coopbot ask: không đọc được {path}: {problem}", path=args.file,
                      problem=problem), file=sys.stderr)  # fmt: skip
            return 2
    else:
        questions = [args.question]
    translator = _translator(settings, args.locale)
    for q in questions:
        record = answer_record(store, q, args.locale)
        events = _events_answer(settings, store, translator, record)
        if args.json:
            if events is not None:
                record["events"] = events
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(events[0] if events else _as_chat(store, translator, record))
            if len(questions) > 1:
                print()
    return 0


def _events_answer(settings: Settings, store, t, record) -> list[str] | None:  # type: ignore[no-untyped-def]
    """As in chat, a question about when or which fairs is answered from the events table:
    the text of the answer (one item) or ``[]`` when no event fits; ``None`` when the
    question is not one for the events table or the database cannot be read."""
    from datetime import UTC, datetime

    from handlers.event_answers import answered_by_events, events_for, events_text, is_event_entry

    entry = store.get(record["entry_id"]) if record["matched"] else None
    if entry is None or not all(
        is_event_entry(store.get(c["entry_id"])) for c in record["choices"]
    ):
        return None
    if not answered_by_events(record["question"], entry):
        return None

    async def work(session):  # type: ignore[no-untyped-def]
        return await events_for(session, record["question"], datetime.now(UTC), t.tz)

    from bot.cli_common import with_session

    try:
        events = with_session(settings, work)
    except Exception:
        return None
    return [events_text(t, events)] if events else []


def _translator(settings: Settings, locale: str):  # type: ignore[no-untyped-def]
    from ground.i18n import Translations

    return Translations(("vi", "en"), settings.locale, settings.tz).get(locale)


def _as_chat(store, t, record) -> str:  # type: ignore[no-untyped-def]
    """What the chat would show for ``record`` (buttons as a numbered list)."""
    from handlers.qa import render_entry

    if record["matched"] and not record["ambiguous"]:
        return render_entry(t, store.get(record["entry_id"]))
    if record["ambiguous"]:
        titles = [c["title"] for c in record["choices"]] + [t.t("Không phải các ý trên")]
        lines = [t.t("Anh/chị muốn hỏi về ý nào?")]
    else:
        lines = [
            t.t(
                "Xin lỗi, tôi chưa có câu trả lời chắc chắn cho câu hỏi này, nên không muốn trả "
                "lời đoán. Tôi đã ghi lại câu hỏi để cán bộ Liên minh HTX xem xét."
            )
        ]
        alts = record["alternatives"]
        if alts and alts[0]["scope"] == "out" and alts[0]["score"] >= 0.5:
            lines = [store.get(alts[0]["entry_id"]).answer_in(t.locale)]
        related = [a["title"] for a in alts if a["scope"] == "in" and a["score"] >= 0.3][:3]
        if related:
            lines.append(t.t("Có thể anh/chị quan tâm:"))
        titles = [*related, t.t("Liên hệ cán bộ")]
    lines += [f"  {i}. {title}" for i, title in enumerate(titles, 1)]
    return "\n".join(lines)


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    from knowledge.evaluate import CaseError, evaluate, load_cases

    try:
        cases = load_cases(args.file, args.locale)
    except CaseError as exc:
        print(f"coopbot eval: {exc}", file=sys.stderr)
        return 2
    from bot.cli import _kb_store

    store = _kb_store(settings)
    report = evaluate(store, cases)
    print(report.render())
    ok = (
        report.accuracy >= args.min_accuracy
        and report.rejection >= args.min_rejection
        and report.wrong_share <= args.max_wrong
    )
    if not ok:
        t = _translator(settings, settings.locale)
        print(
            t.t(
                "Dưới mức tối thiểu: độ đúng {accuracy} (tối thiểu {min_accuracy}), từ chối đúng "
                "{rejection} (tối thiểu {min_rejection}), trả lời sai {wrong} (tối đa {max_wrong})",
                accuracy=round(report.accuracy, 3), min_accuracy=args.min_accuracy,
                rejection=round(report.rejection, 3), min_rejection=args.min_rejection,
                wrong=round(report.wrong_share, 3), max_wrong=args.max_wrong,
            ),
            file=sys.stderr,
        )  # fmt: skip
    return 0 if ok else 1
