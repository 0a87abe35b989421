"""Welcome, help, menu, language and cancel."""

from __future__ import annotations

from functools import partial

from ground.i18n import N_
from ground.messages import Button, Reply, rows
from handlers.context import Context
from handlers.router import ROLES_ORDER, Router

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}


def language_buttons() -> tuple[tuple[Button, ...], ...]:
    return (tuple(Button(name, f"lang:{code}") for code, name in LANGUAGES.items()),)


async def start(ctx: Context, _: str) -> list[Reply]:
    name = ctx.member.display_name or ""
    return [
        Reply(
            ctx.t(
                "Xin chào {name}! Tôi là trợ lý của Liên minh Hợp tác xã tỉnh Lào Cai.\n\n"
                "Tôi có thể:\n"
                "• trả lời câu hỏi về thành lập, đăng ký hợp tác xã, tổ hợp tác và các "
                "chính sách hỗ trợ (gõ câu hỏi, có dấu hay không dấu đều được);\n"
                "• cho biết hội chợ, sự kiện xúc tiến thương mại;\n"
                "• nhận báo cáo tháng của hợp tác xã;\n"
                "• chuyển câu hỏi tới cán bộ khi tôi chưa biết câu trả lời.\n\n"
                "Gõ /menu để xem các chủ đề, /help để xem các lệnh.",
                name=name,
            )
            .replace("  ", " ")
            .replace(" !", "!"),
            buttons=(*language_buttons(), (Button(ctx.t("Xem chủ đề"), "menu:"),)),
        )
    ]


async def help_(router: Router, ctx: Context, _: str) -> Reply:
    lines = [ctx.t("Các lệnh của trợ lý:")]
    for cmd in router.commands:
        if not cmd.in_menu or ROLES_ORDER[ctx.member.role] < ROLES_ORDER[cmd.role]:
            continue
        aliases = ", ".join(f"/{n}" for n in cmd.names[1:])
        line = f"/{cmd.name} — {ctx.t(cmd.description)}"
        lines.append(line + (f" ({aliases})" if aliases else ""))
    lines.append("")
    lines.append(ctx.t("Hoặc cứ gõ câu hỏi, ví dụ: “thành lập HTX cần mấy người?”"))
    return Reply("\n".join(lines))


async def menu(ctx: Context, _: str) -> Reply:
    return menu_reply(ctx)


async def menu_action(ctx: Context, _: str) -> Reply:
    return menu_reply(ctx)


async def topic(ctx: Context, topic_id: str) -> Reply:
    for t in ctx.kb.menu:
        if t.id == topic_id:
            entries = [e for e in (ctx.kb.get(i) for i in t.entries) if e]
            buttons = [Button(e.title_in(ctx.translator.locale), f"kb:{e.id}") for e in entries]
            buttons.append(Button(ctx.t("« Các chủ đề"), "menu:"))
            title = t.title.get(ctx.member.locale) or t.title["vi"]
            return Reply(ctx.t("{topic}: chọn một câu hỏi.", topic=title), rows(*buttons))
    return menu_reply(ctx)


async def language(ctx: Context, arg: str) -> Reply:
    code = arg.strip().lower()[:2]
    if code in LANGUAGES:
        return await set_language(ctx, code)
    return Reply(ctx.t("Chọn ngôn ngữ:"), language_buttons())


async def set_language(ctx: Context, code: str) -> Reply:
    if code not in ctx.translations.locales:
        return Reply(ctx.t("Chọn ngôn ngữ:"), language_buttons())
    ctx.set_locale(code)
    return Reply(ctx.t("Đã chuyển sang tiếng Việt. Gõ /menu để xem các chủ đề."))


async def cancel(router: Router, ctx: Context, _: str) -> Reply:
    check = router.cancel_check(ctx.member.flow)
    if check is not None:
        confirm = await check(ctx, "")
        if confirm is not None:
            return confirm
    if ctx.member.flow:
        ctx.end_flow()
        return Reply(ctx.t("Đã huỷ. Anh/chị cần gì cứ nhắn tôi."))
    return Reply(ctx.t("Không có việc gì đang làm dở để huỷ."))


def menu_reply(ctx: Context) -> Reply:
    if not ctx.kb.menu:
        return Reply(ctx.t("Chưa có chủ đề nào. Anh/chị cứ gõ câu hỏi."))
    buttons = [
        Button(t.title.get(ctx.member.locale) or t.title["vi"], f"topic:{t.id}")
        for t in ctx.kb.menu
    ]
    return Reply(ctx.t("Anh/chị muốn tìm hiểu chủ đề nào?"), rows(*buttons, per_row=2))


def register(router: Router) -> None:
    router.command("start", "batdau", description=N_("Bắt đầu, giới thiệu trợ lý"))(start)
    router.command("help", "trogiup", "huongdan", description=N_("Xem các lệnh"))(
        partial(help_, router)
    )
    router.command("menu", "chude", description=N_("Các chủ đề hỏi đáp"))(menu)
    router.action("menu")(menu_action)  # public: the topics
    router.action("topic")(topic)  # public: a topic's questions
    router.command("ngonngu", "language", "lang", description=N_("Đổi ngôn ngữ"))(language)
    router.action("lang")(set_language)  # the presser's own language only
    router.command("huy", "cancel", description=N_("Huỷ việc đang làm"))(partial(cancel, router))
