"""Question answering: free text goes to the knowledge base.

An answer carries its sources and review date, then "Có hữu ích không?" with 👍 / 👎. An
ambiguous question gets the candidate entries as buttons. A question the base cannot answer
gets an honest "I don't know", the closest topics and a way to staff, and is kept for staff.
"""

from __future__ import annotations

from sqlalchemy import insert

from db.models import Question
from ground.i18n import N_, Translator
from ground.messages import Button, Reply, rows
from ground.observe import observe
from handlers.context import Context
from handlers.event_answers import event_answer, is_event_entry
from handlers.law import cited_buttons, with_related_articles
from handlers.router import Router, id_of
from knowledge.base import Entry
from knowledge.normalize import fold
from knowledge.search import SearchResult
from operations import Actor, questions

MAX_QUESTION_CHARS = 1000


def render_entry(t: Translator, entry: Entry) -> str:
    """An entry as the member reads it, in ``t``'s language: the English answer for a member
    who chose English (when the entry has one); sources stay document names."""
    answer = entry.answer_in(t.locale)
    if entry.id.startswith("chitchat."):
        return answer
    sources = "; ".join(entry.sources)
    parts = [answer, "", t.t("Nguồn: {sources}", sources=sources)]
    parts.append(t.t("Cập nhật: {date}", date=t.day(entry.reviewed)))
    if entry.certainty == "uncertain":
        parts.append(t.t("Lưu ý: một phần thông tin trên chưa được xác nhận."))
    return "\n".join(parts)


def entry_text(ctx: Context, entry: Entry) -> str:
    return render_entry(ctx.translator, entry)


def choice_entries(result: SearchResult) -> list[Entry]:
    """The entries offered when a question is ambiguous (the chat's "which one?")."""
    return [h.entry for h in result.hits[:3] if h.entry.scope == "in"]


def answer_reply(ctx: Context, entry: Entry, question_id: int | None) -> Reply:
    buttons: list[tuple[Button, ...]] = []
    text = entry_text(ctx, entry)
    if question_id is not None and not entry.id.startswith("chitchat."):
        text += "\n\n" + ctx.t("Có hữu ích không?")
        buttons.append((Button("👍", f"fb:up:{question_id}"), Button("👎", f"fb:dn:{question_id}")))
    followups = [e for e in (ctx.kb.get(f) for f in entry.followups) if e and e.scope == "in"]
    buttons.extend((Button(e.title_in(ctx.translator.locale), f"kb:{e.id}"),) for e in followups)
    buttons.extend(cited_buttons(ctx, entry))  # "📖 Điều 42": the articles it cites
    if is_event_entry(entry):
        buttons.append((Button(ctx.t("Xem sự kiện sắp tới"), "ev:list"),))  # handlers/events.py
    return Reply(text, tuple(buttons))


# Built once: the statement is the same for every question, only the values change.
_INSERT_QUESTION = insert(Question.__table__).returning(Question.__table__.c.id)


async def log_question(
    ctx: Context, text: str, entry_id: str | None, score: float, matched: bool
) -> int:
    """Keep the question (for /chuahoi and votes); one INSERT … RETURNING, no ORM flush."""
    values = {
        "member_id": ctx.member.id,
        "channel": ctx.member.channel,
        "text": text,
        "folded": fold(text),
        "entry_id": entry_id,
        "score": score,
        "matched": matched,
        "created_at": ctx.clock(),
    }
    return (await ctx.session.execute(_INSERT_QUESTION, values)).scalar_one()


async def answer_question(ctx: Context, text: str) -> Reply:
    text = text.strip()
    if not text:
        return Reply(ctx.t("Anh/chị cứ gõ câu hỏi, ví dụ: “hồ sơ đăng ký HTX gồm gì?”"))
    text = text[:MAX_QUESTION_CHARS]
    locale = ctx.translator.locale
    result = ctx.kb.search(text, locale)
    best = result.best
    question_id = await log_question(
        ctx, text, best.entry.id if best and result.matched else None,
        best.score if best else 0.0, result.matched,
    )  # fmt: skip
    kind = "refused" if not result.matched else "ambiguous" if result.ambiguous else "matched"
    observe("answer", kind=kind)
    if (
        result.matched
        and best
        and is_event_entry(best.entry)
        and (not result.ambiguous or all(map(is_event_entry, choice_entries(result))))
    ):
        # Trade events come from the events staff entered; the entry only where none is.
        found = await event_answer(ctx, text, best.entry)
        if found is not None:
            return found
    if result.matched and best and not result.ambiguous:
        return answer_reply(ctx, best.entry, question_id)
    if result.matched and result.ambiguous:
        options = choice_entries(result)
        buttons = [Button(e.title_in(locale), f"kb:{e.id}") for e in options]
        buttons.append(Button(ctx.t("Không phải các ý trên"), f"kb-none:{question_id}"))
        return Reply(ctx.t("Anh/chị muốn hỏi về ý nào?"), rows(*buttons))
    return with_related_articles(ctx, not_known_reply(ctx, result.hits), text, result.hits)


