"""Staff broadcasts: /thongbao writes a notice (optionally with an event), picks the audience,
shows how many will receive it and a preview, then sends now or at a set time; /huythongbao
stops one. Delivery, progress and the final report are the engine's (db/broadcasts.py).

The draft lives in ``member.flow_data``: flow ``bc_text`` waits for the text, ``bc`` for a
button, ``bc_when`` for the date and time of a scheduled notice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import distinct, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import audit
from db import broadcasts as engine
from db.events import parse_when, upcoming
from db.models import (
    BROADCAST_SCHEDULED,
    BROADCAST_SENDING,
    COOP_KINDS,
    SECTORS,
    Broadcast,
    Cooperative,
    Event,
)
from ground.i18n import N_, Translations, Translator
from ground.messages import Button, Reply, rows
from handlers.context import Context
from handlers.events import event_card, remind_button, when_text
from handlers.router import Router

TEXT_FLOW, CHOICE_FLOW, WHEN_FLOW = "bc_text", "bc", "bc_when"
MAX_TEXT = 3000  # leaves room for the event card within Telegram's 4,096 characters

SECTOR_NAMES = {
    "nong_lam_thuy_san": N_("Nông – lâm – thủy sản"),
    "cong_nghiep_ttcn": N_("Công nghiệp – TTCN"),
    "thuong_mai_dich_vu": N_("Thương mại – dịch vụ"),
    "xay_dung": N_("Xây dựng"),
    "van_tai": N_("Vận tải"),
    "tin_dung": N_("Tín dụng"),
    "khac": N_("Lĩnh vực khác"),
}
KIND_NAMES = {
    "htx": N_("Hợp tác xã"),
    "tht": N_("Tổ hợp tác"),
    "lhhtx": N_("Liên hiệp hợp tác xã"),
}


def recipient_reply(t: Translator, text: str, event: Event | None) -> Reply:
    """The notice as one member receives it (the event card in their language)."""
    if event is None:
        return Reply(text)
    return Reply(text + "\n\n" + event_card(t, event), ((remind_button(t, event, False),),))


async def audience_label(
    session: AsyncSession, t: Translator, audience: str, value: str | None
) -> str:
    if audience == "sector":
        return t.t("lĩnh vực {name}", name=t.t(SECTOR_NAMES.get(value or "", value or "")))
    if audience == "kind":
        return t.t("loại hình {name}", name=t.t(KIND_NAMES.get(value or "", value or "")))
    if audience == "commune":
        stmt = select(Cooperative.commune).where(Cooperative.commune_code == int(value or 0))
        name = (await session.execute(stmt.limit(1))).scalar_one_or_none() or value
        return t.t("HTX ở {name}", name=name)
    if audience == "noreport":
        period = await engine.latest_period(session)
        return t.t("HTX chưa nộp báo cáo tháng {period}", period=period.period if period else "–")
    return t.t("tất cả thành viên")


async def enqueue_recipients(
    session: AsyncSession, broadcast: Broadcast, translations: Translations, now: datetime
) -> int:
    """Create the broadcast's rows for its audience as it is now; mark it sending."""
    event = await session.get(Event, broadcast.event_id) if broadcast.event_id else None
    members = await engine.audience_members(session, broadcast.audience, broadcast.audience_value)
    count = await engine.enqueue_rows(
        session,
        broadcast,
        members,
        lambda m: recipient_reply(translations.get(m.locale), broadcast.text, event),
        now,
    )
    broadcast.status, broadcast.started_at = BROADCAST_SENDING, now
    return count


async def start_due(
    sessions: async_sessionmaker[AsyncSession], translations: Translations, now: datetime
) -> int:
    """Start the scheduled broadcasts whose time has come (each exactly once, even with several
    workers); returns how many started."""
    started = 0
    async with sessions() as session:
        stmt = select(Broadcast.id).where(
            Broadcast.status == BROADCAST_SCHEDULED, Broadcast.scheduled_at <= now
        )
        for bid in list((await session.execute(stmt)).scalars()):
            won = await session.execute(
                update(Broadcast)
                .where(Broadcast.id == bid, Broadcast.status == BROADCAST_SCHEDULED)
                .values(status=BROADCAST_SENDING, started_at=now)
                .execution_options(synchronize_session=False)
            )
            if won.rowcount != 1:  # type: ignore[attr-defined]
                continue
            broadcast = await session.get(Broadcast, bid)
            assert broadcast is not None
            await session.refresh(broadcast)
            await enqueue_recipients(session, broadcast, translations, now)
            started += 1
        await session.commit()
    return started


