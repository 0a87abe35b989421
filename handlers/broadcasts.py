"""Staff broadcasts in chat: /thongbao writes a notice (optionally with an event), picks the
audience, shows how many will receive it and a preview, then sends now or at a set time;
/huythongbao stops one after staff confirm which. What is done is the operations'
(operations/broadcasts.py), which check rights at every step; delivery, progress and the
final report are the engine's (bot/channels/delivery.py).

The draft lives in ``member.flow_data``: flow ``bc_text`` waits for the text, ``bc`` for a
button, ``bc_when`` for the date and time of a scheduled notice.
"""

from __future__ import annotations

from db.broadcasts import commune_names
from db.events import parse_when, upcoming
from db.models import COOP_KINDS, SECTORS, Broadcast, Event
from ground.i18n import N_
from ground.messages import Button, Reply, rows
from handlers.context import Context
from handlers.router import Router, id_of
from operations import broadcasts as ops
from operations.broadcast_texts import KIND_NAMES, SECTOR_NAMES, audience_label, recipient_reply
from operations.event_texts import when_text
from operations.rights import Actor, OperationError, Refused, require_staff

TEXT_FLOW, CHOICE_FLOW, WHEN_FLOW = "bc_text", "bc", "bc_when"
CLOSED = N_("Bản nháp thông báo này đã đóng. Gõ /thongbao để soạn mới.")


def _data(ctx: Context) -> dict:  # type: ignore[type-arg]
    return dict(ctx.member.flow_data or {})


def _draft(data: dict) -> ops.Draft:  # type: ignore[type-arg]
    return ops.Draft(data["text"], data["audience"], data.get("value"), data.get("event"))


def _failed(ctx: Context, exc: OperationError) -> Reply:
    """An operation said no: a refusal ends the draft; other problems keep it."""
    if isinstance(exc, Refused):
        ctx.end_flow()
        return Reply(ctx.t("Anh/chị không còn quyền cán bộ nên không gửi được thông báo."))
    return Reply(ctx.t(exc.message, **exc.values))


def _audience_choice(ctx: Context) -> Reply:
    return Reply(
        ctx.t("Gửi cho ai?"),
        rows(
            Button(ctx.t("Tất cả thành viên"), "bc:to:all"),
            Button(ctx.t("Theo lĩnh vực"), "bc:aud:sector"),
            Button(ctx.t("Theo xã/phường"), "bc:aud:commune"),
            Button(ctx.t("Theo loại hình"), "bc:aud:kind"),
            Button(ctx.t("HTX chưa nộp báo cáo tháng"), "bc:to:noreport"),
        ),
    )


async def _event_choice(ctx: Context) -> Reply:
    events = await upcoming(ctx.session, ctx.clock(), ctx.translator.tz, limit=5)
    if not events:
        return _audience_choice(ctx)
    buttons = [
        Button(f"{e.title[:40]} ({when_text(ctx.translator, e.starts_at)})", f"bc:ev:{e.id}")
        for e in events
    ]
    buttons.append(Button(ctx.t("Không kèm sự kiện"), "bc:ev:0"))
    return Reply(ctx.t("Kèm thông tin một sự kiện (có nút “nhắc tôi”)?"), rows(*buttons))


async def _sub_choice(ctx: Context, what: str) -> Reply:
    t = ctx.translator
    if what == "sector":
        buttons = [Button(t.t(SECTOR_NAMES[s]), f"bc:to:sector:{s}") for s in SECTORS]
        return Reply(ctx.t("Lĩnh vực nào?"), rows(*buttons, per_row=2))
    if what == "kind":
        buttons = [Button(t.t(KIND_NAMES[k]), f"bc:to:kind:{k}") for k in COOP_KINDS]
        return Reply(ctx.t("Loại hình nào?"), rows(*buttons))
    if what == "commune":
        found = await commune_names(ctx.session)
        if not found:
            return Reply(ctx.t("Chưa có HTX nào trong danh sách."), _audience_choice(ctx).buttons)
        buttons = [Button(name, f"bc:to:commune:{code}") for code, name in found]
        return Reply(ctx.t("Xã/phường nào?"), rows(*buttons, per_row=2))
    return _audience_choice(ctx)


