"""Members and their cooperatives: asking for a link, approving or refusing it, staff roles,
erasing one's own data. Each function checks its actor's rights when it runs.

Proof of identity: only a phone number the channel vouches for (on Telegram, a contact the
member shared from their own account) links a member to a cooperative at once, when it equals
the cooperative's registered phone. A typed number is a claim anyone can make, so it always
goes to staff for approval.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db import audit, outbox
from db.members import members_with_user_id, pending_links, staff_members
from db.models import (
    COOP_ROLES,
    LINK_APPROVED,
    LINK_PENDING,
    LINK_REFUSED,
    ROLE_MEMBER,
    ROLE_STAFF,
    Cooperative,
    Member,
)
from ground.i18n import N_, Translations, Translator
from ground.messages import Button, Reply
from knowledge.phone import mask_phone
from operations.rights import Actor, NotPossible, Refused

ROLE_LABELS = {
    "manager": N_("Chủ tịch / Giám đốc"),
    "accountant": N_("Kế toán"),
    "member": N_("Thành viên"),
}
EXPIRED = N_("Yêu cầu này đã hết hạn. Gõ /dangky để bắt đầu lại.")

# Why a link was approved at once or left for staff.
PROVEN, TYPED, NO_MATCH, UNCHANGED = "proven", "typed", "no_match", "unchanged"


def role_label(t: Translator, role: str | None) -> str:
    return t.t(ROLE_LABELS[role]) if role in ROLE_LABELS else "–"


def member_label(member: Member) -> str:
    """How staff see a member: their name, else their masked phone, else channel and id."""
    if member.display_name:
        return member.display_name
    if member.phone:
        return mask_phone(member.phone)
    return f"{member.channel}:{member.user_id}"


def approval_request(t: Translator, member: Member, coop: Cooperative) -> Reply:
    """The card staff approve or refuse a link with."""
    why = (
        t.t(
            "Số điện thoại trùng số đã đăng ký của HTX nhưng được gõ tay, chưa được xác minh "
            "(ai cũng gõ được), cần cán bộ duyệt."
        )
        if coop.phone and coop.phone == member.phone
        else t.t("Số điện thoại không khớp số đã đăng ký của HTX, cần cán bộ duyệt.")
    )
    text = t.t(
        "Yêu cầu liên kết tài khoản:\n• Người gửi: {name} ({channel})\n• Hợp tác xã: {coop} "
        "(mã số {code})\n• Vai trò: {role}\n• Điện thoại: {phone}",
        name=member_label(member),
        channel=member.channel,
        coop=coop.name,
        code=coop.code,
        role=role_label(t, member.coop_role),
        phone=mask_phone(member.phone),
    )
    buttons = (
        (Button(t.t("Duyệt"), f"lk:ok:{member.id}"), Button(t.t("Từ chối"), f"lk:no:{member.id}")),
    )
    return Reply(text + "\n" + why, buttons)


@dataclass(frozen=True)
class LinkRequested:
    coop: Cooperative
    approved: bool
    reason: str  # PROVEN, UNCHANGED, TYPED or NO_MATCH
    staff_told: int  # how many staff were sent the request


async def request_link(
    session: AsyncSession,
    actor: Actor,
    *,
    coop_id: int,
    coop_role: str,
    phone: str,
    phone_verified: bool,
    translations: Translations,
    admins: Collection[tuple[str, str]],
    now: datetime,
) -> LinkRequested:
    """The actor asks to be linked to a cooperative. ``phone`` is normalised;
    ``phone_verified`` is True only when the channel proved the number is the actor's own."""
    member = actor.member
    if member is None:
        raise Refused(N_("Chỉ thành viên nhắn qua trợ lý mới liên kết được tài khoản."))
    coop = await session.get(Cooperative, coop_id)
    if coop is None or coop.status == "dissolved" or coop_role not in COOP_ROLES:
        raise NotPossible(EXPIRED)
    same = (member.cooperative_id, member.coop_role, member.phone) == (coop.id, coop_role, phone)
    if same and member.link_status == LINK_APPROVED:  # the link as approved: nothing new
        return LinkRequested(coop, True, UNCHANGED, 0)
    member.phone, member.cooperative_id, member.coop_role = phone, coop.id, coop_role
    matches = bool(coop.phone) and coop.phone == phone
    if matches and phone_verified:
        member.link_status = LINK_APPROVED
        audit.record(session, "system", "link_approved_by_phone", now, f"member:{member.id}",
                     {"cooperative": coop.code})  # fmt: skip
        return LinkRequested(coop, True, PROVEN, 0)
    member.link_status = LINK_PENDING
    staff = await staff_members(session, admins)
    for person in staff:
        if person.id == member.id:
            continue
        t = translations.get(person.locale)
        outbox.enqueue(session, person, approval_request(t, member, coop), now)
    audit.record(session, actor.name, "link_requested", now, f"member:{member.id}",
                 {"cooperative": coop.code, "phone_matches": matches})  # fmt: skip
    told = sum(1 for p in staff if p.id != member.id)
    return LinkRequested(coop, False, TYPED if matches else NO_MATCH, told)


