"""Routes an :class:`Incoming` to the handler that owns it.

Order: a button action; a command; text for the flow in progress; text a claim recognises
(a reference to an article of the law); otherwise the text handler (question answering). Commands are ASCII, Vietnamese names first, English aliases after; a
command typed with diacritics (``/huỷ``) or addressed to the bot (``/help@coopbot``) still works.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ground.messages import Reply
from handlers.context import Context
from knowledge.normalize import fold

HandlerResult = Reply | Sequence[Reply]
Handler = Callable[[Context, str], Awaitable[HandlerResult]]

ROLES_ORDER = {"member": 0, "staff": 1, "admin": 2}
# What may be answered in a group chat, where everyone reads the answer: public things only
# (help, topics and questions, the law, events). Anything else (a member's cooperative, report,
# tickets, phone, data; every staff command) is answered with a line asking to write privately.
GROUP_COMMANDS = frozenset({"start", "help", "menu", "luat", "sukien"})
GROUP_ACTIONS = frozenset({"menu", "topic", "kb", "law", "lawch", "ev"})


@dataclass(frozen=True)
class Command:
    names: tuple[str, ...]
    handler: Handler
    description: str  # a message id, translated when shown
    role: str = "member"
    in_menu: bool = True

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class Route:
    name: str
    handler: Handler
    arg: str


def parse_command(text: str) -> tuple[str, str] | None:
    """``"/Huỷ@coopbot  x"`` → ``("huy", "x")``; ``None`` when ``text`` is not a command."""
    text = text.strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    head = head.split("@", 1)[0]
    name = fold(head).replace(" ", "")
    if not name or not name.replace("_", "").isalnum():
        return None
    return name, rest.strip()


class Router:
    def __init__(self) -> None:
        self.commands: list[Command] = []
        self._by_name: dict[str, Command] = {}
        self._actions: dict[str, tuple[Handler, str]] = {}
        self._flows: dict[str, Handler] = {}
        self._before_cancel: dict[str, Handler] = {}
        self._text: Handler | None = None
        self._claims: list[tuple[str, Callable[[str], bool], Handler]] = []

    def command(
        self, *names: str, description: str, role: str = "member", in_menu: bool = True
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            cmd = Command(tuple(names), fn, description, role, in_menu)
            for name in names:
                if name in self._by_name:
                    raise ValueError(f"command /{name} registered twice")
                self._by_name[name] = cmd
            self.commands.append(cmd)
            return fn

        return register

    def action(self, prefix: str, role: str = "member") -> Callable[[Handler], Handler]:
        """Handle button actions ``prefix:arg``, for ``role`` and above."""

        def register(fn: Handler) -> Handler:
            if prefix in self._actions:
                raise ValueError(f"action {prefix} registered twice")
            self._actions[prefix] = (fn, role)
            return fn

        return register

    def flow(self, name: str) -> Callable[[Handler], Handler]:
        """Handle text while a member is in flow ``name``."""

        def register(fn: Handler) -> Handler:
            self._flows[name] = fn
            return fn

        return register

    def before_cancel(self, name: str) -> Callable[[Handler], Handler]:
        """Run before /huy ends flow ``name``: a reply (asking to confirm) stops the cancel."""

        def register(fn: Handler) -> Handler:
            self._before_cancel[name] = fn
            return fn

        return register

    def cancel_check(self, flow: str | None) -> Handler | None:
        return self._before_cancel.get(flow) if flow else None

    def text_claim(self, name: str, claims: Callable[[str], bool]) -> Callable[[Handler], Handler]:
        """Handle free text that ``claims`` recognises, before the text handler sees it."""

        def register(fn: Handler) -> Handler:
            self._claims.append((name, claims, fn))
            return fn

        return register

    def text(self, fn: Handler) -> Handler:
        self._text = fn
        return fn

    def lookup(self, name: str) -> Command | None:
        return self._by_name.get(name)

    def resolve(self, ctx: Context) -> Route | None:
        inc = ctx.incoming
        if inc.action:
            prefix, _, arg = inc.action.partition(":")
            found = self._actions.get(prefix)
            if found is None:
                return None
            fn, role = found
            if not inc.private and prefix not in GROUP_ACTIONS:
                return Route(f"action:{prefix}:private", _private_only, prefix)
            if ROLES_ORDER[ctx.member.role] < ROLES_ORDER[role]:
                return Route(f"action:{prefix}:refused", _refused_action, prefix)
            return Route(f"action:{prefix}", fn, arg)
        text = (inc.text or "").strip()
        parsed = parse_command(text)
        if parsed:
            name, arg = parsed
            cmd = self._by_name.get(name)
            if cmd is None:
                return Route("command:unknown", _unknown_command, name)
            if not inc.private and cmd.name not in GROUP_COMMANDS:
                return Route(f"command:{cmd.name}:private", _private_only, cmd.name)
            if ROLES_ORDER[ctx.member.role] < ROLES_ORDER[cmd.role]:
                return Route(f"command:{cmd.name}:refused", _refused, cmd.name)
            return Route(f"command:{cmd.name}", cmd.handler, arg)
        flow = ctx.member.flow if inc.private else None  # a flow's answers are private
        if flow and flow in self._flows:
            return Route(f"flow:{flow}", self._flows[flow], text)
        for name, claims, fn in self._claims:
            if text and claims(text):
                return Route(f"text:{name}", fn, text)
        if self._text is None:
            return None
        return Route("text", self._text, text)


async def _unknown_command(ctx: Context, name: str) -> Reply:
    return Reply(ctx.t("Tôi chưa hiểu lệnh /{name}. Gõ /help để xem các lệnh.", name=name))


async def _refused(ctx: Context, name: str) -> Reply:
    return Reply(
        ctx.t(
            "Lệnh /{name} chỉ dành cho cán bộ Liên minh HTX. "
            "Nếu anh/chị cần hỗ trợ, gõ /lienhe để nhắn cán bộ.",
            name=name,
        )
    )


async def _private_only(ctx: Context, _: str) -> Reply:
    return Reply(
        ctx.t(
            "Trong nhóm ai cũng đọc được câu trả lời, nên việc này anh/chị nhắn riêng cho "
            "trợ lý nhé."
        )
    )


async def _refused_action(ctx: Context, _: str) -> Reply:
    return Reply(ctx.t("Nút này chỉ dành cho cán bộ Liên minh HTX."))


def id_of(text: str) -> int | None:
    """The database id a button carries, or None: ASCII digits only, at most 9 of them (a
    forged 20-digit id must not reach the database, where it overflows the column)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None
