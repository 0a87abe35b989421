"""Members and their cooperatives, the chat door: /dangky, /hoptacxa, /duyet, /quyen, /xoadulieu.

- /dangky: the member names their cooperative (code or name, fuzzy), their role in it and a
  phone number. A number shared from their own Telegram account that equals the cooperative's
  registered phone links at once; a typed number is a claim, so staff approve it (buttons).
- /hoptacxa: the member's own cooperative, and nothing of anyone else's.
- /duyet (staff): links waiting for approval. /quyen (admin): grant and remove staff.
- /xoadulieu: the member erases their personal data after confirming.
What they change is done by operations/members.py, which checks rights when it runs.
"""

from __future__ import annotations

from db.members import find_cooperatives
from db.models import COOP_ROLES, LINK_APPROVED, LINK_PENDING, Cooperative
from ground.i18n import N_
from ground.messages import Button, Reply, rows
from handlers.context import Context
from handlers.router import Router, id_of
from knowledge.normalize import fold
from knowledge.phone import normalize_phone
from operations import Actor, NotPossible
from operations import members as ops
from operations.members import PROVEN, TYPED, UNCHANGED, member_label, role_label

FLOW = "link"
CONTACT_BUTTON = N_("Gửi số điện thoại của tôi")


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
                    else ctx.t("Yêu cầu liên kết với {coop} đang chờ cán bộ duyệt.", coop=coop.name)
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
    buttons = [Button(ctx.t(ops.ROLE_LABELS[r]), f"lk:r:{r}") for r in COOP_ROLES]
    return Reply(ctx.t("Anh/chị giữ vai trò gì trong hợp tác xã?"), rows(*buttons))


def ask_phone(ctx: Context) -> Reply:
    return Reply(
        ctx.t(
            "Anh/chị gửi số điện thoại của mình. Trên Telegram, bấm nút “{button}”: nếu số đó "
            "trùng số đã đăng ký của HTX, liên kết được duyệt ngay. Số gõ tay (ví dụ 0912 345 "
            "678) thì ai cũng gõ được, nên cán bộ sẽ kiểm tra và duyệt.",
            button=ctx.t(CONTACT_BUTTON),
        ),
        contact_button=ctx.t(CONTACT_BUTTON),
    )


async def link_button(ctx: Context, arg: str) -> Reply | list[Reply]:
    kind, _, value = arg.partition(":")
    if kind in ("ok", "no"):
        return await decide(ctx, kind == "ok", value)
    data = dict(ctx.member.flow_data or {})
    expired = Reply(ctx.t(ops.EXPIRED))
    if ctx.member.flow != FLOW:
        return expired
    if kind == "c" and id_of(value) and await ctx.session.get(Cooperative, id_of(value)):
        data.update(step="role", coop_id=int(value))
        ctx.member.flow_data = data
        return ask_role(ctx)
    if kind == "r" and value in COOP_ROLES and data.get("coop_id"):
        data.update(step="phone", role=value)
        ctx.member.flow_data = data
        return ask_phone(ctx)
    return expired


async def take_phone(ctx: Context, text: str) -> Reply | list[Reply]:
    shared = ctx.incoming.contact_phone
    phone = normalize_phone(shared or text)
    if phone is None:
        return Reply(
            ctx.t(
                "Số điện thoại chưa đúng. Anh/chị gõ 10 chữ số, ví dụ 0912 345 678 "
                "(hoặc +84 912 345 678)."
            ),
            contact_button=ctx.t(CONTACT_BUTTON),
        )
    data = ctx.member.flow_data or {}
    ctx.end_flow()
    try:
        done = await ops.request_link(
            ctx.session,
            Actor.of(ctx.member),
            coop_id=int(data.get("coop_id") or 0),
            coop_role=str(data.get("role", "member")),
            phone=phone,
            phone_verified=bool(shared) and ctx.incoming.contact_verified,
            translations=ctx.translations,
            admins=ctx.settings.admins,
            now=ctx.clock(),
        )
    except NotPossible as exc:
        return Reply(ctx.t(exc.message, **exc.values))
    coop = done.coop.name
    if done.reason == PROVEN:
        return Reply(
            ctx.t(
                "Đã liên kết tài khoản với {coop} (số điện thoại anh/chị chia sẻ khớp số đã "
                "đăng ký). Gõ /hoptacxa để xem thông tin.",
                coop=coop,
            )
        )
    if done.reason == UNCHANGED:
        return Reply(ctx.t("Tài khoản vẫn liên kết với {coop} như trước, không có gì thay đổi.",
                           coop=coop))  # fmt: skip
    why = (
        ctx.t(
            "Số anh/chị gõ trùng số đã đăng ký của HTX, nhưng số gõ tay chưa chứng minh được "
            "đó là số của anh/chị, nên cán bộ sẽ duyệt."
        )
        if done.reason == TYPED
        else ctx.t("Số điện thoại chưa khớp số đã đăng ký của HTX nên cán bộ sẽ duyệt.")
    )
    text = ctx.t("Đã gửi yêu cầu liên kết với {coop}.", coop=coop) + " " + why + " "
    if done.staff_told:
        return Reply(text + ctx.t("Tôi sẽ báo anh/chị kết quả tại đây."))
    return Reply(
        text
        + ctx.t(
            "Hiện chưa có cán bộ nào nhận yêu cầu qua trợ lý, nên yêu cầu sẽ chờ đến khi có "
            "cán bộ; anh/chị có thể gõ /lienhe để xem cách liên hệ trực tiếp."
        )
    )


