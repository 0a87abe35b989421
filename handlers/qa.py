"""Question answering: free text goes to the knowledge base.

An answer carries its sources and review date, then "Có hữu ích không?" with 👍 / 👎. An
ambiguous question gets the candidate entries as buttons. A question the base cannot answer
gets an honest "I don't know", the closest topics and a way to staff, and is kept for staff.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from rapidfuzz import fuzz
from sqlalchemy import insert, or_, select

from db.models import Question
from ground.i18n import N_
from ground.messages import Button, Reply, rows
from ground.observe import observe
from handlers.context import Context
from handlers.law import cited_buttons, with_related_articles
from handlers.router import Router
from knowledge.base import Entry
from knowledge.normalize import fold, has_diacritics

MAX_QUESTION_CHARS = 1000


def entry_text(ctx: Context, entry: Entry) -> str:
    if entry.id.startswith("chitchat."):
        return entry.answer
    sources = "; ".join(entry.sources)
    reviewed = ctx.translator.day(entry.reviewed)
    parts = [entry.answer, "", ctx.t("Nguồn: {sources}", sources=sources)]
    parts.append(ctx.t("Cập nhật: {date}", date=reviewed))
    if entry.certainty == "uncertain":
        parts.append(ctx.t("Lưu ý: một phần thông tin trên chưa được xác nhận."))
    return "\n".join(parts)


def answer_reply(ctx: Context, entry: Entry, question_id: int | None) -> Reply:
    buttons: list[tuple[Button, ...]] = []
    text = entry_text(ctx, entry)
    if question_id is not None and not entry.id.startswith("chitchat."):
        text += "\n\n" + ctx.t("Có hữu ích không?")
        buttons.append((Button("👍", f"fb:up:{question_id}"), Button("👎", f"fb:dn:{question_id}")))
    followups = [e for e in (ctx.kb.get(f) for f in entry.followups) if e and e.scope == "in"]
    buttons.extend((Button(e.title, f"kb:{e.id}"),) for e in followups)
    buttons.extend(cited_buttons(ctx, entry))  # "📖 Điều 42": the articles it cites
    if entry.id == "bot.events" or entry.id.startswith("event."):
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
    result = ctx.kb.index.search(text)
    best = result.best
    question_id = await log_question(
        ctx, text, best.entry.id if best and result.matched else None,
        best.score if best else 0.0, result.matched,
    )  # fmt: skip
    kind = "refused" if not result.matched else "ambiguous" if result.ambiguous else "matched"
    observe("answer", kind=kind)
    if result.matched and best and not result.ambiguous:
        return answer_reply(ctx, best.entry, question_id)
    if result.matched and result.ambiguous:
        options = [h.entry for h in result.hits[:3] if h.entry.scope == "in"]
        buttons = [Button(e.title, f"kb:{e.id}") for e in options]
        buttons.append(Button(ctx.t("Không phải các ý trên"), "contact:"))
        return Reply(ctx.t("Anh/chị muốn hỏi về ý nào?"), rows(*buttons))
    return with_related_articles(ctx, not_known_reply(ctx, result.hits), text, result.hits)


def not_known_reply(ctx: Context, hits: list) -> Reply:  # type: ignore[type-arg]
    text = ctx.t(
        "Xin lỗi, tôi chưa có câu trả lời chắc chắn cho câu hỏi này, nên không muốn trả lời "
        "đoán. Tôi đã ghi lại câu hỏi để cán bộ Liên minh HTX xem xét."
    )
    related = [h.entry for h in hits if h.entry.scope == "in" and h.score >= 0.3][:3]
    out_topic = hits[0].entry if hits and hits[0].entry.scope == "out" else None
    if out_topic and hits[0].score >= 0.5:
        text = out_topic.answer
    buttons = [Button(e.title, f"kb:{e.id}") for e in related]
    if related:
        text += "\n" + ctx.t("Có thể anh/chị quan tâm:")
    buttons.append(Button(ctx.t("Liên hệ cán bộ"), "contact:"))
    return Reply(text, rows(*buttons))


def register(router: Router) -> None:
    router.text(answer_question)

    @router.action("kb")
    async def show_entry(ctx: Context, entry_id: str) -> Reply:
        entry = ctx.kb.get(entry_id)
        if entry is None:
            return Reply(ctx.t("Mục này không còn trong cơ sở tri thức. Gõ /menu để xem chủ đề."))
        question_id = await log_question(ctx, entry.title, entry.id, 1.0, True)
        return answer_reply(ctx, entry, question_id)

    @router.action("fb")
    async def feedback(ctx: Context, arg: str) -> Reply:
        kind, _, qid = arg.partition(":")
        question = await ctx.session.get(Question, int(qid)) if qid.isdigit() else None
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

    @router.command(
        "chuahoi", "unanswered", description=N_("Câu hỏi chưa trả lời được"), role="staff"
    )
    async def unanswered(ctx: Context, _: str) -> Reply:
        since = ctx.clock() - timedelta(days=30)
        stmt = (
            select(Question)
            .where(Question.created_at >= since)
            .where(or_(Question.matched.is_(False), Question.vote == -1))
            .order_by(Question.created_at.desc())
            .limit(2000)
        )
        questions = (await ctx.session.execute(stmt)).scalars().all()
        if not questions:
            return Reply(ctx.t("30 ngày qua không có câu hỏi nào bị bỏ ngỏ hoặc bị chê."))
        groups = group_similar([q.folded for q in questions], [q.text for q in questions])
        lines = [ctx.t("Câu hỏi chưa trả lời được hoặc bị chê (30 ngày qua):")]
        for text, count in groups[:15]:
            lines.append(ctx.tn("• {text} ({n} lần)", "• {text} ({n} lần)", count, text=text))
        return Reply("\n".join(lines))


def group_similar(keys: list[str], texts: list[str], cutoff: float = 85) -> list[tuple[str, int]]:
    """Group near-identical questions, most frequent first.

    A group is shown by a wording with diacritics when one was typed (easier to read).
    """
    groups: list[tuple[str, str]] = []  # (key, shown text)
    counts: Counter[int] = Counter()
    for key, text in zip(keys, texts, strict=True):
        for i, (gkey, shown) in enumerate(groups):
            if fuzz.token_set_ratio(key, gkey) >= cutoff:
                counts[i] += 1
                if not has_diacritics(shown) and has_diacritics(text):
                    groups[i] = (gkey, text)
                break
        else:
            groups.append((key, text))
            counts[len(groups) - 1] += 1
    return [(groups[i][1], c) for i, c in counts.most_common()]