def _data(ctx: Context) -> dict:  # type: ignore[type-arg]
    return dict(ctx.member.flow_data or {})


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


async def _preview(ctx: Context) -> Reply:
    data = _data(ctx)
    audience, value = data["audience"], data.get("value")
    size = await engine.audience_size(ctx.session, audience, value)
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


async def _latest_active(session: AsyncSession) -> Broadcast | None:
    stmt = (
        select(Broadcast)
        .where(Broadcast.status.in_((BROADCAST_SENDING, BROADCAST_SCHEDULED)))
        .where(Broadcast.finished_at.is_(None))
        .order_by(Broadcast.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def register(router: Router) -> None:
    @router.command("thongbao", "broadcast", description=N_("Gửi thông báo (cán bộ)"), role="staff")
    async def start(ctx: Context, arg: str) -> Reply:
        ctx.start_flow(TEXT_FLOW)
        if arg.strip():
            return await take_text(ctx, arg)
        return Reply(ctx.t("Anh/chị gõ nội dung thông báo (gõ /huy để thôi):"))

    @router.flow(TEXT_FLOW)
    async def take_text(ctx: Context, text: str) -> Reply:
        text = text.strip()
        if not text:
            return Reply(ctx.t("Anh/chị gõ nội dung thông báo bằng chữ (gõ /huy để thôi)."))
        if len(text) > MAX_TEXT:
            return Reply(
                ctx.t(
                    "Thông báo dài {n} ký tự, quá {max}. Anh/chị rút gọn rồi gửi lại.",
                    n=len(text),
                    max=MAX_TEXT,
                )
            )
        ctx.start_flow(CHOICE_FLOW, {"text": text})
        return await _event_choice(ctx)

    @router.flow(CHOICE_FLOW)
    async def typed_during_choice(ctx: Context, _: str) -> Reply:
        return Reply(ctx.t("Anh/chị chọn bằng các nút ở trên, hoặc gõ /huy để thôi."))

    @router.flow(WHEN_FLOW)
    async def take_when(ctx: Context, text: str) -> Reply:
        when = parse_when(text, ctx.translator.tz)
        if when is None:
            return Reply(
                ctx.t(
                    "Chưa hiểu thời điểm “{text}”. Gõ ngày giờ như 20/11/2026 08:00 "
                    "(gõ /huy để thôi).",
                    text=text.strip(),
                )
            )
        if when <= ctx.clock():
            return Reply(ctx.t("Thời điểm này đã qua. Anh/chị gõ một thời điểm sắp tới:"))
        data = _data(ctx)
        broadcast = _new(ctx, data, BROADCAST_SCHEDULED)
        broadcast.scheduled_at = when
        ctx.session.add(broadcast)
        await ctx.session.flush()
        audit.record(ctx.session, audit.actor_of(ctx.member), "broadcast_scheduled", ctx.clock(),
                     f"broadcast:{broadcast.id}", {"at": when.isoformat()})  # fmt: skip
        ctx.end_flow()
        return Reply(
            ctx.t(
                "Đã hẹn gửi thông báo #{id} lúc {when}. Gõ /huythongbao để huỷ.",
                id=broadcast.id,
                when=when_text(ctx.translator, when),
            )
        )

    def _new(ctx: Context, data: dict, status: str) -> Broadcast:  # type: ignore[type-arg]
        return Broadcast(
            text=data["text"],
            event_id=data.get("event") or None,
            audience=data["audience"],
            audience_value=data.get("value"),
            status=status,
            created_by=ctx.member.id,
            created_at=ctx.clock(),
            total=0,
        )

    @router.action("bc", role="staff")
    async def button(ctx: Context, arg: str) -> Reply:
        kind, _, rest = arg.partition(":")
        data = _data(ctx)
        if ctx.member.flow not in (CHOICE_FLOW, WHEN_FLOW) or "text" not in data:
            return Reply(ctx.t("Bản nháp thông báo này đã đóng. Gõ /thongbao để soạn mới."))
        if kind == "ev":
            data["event"] = int(rest) if rest.isdigit() and int(rest) else None
            ctx.member.flow_data = data
            return _audience_choice(ctx)
        if kind == "aud":
            return await _sub_choice(ctx, rest)
        if kind == "to":
            audience, _, value = rest.partition(":")
            if audience not in engine.AUDIENCES:
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
            now = ctx.clock()
            broadcast = _new(ctx, data, BROADCAST_SENDING)
            ctx.session.add(broadcast)
            await ctx.session.flush()
            count = await enqueue_recipients(ctx.session, broadcast, ctx.translations, now)
            audit.record(ctx.session, audit.actor_of(ctx.member), "broadcast_sent", now,
                         f"broadcast:{broadcast.id}", {"recipients": count})  # fmt: skip
            ctx.end_flow()
            return Reply(
                ctx.t(
                    "Bắt đầu gửi thông báo #{id} cho {n} người. Tiến độ hiện ở tin nhắn sau; "
                    "gõ /huythongbao để dừng.",
                    id=broadcast.id,
                    n=ctx.translator.number(count),
                ),
                edit=True,
            )
        return _audience_choice(ctx)

    async def _sub_choice(ctx: Context, what: str) -> Reply:
        t = ctx.translator
        if what == "sector":
            buttons = [Button(t.t(SECTOR_NAMES[s]), f"bc:to:sector:{s}") for s in SECTORS]
            return Reply(ctx.t("Lĩnh vực nào?"), rows(*buttons, per_row=2))
        if what == "kind":
            buttons = [Button(t.t(KIND_NAMES[k]), f"bc:to:kind:{k}") for k in COOP_KINDS]
            return Reply(ctx.t("Loại hình nào?"), rows(*buttons))
        if what == "commune":
            stmt = (
                select(distinct(Cooperative.commune_code), Cooperative.commune)
                .where(Cooperative.status == "active")
                .order_by(Cooperative.commune)
                .limit(40)
            )
            found = (await ctx.session.execute(stmt)).all()
            if not found:
                return Reply(
                    ctx.t("Chưa có HTX nào trong danh sách."), _audience_choice(ctx).buttons
                )
            buttons = [Button(name, f"bc:to:commune:{code}") for code, name in found]
            return Reply(ctx.t("Xã/phường nào?"), rows(*buttons, per_row=2))
        return _audience_choice(ctx)

    @router.command(
        "huythongbao", "stopbroadcast", description=N_("Dừng thông báo đang gửi (cán bộ)"),
        role="staff",
    )  # fmt: skip
    async def stop(ctx: Context, arg: str) -> Reply:
        arg = arg.strip().lstrip("#")
        if arg.isdigit():
            broadcast = await ctx.session.get(Broadcast, int(arg))
        else:
            broadcast = await _latest_active(ctx.session)
        if (
            broadcast is None
            or broadcast.finished_at is not None
            or broadcast.status
            not in (
                BROADCAST_SENDING,
                BROADCAST_SCHEDULED,
            )
        ):
            return Reply(ctx.t("Không có thông báo nào đang gửi hoặc đang hẹn giờ."))
        now = ctx.clock()
        was_scheduled = broadcast.status == BROADCAST_SCHEDULED
        skipped = await engine.cancel(ctx.session, broadcast, now)
        audit.record(ctx.session, audit.actor_of(ctx.member), "broadcast_cancelled", now,
                     f"broadcast:{broadcast.id}", {"skipped": skipped})  # fmt: skip
        if was_scheduled:
            broadcast.finished_at = now
            return Reply(ctx.t("Đã huỷ thông báo hẹn giờ #{id}.", id=broadcast.id))
        return Reply(
            ctx.t(
                "Đã dừng thông báo #{id}: {n} người chưa gửi sẽ không nhận. "
                "Báo cáo cuối sẽ gửi khi các tin đang gửi xong.",
                id=broadcast.id,
                n=ctx.translator.number(skipped),
            )
        )
