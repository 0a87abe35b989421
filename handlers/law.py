"""The law at hand: ``/luat 90``, "điều 90 luật htx", "k2 d90", ``/luat thừa kế vốn góp``.

An article is shown as a quotation: who says it (document, article, title, date in force) in
the assistant's words, then the text itself, each paragraph marked ``> ``. Long articles are
cut at clause boundaries to fit the channel (Incoming.text_limit), with buttons to the next
part, the previous and next article and the chapter. Answers of the knowledge base get a
"📖 Điều 42" button per article they cite, and a refusal offers up to three articles to read.

Button actions (ASCII, ≤ 64 bytes):
``law:<key>:<part>:<clause>:<point>`` opens an article (key "LQ.90", "ND.3.12"; clause and
point may be empty; point "đ" is written "dd"); ``lawch:<doc key>:<chapter>:<page>`` lists
the articles of a chapter.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ground.i18n import N_
from ground.messages import Button, Reply, rows
from handlers.context import Context
from handlers.router import Router
from knowledge.base import Entry
from knowledge.law import (
    LAW,
    Article,
    Reference,
    article_blocks,
    cited_articles,
    law_text,
    parse_number_or_reference,
    parse_reference,
    split_parts,
)

CHAPTER_PAGE = 20
FOUND = 5
RELATED = 3
QUOTE = "> "
# Room kept for the numbered choices (at most six buttons of about 30 characters, and the
# hint "Gõ 1, 2 … để chọn.") on channels that show them in the message.
MENU_RESERVE = 320


def _label(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _point_code(point: str | None) -> str:
    return {"đ": "dd"}.get(point or "", point or "")


def open_action(
    article: Article, part: int = 0, clause: int | None = None, point: str | None = None
) -> str:
    return f"law:{article.key}:{part}:{clause or ''}:{_point_code(point)}"


def article_name(ctx: Context, article: Article) -> str:
    """``Điều 90 Luật HTX``, ``Điều 12 NĐ 92/2024``: short, for buttons."""
    doc = law_text().document_of(article)
    return ctx.t("Điều {num} {doc}", num=article.num, doc=doc.short)


def article_button(ctx: Context, article: Article, with_title: bool = True) -> Button:
    label = "📖 " + article_name(ctx, article)
    if with_title:
        label += f": {article.title}"
    return Button(_label(label), open_action(article))


def article_reply(
    ctx: Context,
    article: Article,
    part: int = 0,
    clause: int | None = None,
    point: str | None = None,
    note: str = "",
) -> Reply:
    """One part of ``article`` (or of one clause or point) as a quotation, with buttons."""
    text = law_text()
    doc = text.document_of(article)
    if clause is not None and article.clause(clause) is None:
        note = ctx.t(
            "Điều {num} không có khoản {clause}; dưới đây là cả điều.",
            num=article.num,
            clause=clause,
        )
        clause = point = None
    if point is not None and not article_blocks(article, clause, point):
        note = ctx.t(
            "Khoản {clause} Điều {num} không có điểm {point}; dưới đây là cả khoản.",
            num=article.num,
            clause=clause,
            point=point,
        )
        point = None
    where = ""
    if clause is not None:
        where = (
            ctx.t("điểm {point} khoản {clause}", point=point, clause=clause)
            if point
            else ctx.t("khoản {clause}", clause=clause)
        )
    head = [note] if note else []
    head.append(
        ctx.t("📖 {doc}, Điều {num}. {title}", doc=doc.name, num=article.num, title=article.title)
    )
    chapter = text.chapters.get(article.chapter, "")
    if chapter:
        if article.doc == LAW:
            head.append(ctx.t("Chương {n}. {title}", n=article.chapter, title=chapter))
        else:  # a decree's own chapters differ: say where the Pháp điển files it
            head.append(
                ctx.t("Pháp điển xếp vào Chương {n}. {title}", n=article.chapter, title=chapter)
            )
    in_force = ctx.translator.day(date.fromisoformat(article.in_force))
    tail = [ctx.t("Ghi chú của Pháp điển: {note}", note=article.amended)] if article.amended else []
    if where:
        intro = ctx.t(
            "Trích nguyên văn {where} (có hiệu lực từ {date}):", where=where, date=in_force
        )
    else:
        intro = ctx.t("Trích nguyên văn (có hiệu lực từ {date}):", date=in_force)
    limit = ctx.incoming.text_limit
    budget = None
    if limit is not None:
        fixed = sum(len(line) + 1 for line in [*head, intro, *tail]) + 20  # + "phần 10/12"
        # Numbered-button channels (Zalo) put the choices in the same message.
        budget = limit - fixed - (MENU_RESERVE if ctx.incoming.numbered_buttons else 0)
    parts = split_parts(article_blocks(article, clause, point), budget, per_para=len(QUOTE) + 1)
    part = max(0, min(part, len(parts) - 1))
    if len(parts) > 1:
        intro += " " + ctx.t("phần {i}/{n}", i=part + 1, n=len(parts))
    lines = [*head, intro, *(QUOTE + p for p in parts[part]), *tail]
    return Reply("\n".join(lines), _article_buttons(ctx, article, part, len(parts), clause, point))


def _article_buttons(
    ctx: Context, article: Article, part: int, n_parts: int, clause: int | None, point: str | None
) -> tuple[tuple[Button, ...], ...]:
    out: list[tuple[Button, ...]] = []
    paging = []
    if part > 0:
        paging.append(Button(ctx.t("◂ Phần trước"), open_action(article, part - 1, clause, point)))
    if part + 1 < n_parts:
        paging.append(
            Button(
                ctx.t("Phần tiếp ({i}/{n}) ▸", i=part + 2, n=n_parts),
                open_action(article, part + 1, clause, point),
            )
        )
    if paging:
        out.append(tuple(paging))
    if clause is not None:
        out.append((Button(ctx.t("Cả Điều {num}", num=article.num), open_action(article)),))
    before, after = law_text().neighbours(article)
    moves = []
    if before is not None:
        moves.append(Button(ctx.t("◂ Điều {num}", num=before.num), open_action(before)))
    if after is not None:
        moves.append(Button(ctx.t("Điều {num} ▸", num=after.num), open_action(after)))
    if moves:
        out.append(tuple(moves))
    if article.chapter:
        siblings = law_text().chapter_articles(article.chapter, article.doc)
        page = siblings.index(article) // CHAPTER_PAGE  # the page that lists this article
        out.append(
            (
                Button(
                    ctx.t("📚 Các điều của Chương {n}", n=article.chapter),
                    f"lawch:{article.doc_key}:{article.chapter}:{page}",
                ),
            )
        )
    return tuple(out)


def open_reference(ctx: Context, ref: Reference) -> Reply:
    text = law_text()
    if ref.doc is None:
        docs = "\n".join(f"• {d.name}" for d in text.documents.values())
        return Reply(
            ctx.t(
                "Tôi chưa có văn bản “{doc}” trong Pháp điển về hợp tác xã. "
                "Các văn bản tôi có:\n{docs}",
                doc=ref.doc_typed,
                docs=docs,
            )
        )
    article = text.get(ref.doc, ref.num)
    if article is None:
        doc = text.documents[ref.doc]
        closest = text.closest(ref.doc, ref.num)
        return Reply(
            ctx.t(
                "{doc} không có Điều {num} trong Pháp điển về hợp tác xã. Các điều gần số này:",
                doc=doc.name,
                num=ref.num,
            ),
            rows(*(article_button(ctx, a) for a in closest)),
        )
    return article_reply(ctx, article, 0, ref.clause, ref.point)


def found_reply(ctx: Context, words: str) -> Reply:
    found = law_text().find(words, FOUND, min_score=0.15)
    if not found:
        return Reply(
            ctx.t(
                "Tôi không tìm thấy điều luật nào có các từ “{words}”. Anh/chị thử từ khác, "
                "hoặc gõ số điều, ví dụ /luat 90.",
                words=words,
            )
        )
    return Reply(
        ctx.t("Các điều gần nhất với “{words}” (bấm để đọc):", words=words),
        rows(*(article_button(ctx, a) for a in found)),
    )


def usage_reply(ctx: Context) -> Reply:
    text = law_text()
    chapters = sorted({a.chapter for a in text.in_document(LAW)}, key=_roman)
    buttons = [
        Button(
            _label(ctx.t("Chương {n}. {title}", n=n, title=text.chapters[n])),
            f"lawch:LQ:{n}:0",
        )
        for n in chapters
    ]
    return Reply(
        ctx.t(
            "Gõ /luat và số điều của Luật Hợp tác xã 2023 (ví dụ /luat 90), một tham chiếu "
            "(ví dụ /luat khoản 2 điều 90, /luat điều 12 nghị định 92) hoặc vài từ "
            "(ví dụ /luat thừa kế vốn góp). Hoặc chọn một chương:"
        ),
        rows(*buttons),
    )


def _roman(n: str) -> int:
    values = {"I": 1, "V": 5, "X": 10, "L": 50}
    total = 0
    for i, ch in enumerate(n):
        v = values[ch]
        total += -v if i + 1 < len(n) and values[n[i + 1]] > v else v
    return total


def chapter_reply(ctx: Context, doc_key: str, chapter: str, page: int) -> Reply:
    text = law_text()
    sample = next((a for a in text.articles if a.doc_key == doc_key), None)
    if sample is None or chapter not in text.chapters:
        return usage_reply(ctx)
    articles = text.chapter_articles(chapter, sample.doc)
    pages = max(1, -(-len(articles) // CHAPTER_PAGE))
    page = max(0, min(page, pages - 1))
    shown = articles[page * CHAPTER_PAGE : (page + 1) * CHAPTER_PAGE]
    buttons = [
        Button(_label(ctx.t("Điều {num}. {title}", num=a.num, title=a.title)), open_action(a))
        for a in shown
    ]
    if page + 1 < pages:
        buttons.append(Button(ctx.t("Trang sau ▸"), f"lawch:{doc_key}:{chapter}:{page + 1}"))
    doc = text.document_of(sample).name
    if sample.doc == LAW:
        head = ctx.t(
            "{doc}, Chương {n}. {title}:", doc=doc, n=chapter, title=text.chapters[chapter]
        )
    else:
        head = ctx.t(
            "{doc}, các điều Pháp điển xếp vào Chương {n}. {title}:",
            doc=doc,
            n=chapter,
            title=text.chapters[chapter],
        )
    if pages > 1:
        head += " " + ctx.t("trang {i}/{n}", i=page + 1, n=pages)
    return Reply(head, rows(*buttons))


# --- under knowledge-base answers --------------------------------------------------------------


def cited_buttons(ctx: Context, entry: Entry, limit: int = 3) -> list[tuple[Button, ...]]:
    """A "📖 Điều 42" button for each article ``entry`` cites (the first ``limit``)."""
    articles = cited_articles(entry.sources)[:limit]
    if not articles:
        return []
    buttons = []
    for a in articles:
        label = ctx.t("📖 Điều {num}", num=a.num)
        if a.doc != LAW:
            label = "📖 " + article_name(ctx, a)
        buttons.append(Button(label, open_action(a)))
    return [tuple(buttons)]


def with_related_articles(ctx: Context, reply: Reply, question: str, hits: list) -> Reply:  # type: ignore[type-arg]
    """``reply`` (a refusal) with up to three articles that may be related, as buttons to read,
    put before its last row ("Liên hệ cán bộ"). Nothing is added to an out-of-scope reply."""
    if hits and hits[0].entry.scope == "out" and hits[0].score >= 0.5:
        return reply
    found = law_text().related(question, RELATED)
    if not found:
        return reply
    text = (
        reply.text
        + "\n\n"
        + ctx.t("Điều luật có thể liên quan, để anh/chị tự đọc (không phải câu trả lời):")
    )
    law_rows = tuple((article_button(ctx, a),) for a in found)
    buttons = reply.buttons[:-1] + law_rows + reply.buttons[-1:]
    return replace(reply, text=text, buttons=buttons)


def is_reference(text: str) -> bool:
    """Free text that is (nearly) only a reference to an article: "điều 90 luật htx"."""
    return parse_reference(text, whole=True) is not None


async def law_command(ctx: Context, arg: str) -> Reply:
    arg = arg.strip()[:200]
    if not arg:
        return usage_reply(ctx)
    ref = parse_number_or_reference(arg)
    if ref is not None:
        return open_reference(ctx, ref)
    return found_reply(ctx, arg)


async def law_text_reference(ctx: Context, typed: str) -> Reply:
    ref = parse_reference(typed, whole=True)
    if ref is None:  # claimed, so it parses; kept for safety
        return usage_reply(ctx)
    return open_reference(ctx, ref)


def _small(text: str) -> int | None:
    """A page, part or clause number a button carries: ASCII digits, at most 3 ("²" and "٣"
    are digits to ``str.isdigit`` but not to ``int``, or not what a button carries)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else None


async def open_article(ctx: Context, arg: str) -> Reply:
    key, _, rest = arg.partition(":")
    part, _, rest = rest.partition(":")
    clause, _, point = rest.partition(":")
    article = law_text().by_key.get(key)
    if article is None:
        return usage_reply(ctx)
    return article_reply(
        ctx,
        article,
        _small(part) or 0,
        _small(clause),
        {"dd": "đ"}.get(point, point) if point.isalpha() and len(point) <= 2 else None,
    )


async def chapter(ctx: Context, arg: str) -> Reply:
    doc_key, _, rest = arg.partition(":")
    n, _, page = rest.partition(":")
    return chapter_reply(ctx, doc_key, n, _small(page) or 0)


def register(router: Router) -> None:
    router.command(
        "luat", "law", "dieu", description=N_("Đọc điều luật: /luat 90, /luat thừa kế vốn góp")
    )(law_command)
    router.text_claim("law", is_reference)(law_text_reference)  # "điều 90 luật htx" typed
    router.action("law")(open_article)
    router.action("lawch")(chapter)
