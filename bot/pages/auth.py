"""Signing in and out: the one-time link's page, the session cookie, sign out, and (admins)
sign out everywhere. What happens is done by :mod:`operations.web_access`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.pages.base import COOKIE, PREFIX, SIGN_IN, Console, Page, staff_page
from operations import web_access as access
from operations.rights import OperationError, Refused


def routes(console: Console) -> list[BaseRoute]:
    def t_default():  # type: ignore[no-untyped-def]
        return console.translations.get(console.settings.locale)

    async def sign_in_help(request: Request) -> Response:
        return console.render(t_default(), "signin.html", page=None, token=None)

    async def link_page(request: Request) -> Response:
        # A GET never uses the link: chat apps open links to preview them.
        token = request.path_params["token"]
        return console.render(t_default(), "signin.html", page=None, token=token)

    async def use_link(request: Request) -> Response:
        t = t_default()
        async with console.sessions() as session:
            try:
                done = await access.sign_in(session, request.path_params["token"], console.clock())
                await session.commit()
            except OperationError as exc:
                await session.commit()  # a used link stays used
                status = 403 if isinstance(exc, Refused) else 400
                return console.render(t, "message.html", status, page=None,
                                      message=t.t(exc.message, **exc.values))  # fmt: skip
        response = RedirectResponse(PREFIX + "/", status_code=303)
        response.set_cookie(
            COOKIE,
            done.token,
            max_age=int(access.SESSION_TTL.total_seconds()),
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=console.secure_cookie,
        )
        return response

    async def sign_out(page: Page) -> Response:
        await access.sign_out(page.session, page.actor, page.request.cookies.get(COOKIE, ""),
                              page.now)  # fmt: skip
        response = RedirectResponse(SIGN_IN, status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    async def sessions(page: Page) -> Response:
        count = None
        if page.form is not None:
            who = page.arg("member")
            count = await access.sign_out_everywhere(
                page.session, page.actor, int(who) if who.isdigit() else None, page.now
            )
        rows = await access.live_sessions(page.session, page.actor, page.now)
        return page.render("sessions.html", rows=rows, count=count)

    return [
        Route(SIGN_IN, sign_in_help, methods=["GET"]),
        Route(SIGN_IN + "/{token}", link_page, methods=["GET"]),
        Route(SIGN_IN + "/{token}", use_link, methods=["POST"]),
        Route(PREFIX + "/signout", staff_page(console, sign_out), methods=["POST"]),
        Route(
            PREFIX + "/sessions", staff_page(console, sessions, admin=True), methods=["GET", "POST"]
        ),
    ]