@dataclass(frozen=True)
class LinkDecided:
    member: Member
    coop: Cooperative
    approved: bool


async def decide_link(
    session: AsyncSession,
    actor: Actor,
    member_id: int,
    approve: bool,
    *,
    translations: Translations,
    now: datetime,
) -> LinkDecided:
    """Staff approve or refuse a pending link; the member is told on their channel."""
    actor.require_staff()
    target = await session.get(Member, member_id)
    if target is None:
        raise NotPossible(N_("Không tìm thấy yêu cầu này (người gửi có thể đã xoá dữ liệu)."))
    coop = await session.get(Cooperative, target.cooperative_id or 0)
    if target.link_status != LINK_PENDING or coop is None:
        raise NotPossible(N_("Yêu cầu này đã được xử lý rồi."))
    target.link_status = LINK_APPROVED if approve else LINK_REFUSED
    if not approve:
        target.cooperative_id, target.coop_role = None, None
    audit.record(session, actor.name, "link_approved" if approve else "link_refused", now,
                 f"member:{target.id}", {"cooperative": coop.code})  # fmt: skip
    t = translations.get(target.locale)
    outcome = (
        t.t("Cán bộ đã duyệt: tài khoản của anh/chị đã liên kết với {coop}.", coop=coop.name)
        if approve
        else t.t(
            "Cán bộ chưa duyệt yêu cầu liên kết với {coop}. Nếu cần, gõ /lienhe để hỏi "
            "lý do hoặc /dangky để gửi lại.",
            coop=coop.name,
        )
    )
    outbox.enqueue(session, target, Reply(outcome), now)
    return LinkDecided(target, coop, approve)


async def links_waiting(session: AsyncSession, actor: Actor) -> list[tuple[Member, Cooperative]]:
    """Links waiting for staff approval, oldest first (staff only)."""
    actor.require_staff()
    return await pending_links(session)


async def list_staff(
    session: AsyncSession, actor: Actor, admins: Collection[tuple[str, str]]
) -> list[Member]:
    """Staff and the admins listed now (admin only)."""
    actor.require_admin()
    return await staff_members(session, admins)


async def find_person(session: AsyncSession, actor: Actor, who: str) -> Member:
    """``telegram:12345`` → that member. A bare id is looked for on the actor's own channel
    first, then on every channel; several matches ask for the channel."""
    who = who.strip()
    channel, sep, user_id = who.partition(":")
    if sep and channel and user_id:
        found = await members_with_user_id(session, user_id, channel.lower())
    else:
        found = []
        if actor.member is not None:
            found = await members_with_user_id(session, who, actor.member.channel)
        if not found:
            found = await members_with_user_id(session, who)
    if len(found) > 1:
        raise NotPossible(
            N_("Có nhiều người là {who}: {options}. Gõ kèm tên kênh, ví dụ {example}."),
            who=who,
            options=", ".join(f"{m.channel}:{m.user_id}" for m in found),
            example=f"{found[0].channel}:{found[0].user_id}",
        )
    if not found:
        raise NotPossible(
            N_(
                "Chưa có ai là {who}. Người đó cần nhắn cho trợ lý một lần trước; gõ kèm tên "
                "kênh, ví dụ telegram:12345 hoặc console:local."
            ),
            who=who,
        )
    return found[0]


async def set_staff(
    session: AsyncSession,
    actor: Actor,
    who: str,
    grant: bool,
    *,
    admins: Collection[tuple[str, str]],
    now: datetime,
) -> Member:
    """Grant or remove the staff role (admin only). Admins are set in COOPBOT_ADMINS."""
    actor.require_admin()
    target = await find_person(session, actor, who)
    if (target.channel, target.user_id) in admins:
        raise NotPossible(N_("Quản trị viên được đặt trong cấu hình COOPBOT_ADMINS."))
    target.role = ROLE_STAFF if grant else ROLE_MEMBER
    audit.record(session, actor.name, "grant_staff" if grant else "remove_staff", now,
                 f"{target.channel}:{target.user_id}")  # fmt: skip
    return target


async def erase_own_data(session: AsyncSession, actor: Actor, now: datetime) -> None:
    """The actor erases their own personal data (name, phone, link); questions stay, unlinked."""
    if actor.member is None:
        raise Refused(N_("Chỉ thành viên mới xoá được dữ liệu của chính mình."))
    audit.record(session, "member", "erase_personal_data", now, f"member:{actor.member.id}")
    await session.delete(actor.member)
