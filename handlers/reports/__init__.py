"""The monthly report in chat: /baocao for a cooperative's representatives (``form``, with
``answers`` and ``render``); /mobaocao, /nhacbaocao, /dongbaocao, /tiendo, /xuat and /bieudo
for staff (``staff``, calling ``operations.reports``).

The form (knowledge/forms/monthly_report.yaml) is asked one question at a time, with buttons
for choices. Every answer goes into ``member.flow_data`` and is committed with the message, so
the member can leave and come back (or the bot restart) without losing anything; /baocao
resumes, /quay goes back one question, and /huy asks before it deletes answers already given.
A summary with "Gửi" / "Sửa" comes before submitting; after submitting, the report can be
corrected until the period closes (each version is kept).
A number that can be read two ways ("1.200") is repeated back with buttons.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import reports as db
from db.report_calendar import ReportSchedule
from ground.i18n import N_, Translations
from handlers.reports import form, staff
from handlers.reports.render import FLOW
from handlers.reports.staff import EXPORTS as EXPORTS  # the folder file links may serve
from handlers.router import Router
from operations import reports as ops


def register(router: Router) -> None:
    # A representative filling in the form.
    router.command("baocao", "report", description=N_("Gửi báo cáo tháng của HTX"))(
        form.report_command
    )
    router.command("quay", "back", description=N_("Quay lại câu hỏi trước"), in_menu=False)(
        form.back
    )
    router.flow(FLOW)(form.typed)
    router.before_cancel(FLOW)(form.before_cancel)
    router.action("rp")(form.button)
    # Staff.
    router.command("mobaocao", "openreport", description=N_("Mở kỳ báo cáo tháng"), role="staff")(
        staff.open_command
    )
    router.command(
        "nhacbaocao", "remindreports", description=N_("Nhắc HTX chưa gửi báo cáo"), role="staff"
    )(staff.remind_command)
    router.command(
        "dongbaocao", "closereport", description=N_("Đóng kỳ báo cáo tháng"), role="staff"
    )(staff.close_command)
    router.command("tiendo", "progress", description=N_("Tiến độ báo cáo tháng"), role="staff")(
        staff.progress_command
    )
    router.command(
        "xuat", "exportreports", description=N_("Xuất báo cáo tháng ra Excel"), role="staff"
    )(staff.export_command)
    router.command("bieudo", "chart", description=N_("Biểu đồ báo cáo 12 tháng"), role="staff")(
        staff.chart_command
    )
    router.action("rps", role="staff")(staff.confirm_button)


async def run_report_cycle(
    sessions: async_sessionmaker[AsyncSession],
    translations: Translations,
    now: datetime,
    schedule: ReportSchedule | None = None,
) -> db.CycleResult:
    """One pass of the monthly report schedule (the scheduler calls it every minute)."""
    async with sessions() as session:
        return await ops.run_cycle(session, translations, now, schedule or ReportSchedule())
