"""Members and their cooperatives: linking (/dangky), approvals, roles, privacy.

- /dangky: the member names their cooperative (code or name, fuzzy), their role in it and a
  phone number. A phone that matches the cooperative's registered phone approves the link at
  once; otherwise staff are notified and approve or refuse with buttons.
- /hoptacxa: the member's own cooperative, and nothing of anyone else's.
- /duyet (staff): links waiting for approval. /quyen (admin): grant and remove staff.
- /xoadulieu: the member erases their personal data after confirming.
Every staff action is written to the audit log.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import audit, outbox
from db.models import (
    COOP_ROLES,
    LINK_APPROVED,
    LINK_PENDING,
    LINK_REFUSED,
    ROLE_ADMIN,
    ROLE_MEMBER,
    ROLE_STAFF,
    Cooperative,
    Member,
)
from ground.i18n import N_, Translator
from ground.messages import Button, Reply, rows
from handlers.context import Context
from handlers.router import Router
from knowledge.normalize import fold
from knowledge.phone import mask_phone, normalize_phone

FLOW = "link"
ROLE_LABELS = {
    "manager": N_("Chủ tịch / Giám đốc"),
    "accountant": N_("Kế toán"),
    "member": N_("Thành viên"),
}


async def find_cooperatives(session: AsyncSession, text: str, limit: int = 5) -> list[Cooperative]:
    """Cooperatives whose code is ``text``, or whose name is close to it."""
    from rapidfuzz import fuzz, process

    text = text.strip()
    coops = list(
        (
            await session.execute(select(Cooperative).where(Cooperative.status != "dissolved"))
        ).scalars()
    )
    exact = [c for c in coops if c.code.lower() == text.lower()]
    if exact:
        return exact
    query = fold(text)
    names = {c.id: fold(c.name).replace("(demo)", "") for c in coops}
    found = process.extract(query, names, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
    by_id = {c.id: c for c in coops}
    return [by_id[key] for _, _, key in found]


def role_label(t: Translator, role: str | None) -> str:
    return t.t(ROLE_LABELS[role]) if role in ROLE_LABELS else "–"


async def staff_members(session: AsyncSession) -> list[Member]:
    stmt = select(Member).where(Member.role.in_((ROLE_STAFF, ROLE_ADMIN)))
    return list((await session.execute(stmt)).scalars())


def approval_request(t: Translator, member: Member, coop: Cooperative) -> Reply:
    return Reply(
        t.t(
            "Yêu cầu liên kết tài khoản:\n• Người gửi: {name} ({channel})\n• Hợp tác xã: {coop} "
            "(mã số {code})\n• Vai trò: {role}\n• Điện thoại: {phone}\n"
            "Số điện thoại không khớp số đã đăng ký của HTX, cần cán bộ duyệt.",
            name=member.display_name or "–",
            channel=member.channel,
            coop=coop.name,
            code=coop.code,
            role=role_label(t, member.coop_role),
            phone=mask_phone(member.phone),
        ),
        (
            (
                Button(t.t("Duyệt"), f"lk:ok:{member.id}"),
                Button(t.t("Từ chối"), f"lk:no:{member.id}"),
            ),
        ),
    )


def register(router: Router) -> None:
    @router.command("dangky", "register", description=N_("Liên kết tài khoản với HTX"))
    async def start_link(ctx: Context, arg: str) -> Reply | list[Reply]:
        ctx.start_flow(FLOW, {"step": "coop"})
        intro = ""
        m = ctx.member
        if m.cooperative_id and m.link_status in (LINK_APPROVED, LINK_PENDING):
            coop = await ctx.session.get(Cooperative, m.cooperative_id)
            if coop:
                intro = (
                    (
                        ctx.t("Anh/chị đang liên kết với {coop}.", coop=coop.name)
                        if m.link_status == LINK_APPROVED
                        else ctx.t(
                            "Yêu cầu liên kết với {coop} đang chờ cán bộ duyệt.", coop=coop.name
                        )
                    )
                    + " "
                    + ctx.t("Muốn đổi thì làm tiếp; gõ /huy để giữ nguyên.")
                    + "\n\n"
                )
        if arg:
            return await choose_coop(ctx, arg)
        return Reply(
            intro
            + ctx.t(
                "Anh/chị gõ mã số hoặc tên hợp tác xã của mình "
                "(ví dụ: “HTX Chè Suối Giàng” hoặc mã số trên giấy chứng nhận)."
            )
        )

    @router.flow(FLOW)
    async def link_text(ctx: Context, text: str) -> Reply | list[Reply]:
        step = (ctx.member.flow_data or {}).get("step")
        if step == "phone":
            return await take_phone(ctx, text)
        if step == "role":
            return ask_role(ctx)
        return await choose_coop(ctx, text)

    async def choose_coop(ctx: Context, text: str) -> Reply:
        if not text.strip():
            return Reply(ctx.t("Anh/chị gõ mã số hoặc tên hợp tác xã."))
        found = await find_cooperatives(ctx.session, text)
        if not found:
            return Reply(
                ctx.t(
                    "Tôi không tìm thấy hợp tác xã nào giống “{text}”. Anh/chị gõ lại tên "
                    "(không cần dấu) hoặc mã số; nếu HTX chưa có trong danh sách, gõ /lienhe.",
                    text=text.strip()[:80],
                )
            )
        buttons = [Button(f"{c.name} · {c.commune}", f"lk:c:{c.id}") for c in found]
        buttons.append(Button(ctx.t("Không có HTX của tôi"), "contact:"))
        return Reply(ctx.t("Anh/chị chọn đúng hợp tác xã của mình:"), rows(*buttons))

    def ask_role(ctx: Context) -> Reply:
        buttons = [Button(ctx.t(ROLE_LABELS[r]), f"lk:r:{r}") for r in COOP_ROLES]
        return Reply(ctx.t("Anh/chị giữ vai trò gì trong hợp tác xã?"), rows(*buttons))

    def ask_phone(ctx: Context) -> Reply:
        return Reply(
            ctx.t(
                "Anh/chị gõ số điện thoại của mình (ví dụ 0912 345 678). Nếu trùng số đã đăng "
                "ký của HTX, liên kết được duyệt ngay; nếu không, cán bộ sẽ duyệt."
            ),
            contact_button=ctx.t("Gửi số điện thoại của tôi"),
        )

    @router.action("lk")
    async def link_button(ctx: Context, arg: str) -> Reply | list[Reply]:
        kind, _, value = arg.partition(":")
        if kind in ("ok", "no"):
            return await decide(ctx, kind == "ok", value)
        data = dict(ctx.member.flow_data or {})
        if ctx.member.flow != FLOW:
            return Reply(ctx.t("Yêu cầu này đã hết hạn. Gõ /dangky để bắt đầu lại."))
        if kind == "c" and value.isdigit() and await ctx.session.get(Cooperative, int(value)):
            data.update(step="role", coop_id=int(value))
            ctx.member.flow_data = data
            return ask_role(ctx)
        if kind == "r" and value in COOP_ROLES and data.get("coop_id"):
            data.update(step="phone", role=value)
            ctx.member.flow_data = data
            return ask_phone(ctx)
        return Reply(ctx.t("Yêu cầu này đã hết hạn. Gõ /dangky để bắt đầu lại."))

    async def take_phone(ctx: Context, text: str) -> Reply | list[Reply]:
        phone = normalize_phone(text)
        if phone is None:
            return Reply(
                ctx.t(
                    "Số điện thoại chưa đúng. Anh/chị gõ 10 chữ số, ví dụ 0912 345 678 "
                    "(hoặc +84 912 345 678)."
                ),
                contact_button=ctx.t("Gửi số điện thoại của tôi"),
            )
        data = ctx.member.flow_data or {}
        coop = await ctx.session.get(Cooperative, data.get("coop_id") or 0)
        if coop is None:
            ctx.end_flow()
            return Reply(ctx.t("Yêu cầu này đã hết hạn. Gõ /dangky để bắt đầu lại."))
        m = ctx.member
        m.phone, m.cooperative_id, m.coop_role = phone, coop.id, data.get("role", "member")
        ctx.end_flow()
        now = ctx.clock()
        if coop.phone and coop.phone == phone:
            m.link_status = LINK_APPROVED
            audit.record(ctx.session, "system", "link_approved_by_phone", now, f"member:{m.id}",
                         {"cooperative": coop.code})  # fmt: skip
            return Reply(
                ctx.t(
                    "Đã liên kết tài khoản với {coop} (số điện thoại khớp số đã đăng ký). "
                    "Gõ /hoptacxa để xem thông tin.",
                    coop=coop.name,
                )
            )
        m.link_status = LINK_PENDING
        staff = await staff_members(ctx.session)
        for person in staff:
            t = ctx.translations.get(person.locale)
            outbox.enqueue(ctx.session, person, approval_request(t, m, coop), now)
        return Reply(
            ctx.t(
                "Đã gửi yêu cầu liên kết với {coop}. Số điện thoại chưa khớp số đã đăng ký "
                "của HTX nên cán bộ sẽ duyệt; tôi sẽ báo anh/chị kết quả tại đây.",
                coop=coop.name,
            )
        )

    async def decide(ctx: Context, approve: bool, member_id: str) -> Reply:
        if not ctx.is_staff:
            return Reply(ctx.t("Nút này chỉ dành cho cán bộ Liên minh HTX."))
        target = await ctx.session.get(Member, int(member_id)) if member_id.isdigit() else None
        if target is None:
            return Reply(ctx.t("Không tìm thấy yêu cầu này (người gửi có thể đã xoá dữ liệu)."))
        coop = await ctx.session.get(Cooperative, target.cooperative_id or 0)
        if target.link_status != LINK_PENDING or coop is None:
            return Reply(ctx.t("Yêu cầu này đã được xử lý rồi."))
        now = ctx.clock()
        target.link_status = LINK_APPROVED if approve else LINK_REFUSED
        if not approve:
            target.cooperative_id, target.coop_role = None, None
        audit.record(
            ctx.session,
            audit.actor_of(ctx.member),
            "link_approved" if approve else "link_refused",
            now,
            f"member:{target.id}",
            {"cooperative": coop.code},
        )
        t = ctx.translations.get(target.locale)
        outcome = (
            t.t("Cán bộ đã duyệt: tài khoản của anh/chị đã liên kết với {coop}.", coop=coop.name)
            if approve
            else t.t(
                "Cán bộ chưa duyệt yêu cầu liên kết với {coop}. Nếu cần, gõ /lienhe để hỏi "
                "lý do hoặc /dangky để gửi lại.",
                coop=coop.name,
            )
        )
        outbox.enqueue(ctx.session, target, Reply(outcome), now)
        return Reply(
            ctx.t("Đã duyệt liên kết của {name} với {coop}.", name=target.display_name or "–",
                  coop=coop.name)
            if approve
            else ctx.t("Đã từ chối liên kết của {name} với {coop}.",
                       name=target.display_name or "–", coop=coop.name),
            edit=True,
        )  # fmt: skip

    @router.command(
        "duyet", "approvals", description=N_("Yêu cầu liên kết chờ duyệt"), role="staff"
    )
    async def approvals(ctx: Context, _: str) -> Reply | list[Reply]:
        stmt = (
            select(Member, Cooperative)
            .join(Cooperative, Cooperative.id == Member.cooperative_id)
            .where(Member.link_status == LINK_PENDING)
            .order_by(Member.id)
            .limit(20)
        )
        pending = (await ctx.session.execute(stmt)).all()
        if not pending:
            return Reply(ctx.t("Không có yêu cầu liên kết nào đang chờ duyệt."))
        return [approval_request(ctx.translator, m, c) for m, c in pending]

    @router.command("hoptacxa", "mycoop", description=N_("Thông tin HTX của tôi"))
    async def my_coop(ctx: Context, _: str) -> Reply:
        m = ctx.member
        coop = await ctx.session.get(Cooperative, m.cooperative_id) if m.cooperative_id else None
        if coop is None:
            return Reply(
                ctx.t("Tài khoản chưa liên kết với hợp tác xã nào. Gõ /dangky để liên kết.")
            )
        status = (
            ctx.t("đã duyệt") if m.link_status == LINK_APPROVED else ctx.t("đang chờ cán bộ duyệt")
        )
        return Reply(
            ctx.t(
                "{coop}\n• Mã số: {code}\n• Xã/phường: {commune}\n• Vai trò của anh/chị: {role}"
                "\n• Liên kết: {status}",
                coop=coop.name,
                code=coop.code,
                commune=coop.commune,
                role=role_label(ctx.translator, m.coop_role),
                status=status,
            )
        )

    @router.command("quyen", "roles", description=N_("Cấp hoặc bỏ quyền cán bộ"), role="admin")
    async def roles(ctx: Context, arg: str) -> Reply:
        usage = ctx.t(
            "Cách dùng: /quyen them telegram:12345 (cấp quyền cán bộ), "
            "/quyen bo telegram:12345 (bỏ quyền)."
        )
        parts = fold(arg).split()
        if not parts:
            staff = await staff_members(ctx.session)
            lines = [ctx.t("Cán bộ và quản trị:")]
            lines += [
                f"• {p.display_name or '–'} ({p.channel}:{p.user_id}, {p.role})" for p in staff
            ]
            return Reply("\n".join([*lines, "", usage]))
        if len(parts) != 2 or parts[0] not in ("them", "bo", "add", "remove"):
            return Reply(usage)
        channel, _, user_id = arg.split()[-1].partition(":")
        target = (
            await ctx.session.execute(
                select(Member).where(Member.channel == channel.lower(), Member.user_id == user_id)
            )
        ).scalar_one_or_none()
        if target is None:
            return Reply(
                ctx.t(
                    "Chưa có ai là {who}. Người đó cần nhắn cho trợ lý một lần trước.",
                    who=arg.split()[-1],
                )
            )
        if target.role == ROLE_ADMIN:
            return Reply(ctx.t("Quản trị viên được đặt trong cấu hình COOPBOT_ADMINS."))
        grant = parts[0] in ("them", "add")
        target.role = ROLE_STAFF if grant else ROLE_MEMBER
        audit.record(ctx.session, audit.actor_of(ctx.member),
                     "grant_staff" if grant else "remove_staff", ctx.clock(),
                     f"{target.channel}:{target.user_id}")  # fmt: skip
        return Reply(
            ctx.t("Đã cấp quyền cán bộ cho {who}.", who=target.display_name or user_id)
            if grant
            else ctx.t("Đã bỏ quyền cán bộ của {who}.", who=target.display_name or user_id)
        )

    @router.command("xoadulieu", "forgetme", description=N_("Xoá dữ liệu cá nhân của tôi"))
    async def erase(ctx: Context, _: str) -> Reply:
        return Reply(
            ctx.t(
                "Anh/chị sắp xoá dữ liệu cá nhân: tên, số điện thoại và liên kết với HTX sẽ bị "
                "xoá; các câu hỏi đã gửi không còn gắn với anh/chị. Báo cáo đã nộp cho HTX vẫn "
                "được giữ. Việc xoá không thể hoàn tác. Anh/chị chắc chắn chứ?"
            ),
            ((Button(ctx.t("Xoá dữ liệu"), "xd:yes"), Button(ctx.t("Không xoá"), "xd:no")),),
        )

    @router.action("xd")
    async def erase_confirm(ctx: Context, answer: str) -> Reply:
        if answer != "yes":
            return Reply(ctx.t("Đã giữ nguyên dữ liệu."), edit=True)
        t = ctx.translator
        audit.record(ctx.session, "member", "erase_personal_data", ctx.clock(),
                     f"member:{ctx.member.id}")  # fmt: skip
        await ctx.session.delete(ctx.member)
        return Reply(
            t.t("Đã xoá dữ liệu cá nhân của anh/chị. Nếu nhắn tiếp, trợ lý sẽ coi như người mới."),
            edit=True,
        )
