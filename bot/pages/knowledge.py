"""Kho tri thức: find entries (words or id, topic, not reviewed for 12 months, many 👎,
flagged after a shipped update), edit a draft with a preview as the member sees it on Telegram
and on Zalo, try a question on the draft, publish with the check results, history with roll
back; from the unanswered queue and closed tickets, a variant or a new entry in one click.
Everything through operations/knowledge_edit.py and knowledge_sync.py (staff, audited)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.channels.telegram.render import to_html
from bot.channels.zalo.render import render_buttons, render_messages
from bot.pages.base import PREFIX, Console, Page, staff_page
from ground.messages import Button, Reply
from handlers.qa import render_entry
from knowledge import drafts
from knowledge.base import KnowledgeStore
from knowledge.entries import Entry
from operations import knowledge_edit as ked
from operations import knowledge_sync as ksync
from operations.rights import NotPossible

BASE = PREFIX + "/kb"


def _kb(page: Page) -> KnowledgeStore:
    kb = page.console.kb
    if kb is None:  # the console is always built with the app's store
        raise NotPossible(ked.NOT_FOUND, id="")
    return kb


async def listing(page: Page) -> Response:
    flags = {k: page.query(k) == "1" for k in ("cu", "che", "co")}
    found = await ksync.listing(page.session, page.actor, _kb(page), page.now, page.query("q"),
                                page.query("chude"), stale=flags["cu"], disliked=flags["che"],
                                flagged=flags["co"])  # fmt: skip
    topics = sorted({tag for e in _kb(page).entries.values() for tag in e.tags})
    marked = await ked.marked_tickets(page.session, page.actor)
    return page.render("kb.html", found=found[:200], total=len(found), topics=topics, marked=marked,
                       q=page.query("q"), topic=page.query("chude"), flags=flags)  # fmt: skip


def _preview(page: Page, entry: Entry, kb: KnowledgeStore) -> dict[str, Any]:
    """The answer as the member gets it: Telegram (HTML, buttons) and Zalo (plain text,
    numbered choices, split at 2,000 characters)."""
    t = page.t
    text = render_entry(t, entry) + "\n\n" + t.t("Có hữu ích không?")
    rows: list[tuple[Button, ...]] = [(Button("👍", "fb:up:0"), Button("👎", "fb:dn:0"))]
    for f in (kb.get(i) for i in entry.followups):
        if f is not None:
            rows.append((Button(f.title_in(t.locale), f"kb:{f.id}"),))
    reply = Reply(text, tuple(rows))
    return {"telegram": to_html(text), "buttons": [[b.label for b in r] for r in rows],
            "zalo": render_messages(text, render_buttons(reply, t))}  # fmt: skip


async def _edit(page: Page, entry_id: str, **extra: Any) -> Response:
    kb = _kb(page)
    row, history = await ked.view(page.session, page.actor, kb, entry_id, page.now)
    shown = row.draft or row.data or {}
    entry, problems = drafts.parse(shown, row.file)
    preview = _preview(page, entry, kb) if entry else None
    en = shown.get("en") or {}
    return page.render("kb_edit.html", row=row, d=shown, en=en, history=history,
                       problems=extra.pop("problems", problems), preview=preview,
                       **extra)  # fmt: skip


def _id(page: Page) -> str:
    return str(page.request.path_params["id"])[:120]


async def edit(page: Page) -> Response:
    return await _edit(page, _id(page))


async def save(page: Page) -> Response:
    form = page.form or {}
    fields = {k: page.arg(k) for k in ked.FIELDS if k in form}  # a field not sent stays as it is
    row, problems = await ked.save_draft(page.session, page.actor, _kb(page), _id(page), fields,
                                         page.now)  # fmt: skip
    notice = page.t.t("Đã lưu bản nháp.")
    return await _edit(page, row.entry_id, notice=notice, problems=problems)


async def try_it(page: Page) -> Response:
    tried = await ked.try_question(page.session, page.actor, _kb(page), _id(page),
                                   page.arg("question"), page.now, page.t.locale)  # fmt: skip
    return await _edit(page, _id(page), tried=tried)


async def publish(page: Page) -> Response:
    done = await ked.publish(page.session, page.actor, _kb(page), _id(page), page.now,
                             on_purpose=page.arg("on_purpose") == "1")  # fmt: skip
    t = page.t
    notice = (t.t("Đã đăng phiên bản {number}. Trợ lý dùng câu trả lời mới trong vài giây.",
                  number=done.version) if done.published
              else t.t("Chưa đăng."))  # fmt: skip
    return await _edit(page, _id(page), notice=notice, published=done,
                       **({"problems": done.problems} if done.problems else {}))  # fmt: skip


async def rollback(page: Page) -> Response:
    number = page.arg("number")
    if not number.isdigit() or len(number) > 9:
        raise NotPossible(ked.NO_VERSION, id=_id(page), number=number[:10])
    done = await ked.rollback(page.session, page.actor, _kb(page), _id(page), int(number),
                              page.now)  # fmt: skip
    notice = (page.t.t("Đã quay lại nội dung phiên bản {old} (thành phiên bản {number}).",
                       old=number, number=done.version) if done.published
              else page.t.t("Chưa đăng."))  # fmt: skip
    return await _edit(page, _id(page), notice=notice, published=done)


async def save_question(page: Page) -> Response:
    await ked.save_question(page.session, page.actor, page.arg("question"), _id(page), page.now)
    notice = page.t.t("Đã lưu câu hỏi: trước mỗi lần đăng, trợ lý kiểm tra câu này vẫn đúng.")
    return await _edit(page, _id(page), notice=notice)


async def take_shipped(page: Page) -> Response:
    await ked.take_shipped(page.session, page.actor, _kb(page), _id(page), page.now)
    notice = page.t.t("Bản gốc mới đã thành bản nháp: so sánh, sửa nếu cần, rồi đăng.")
    return await _edit(page, _id(page), notice=notice)


async def variant(page: Page) -> Response:
    row = await ked.add_variant(page.session, page.actor, _kb(page), page.arg("entry"),
                                page.arg("question"), page.now)  # fmt: skip
    notice = page.t.t("Đã thêm câu hỏi vào bản nháp của mục {id}. Kiểm tra rồi đăng.",
                      id=row.entry_id)  # fmt: skip
    return await _edit(page, row.entry_id, notice=notice)


async def new(page: Page) -> Response:
    row = await ked.new_entry(page.session, page.actor, _kb(page), page.arg("question"), page.now)
    notice = page.t.t("Đã tạo mục mới {id}. Viết câu trả lời, nguồn và bản tiếng Anh rồi đăng.",
                      id=row.entry_id)  # fmt: skip
    return await _edit(page, row.entry_id, notice=notice)


async def from_ticket(page: Page) -> Response:
    raw = str(page.request.path_params["id"])
    if not raw.isdigit() or len(raw) > 9:
        raise NotPossible(ked.TICKET_NOT_MARKED, id=raw[:10])
    row = await ked.from_ticket(page.session, page.actor, _kb(page), int(raw), page.now)
    notice = page.t.t("Đã tạo bản nháp từ yêu cầu #{id}.", id=raw)
    return await _edit(page, row.entry_id, notice=notice)


def routes(console: Console) -> list[BaseRoute]:
    one = BASE + "/e/{id}"
    return [
        Route(BASE, staff_page(console, listing), methods=["GET"]),
        Route(BASE + "/variant", staff_page(console, variant), methods=["POST"]),
        Route(BASE + "/new", staff_page(console, new), methods=["POST"]),
        Route(BASE + "/ticket/{id}", staff_page(console, from_ticket), methods=["POST"]),
        Route(one, staff_page(console, edit), methods=["GET"]),
        Route(one, staff_page(console, save), methods=["POST"]),
        Route(one + "/try", staff_page(console, try_it), methods=["POST"]),
        Route(one + "/publish", staff_page(console, publish), methods=["POST"]),
        Route(one + "/rollback", staff_page(console, rollback), methods=["POST"]),
        Route(one + "/question", staff_page(console, save_question), methods=["POST"]),
        Route(one + "/shipped", staff_page(console, take_shipped), methods=["POST"]),
    ]