async def _preview(ctx: Context) -> Reply:
    data = _data(ctx)
    audience, value = data["audience"], data.get("value")
    size = await ops.count_audience(ctx.session, Actor.of(ctx.member), audience, value)
    event = await ctx.session.get(Event, data["event"]) if data.get("event") else None
    label = await audience_label(ctx.session, ctx.translator, audience, value)
    text = ctx.t(
        "Người nhận ({audience}): {n}.", audience=label, n=ctx.translator.number(size.recipients)
    )
    if size.opted_out or size.unreachable:
        text += " " + ctx.t(
            "Không gửi cho {opted} người đã tắt thông báo và {blocked} người đã chặn trợ lý.",
            opted=ctx.translator.number(size.opted_out),
            blocked=ctx.translator.number(size.unreachable),
        )
    preview = recipient_reply(ctx.translator, data["text"], event)
    buttons = (
        (Button(ctx.t("Gửi ngay"), "bc:send"), Button(ctx.t("Hẹn giờ gửi"), "bc:sched")),
        (Button(ctx.t("Huỷ"), "bc:drop"),),
    )
    return Reply(text + "\n" + ctx.t("Xem trước:") + "\n\n" + preview.text, buttons)


# --- /thongbao ---------------------------------------------------------------------------


async def start(ctx: Context, arg: str) -> Reply:
    ctx.start_flow(TEXT_FLOW)
    if arg.strip():
        return await take_text(ctx, arg)
    return Reply(ctx.t("Anh/chị gõ nội dung thông báo (gõ /huy để thôi):"))


async def take_text(ctx: Context, text: str) -> Reply:
    try:
        await require_staff(ctx.session, Actor.of(ctx.member))
        text = ops.check_text(text)
    except OperationError as exc:
        return _failed(ctx, exc)
    ctx.start_flow(CHOICE_FLOW, {"text": text})
    return await _event_choice(ctx)


async def typed_during_choice(ctx: Context, _: str) -> Reply:
    try:
        await require_staff(ctx.session, Actor.of(ctx.member))
    except Refused as exc:
        return _failed(ctx, exc)
    return Reply(ctx.t("Anh/chị chọn bằng các nút ở trên, hoặc gõ /huy để thôi."))


async def take_when(ctx: Context, text: str) -> Reply:
    when = parse_when(text, ctx.translator.tz)
    if when is None:
        return Reply(
            ctx.t(
                "Chưa hiểu thời điểm “{text}”. Gõ ngày giờ như 20/11/2026 08:00 (gõ /huy để thôi).",
                text=text.strip(),
            )
        )
    data = _data(ctx)
    if "audience" not in data:
        ctx.end_flow()
        return Reply(ctx.t(CLOSED))
    try:
        broadcast = await ops.start_broadcast(ctx.session, Actor.of(ctx.member), _draft(data),
                                              ctx.translations, ctx.clock(), at=when)  # fmt: skip
    except OperationError as exc:
        return _failed(ctx, exc)
    ctx.end_flow()
    return Reply(
        ctx.t(
            "Đã hẹn gửi thông báo #{id} lúc {when}. Gõ /huythongbao để huỷ.",
            id=broadcast.id,
            when=when_text(ctx.translator, when),
        )
    )


async def button(ctx: Context, arg: str) -> Reply:
    """Every ``bc:`` button; the router let staff through, the operations check again."""
    kind, _, rest = arg.partition(":")
    if kind in ("stop", "keep"):
        return await _stop_button(ctx, kind, rest)
    data = _data(ctx)
    if ctx.member.flow not in (CHOICE_FLOW, WHEN_FLOW) or "text" not in data:
        return Reply(ctx.t(CLOSED))
    try:
        return await _draft_button(ctx, kind, rest, data)
    except OperationError as exc:
        return _failed(ctx, exc)


async def _draft_button(ctx: Context, kind: str, rest: str, data: dict) -> Reply:  # type: ignore[type-arg]
    actor = Actor.of(ctx.member)
    await require_staff(ctx.session, actor)
    if kind == "ev":
        event_id = id_of(rest) or None
        if event_id is not None and await ctx.session.get(Event, event_id) is None:
            return await _event_choice(ctx)
        data["event"] = event_id
        ctx.member.flow_data = data
        return _audience_choice(ctx)
    if kind == "aud":
        return await _sub_choice(ctx, rest)
    if kind == "to":
        audience, _, value = rest.partition(":")
        try:
            ops.check_audience(audience, value or None)
        except OperationError:
            return _audience_choice(ctx)
        data["audience"], data["value"] = audience, value or None
        ctx.start_flow(CHOICE_FLOW, data)
        return await _preview(ctx)
    if "audience" not in data:
        return _audience_choice(ctx)
    if kind == "drop":
        ctx.end_flow()
        return Reply(ctx.t("Đã huỷ, không gửi thông báo."), edit=True)
    if kind == "sched":
        ctx.start_flow(WHEN_FLOW, data)
        return Reply(ctx.t("Gửi lúc nào? Gõ ngày giờ như 20/11/2026 08:00:"))
    if kind == "send":
        broadcast = await ops.start_broadcast(
            ctx.session, actor, _draft(data), ctx.translations, ctx.clock()
        )
        ctx.end_flow()
        return Reply(
            ctx.t(
                "Bắt đầu gửi thông báo #{id} cho {n} người. Tiến độ hiện ở tin nhắn sau; "
                "gõ /huythongbao để dừng.",
                id=broadcast.id,
                n=ctx.translator.number(broadcast.total),
            ),
            edit=True,
        )
    return _audience_choice(ctx)