def not_known_reply(ctx: Context, hits: list) -> Reply:  # type: ignore[type-arg]
    text = ctx.t(
        "Xin lỗi, tôi chưa có câu trả lời chắc chắn cho câu hỏi này, nên không muốn trả lời "
        "đoán. Tôi đã ghi lại câu hỏi để cán bộ Liên minh HTX xem xét."
    )
    locale = ctx.translator.locale
    related = [h.entry for h in hits if h.entry.scope == "in" and h.score >= 0.3][:3]
    out_topic = hits[0].entry if hits and hits[0].entry.scope == "out" else None
    if out_topic and hits[0].score >= 0.5:
        text = out_topic.answer_in(locale)
    buttons = [Button(e.title_in(locale), f"kb:{e.id}") for e in related]
    if related:
        text += "\n" + ctx.t("Có thể anh/chị quan tâm:")
    buttons.append(Button(ctx.t("Liên hệ cán bộ"), "contact:"))
    return Reply(text, rows(*buttons))


async def show_entry(ctx: Context, entry_id: str) -> Reply:
    entry = ctx.kb.get(entry_id)
    if entry is None:
        return Reply(ctx.t("Mục này không còn trong cơ sở tri thức. Gõ /menu để xem chủ đề."))
    question_id = await log_question(ctx, entry.title, entry.id, 1.0, True)
    return answer_reply(ctx, entry, question_id)


async def none_of_these(ctx: Context, qid: str) -> Reply:
    """None of the offered topics: the question goes to staff as the member asked it,
    and counts as unanswered for /chuahoi."""
    question = await ctx.session.get(Question, id_of(qid)) if id_of(qid) else None
    if question is None or question.member_id != ctx.member.id:
        return Reply(ctx.t("Không tìm thấy câu hỏi này."))
    if not question.matched:  # pressed before: the ticket is open already
        return Reply(ctx.t("Câu hỏi này đã được chuyển cho cán bộ."))
    question.matched = False
    from handlers.tickets import open_ticket  # tickets show answers from here: import late

    return await open_ticket(ctx, question.text)


async def feedback(ctx: Context, arg: str) -> Reply:
    kind, _, qid = arg.partition(":")
    question = await ctx.session.get(Question, id_of(qid)) if id_of(qid) else None
    if question is None or question.member_id != ctx.member.id or kind not in ("up", "dn"):
        return Reply(ctx.t("Không tìm thấy câu hỏi này."))
    question.vote = 1 if kind == "up" else -1
    if kind == "up":
        return Reply(ctx.t("Cảm ơn anh/chị đã góp ý!"))
    return Reply(
        ctx.t(
            "Cảm ơn anh/chị. Tôi đã ghi lại để cán bộ bổ sung câu trả lời. "
            "Cần hỏi ngay, anh/chị gõ /lienhe."
        ),
        ((Button(ctx.t("Liên hệ cán bộ"), "contact:"),),),
    )


async def unanswered(ctx: Context, _: str) -> Reply:
    groups = await questions.unanswered(ctx.session, Actor.of(ctx.member), ctx.clock())
    if not groups:
        return Reply(ctx.t("30 ngày qua không có câu hỏi nào bị bỏ ngỏ hoặc bị chê."))
    lines = [ctx.t("Câu hỏi chưa trả lời được hoặc bị chê (30 ngày qua):")]
    for g in groups[:15]:
        lines.append(ctx.tn("• {text} ({n} lần)", "• {text} ({n} lần)", g.count, text=g.text))
    return Reply("\n".join(lines))


def register(router: Router) -> None:
    router.text(answer_question)
    router.action("kb")(show_entry)
    router.action("kb-none")(none_of_these)
    router.action("fb")(feedback)
    router.command(
        "chuahoi", "unanswered", description=N_("Câu hỏi chưa trả lời được"), role="staff"
    )(unanswered)