async def decide(ctx: Context, approve: bool, member_id: str) -> Reply:
    done = await ops.decide_link(
        ctx.session,
        Actor.of(ctx.member),
        id_of(member_id) or 0,
        approve,
        translations=ctx.translations,
        now=ctx.clock(),
    )
    values = {"name": member_label(done.member), "coop": done.coop.name}
    if approve:
        return Reply(ctx.t("Đã duyệt liên kết của {name} với {coop}.", **values), edit=True)
    return Reply(ctx.t("Đã từ chối liên kết của {name} với {coop}.", **values), edit=True)


async def approvals(ctx: Context, _: str) -> Reply | list[Reply]:
    pending = await ops.links_waiting(ctx.session, Actor.of(ctx.member))
    if not pending:
        return Reply(ctx.t("Không có yêu cầu liên kết nào đang chờ duyệt."))
    return [ops.approval_request(ctx.translator, m, c) for m, c in pending]


async def my_coop(ctx: Context, _: str) -> Reply:
    m = ctx.member
    coop = await ctx.session.get(Cooperative, m.cooperative_id) if m.cooperative_id else None
    if coop is None:
        return Reply(ctx.t("Tài khoản chưa liên kết với hợp tác xã nào. Gõ /dangky để liên kết."))
    status = ctx.t("đã duyệt") if m.link_status == LINK_APPROVED else ctx.t("đang chờ cán bộ duyệt")
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


async def roles(ctx: Context, arg: str) -> Reply:
    usage = ctx.t(
        "Cách dùng: /quyen them telegram:12345 (cấp quyền cán bộ), "
        "/quyen bo telegram:12345 (bỏ quyền). Trên cùng một kênh, gõ mã người dùng là đủ."
    )
    actor = Actor.of(ctx.member)
    parts = arg.split()
    if not parts:
        staff = await ops.list_staff(ctx.session, actor, ctx.settings.admins)
        lines = [ctx.t("Cán bộ và quản trị:")]
        lines += [f"• {member_label(p)} ({p.channel}:{p.user_id}, {p.role})" for p in staff]
        return Reply("\n".join([*lines, "", usage]))
    verb = fold(parts[0])
    if len(parts) != 2 or verb not in ("them", "bo", "add", "remove"):
        return Reply(usage)
    grant = verb in ("them", "add")
    target = await ops.set_staff(
        ctx.session, actor, parts[1], grant, admins=ctx.settings.admins, now=ctx.clock()
    )
    who = f"{member_label(target)} ({target.channel}:{target.user_id})"
    if grant:
        return Reply(ctx.t("Đã cấp quyền cán bộ cho {who}.", who=who))
    return Reply(ctx.t("Đã bỏ quyền cán bộ của {who}.", who=who))


async def erase(ctx: Context, _: str) -> Reply:
    return Reply(
        ctx.t(
            "Anh/chị sắp xoá dữ liệu cá nhân: tên, số điện thoại và liên kết với HTX sẽ bị "
            "xoá; các câu hỏi đã gửi không còn gắn với anh/chị. Báo cáo đã nộp cho HTX vẫn "
            "được giữ. Việc xoá không thể hoàn tác. Anh/chị chắc chắn chứ?"
        ),
        ((Button(ctx.t("Xoá dữ liệu"), "xd:yes"), Button(ctx.t("Không xoá"), "xd:no")),),
    )


async def erase_confirm(ctx: Context, answer: str) -> Reply:
    if answer != "yes":
        return Reply(ctx.t("Đã giữ nguyên dữ liệu."), edit=True)
    t = ctx.translator
    await ops.erase_own_data(ctx.session, Actor.of(ctx.member), ctx.clock())
    return Reply(
        t.t("Đã xoá dữ liệu cá nhân của anh/chị. Nếu nhắn tiếp, trợ lý sẽ coi như người mới."),
        edit=True,
    )


def register(router: Router) -> None:
    router.command("dangky", "register", description=N_("Liên kết tài khoản với HTX"))(start_link)
    router.flow(FLOW)(link_text)
    router.action("lk")(link_button)  # lk:c / lk:r the member's own flow; lk:ok / lk:no staff
    router.command("hoptacxa", "mycoop", description=N_("Thông tin HTX của tôi"))(my_coop)
    router.command(
        "duyet", "approvals", description=N_("Yêu cầu liên kết chờ duyệt"), role="staff"
    )(approvals)
    router.command("quyen", "roles", description=N_("Cấp hoặc bỏ quyền cán bộ"), role="admin")(
        roles
    )
    router.command("xoadulieu", "forgetme", description=N_("Xoá dữ liệu cá nhân của tôi"))(erase)
    router.action("xd")(erase_confirm)  # the member's own data only