# --- /huythongbao ------------------------------------------------------------------------


def _describe(ctx: Context, broadcast: Broadcast) -> str:
    excerpt = broadcast.text if len(broadcast.text) <= 80 else broadcast.text[:79] + "…"
    if broadcast.scheduled_at is not None and broadcast.started_at is None:
        return ctx.t(
            "Thông báo #{id} hẹn gửi lúc {when}: “{text}”",
            id=broadcast.id,
            when=when_text(ctx.translator, broadcast.scheduled_at),
            text=excerpt,
        )
    return ctx.t(
        "Thông báo #{id} đang gửi cho {n} người: “{text}”",
        id=broadcast.id,
        n=ctx.translator.number(broadcast.total),
        text=excerpt,
    )


async def stop(ctx: Context, arg: str) -> Reply:
    """Show which broadcast would stop and ask to confirm (it changes what many receive)."""
    arg = arg.strip().lstrip("#").strip()
    if arg and id_of(arg) is None:
        return Reply(
            ctx.t(
                "“{arg}” không phải số thông báo. Gõ /huythongbao để dừng thông báo mới nhất, "
                "hoặc /huythongbao 12 để dừng thông báo #12.",
                arg=arg[:40],
            )
        )
    try:
        broadcast = await ops.find_active(
            ctx.session, Actor.of(ctx.member), id_of(arg) if arg else None
        )
    except OperationError as exc:
        return _failed(ctx, exc)
    if broadcast is None:
        if arg:
            return Reply(ctx.t("Không có thông báo #{id} đang gửi hoặc đang hẹn giờ.", id=arg))
        return Reply(ctx.t("Không có thông báo nào đang gửi hoặc đang hẹn giờ."))
    return Reply(
        _describe(ctx, broadcast) + "\n" + ctx.t("Dừng thông báo này?"),
        (
            (
                Button(ctx.t("Dừng thông báo #{id}", id=broadcast.id), f"bc:stop:{broadcast.id}"),
                Button(ctx.t("Không dừng"), "bc:keep"),
            ),
        ),
    )


async def _stop_button(ctx: Context, kind: str, rest: str) -> Reply:
    if kind == "keep":
        return Reply(ctx.t("Không dừng: thông báo vẫn gửi như cũ."), edit=True)
    if id_of(rest) is None:
        return Reply(ctx.t("Không có thông báo nào đang gửi hoặc đang hẹn giờ."))
    try:
        done = await ops.cancel_broadcast(
            ctx.session, Actor.of(ctx.member), id_of(rest) or 0, ctx.clock()
        )
    except Refused:
        return Reply(ctx.t("Anh/chị không còn quyền cán bộ nên không dừng được thông báo."))
    except OperationError as exc:
        return Reply(ctx.t(exc.message, **exc.values), edit=True)
    if done.was_scheduled:
        return Reply(ctx.t("Đã huỷ thông báo hẹn giờ #{id}.", id=done.broadcast.id), edit=True)
    return Reply(
        ctx.t(
            "Đã dừng thông báo #{id}: {n} người chưa gửi sẽ không nhận. "
            "Báo cáo cuối sẽ gửi khi các tin đang gửi xong.",
            id=done.broadcast.id,
            n=ctx.translator.number(done.skipped),
        ),
        edit=True,
    )


def register(router: Router) -> None:
    router.command("thongbao", "broadcast", description=N_("Gửi thông báo (cán bộ)"),
                   role="staff")(start)  # fmt: skip
    router.flow(TEXT_FLOW)(take_text)
    router.flow(CHOICE_FLOW)(typed_during_choice)
    router.flow(WHEN_FLOW)(take_when)
    router.action("bc", role="staff")(button)
    router.command("huythongbao", "stopbroadcast",
                   description=N_("Dừng thông báo đang gửi (cán bộ)"), role="staff")(stop)  # fmt: skip
