"""``coopbot import``, ``coopbot export cooperatives`` and ``coopbot demo``: files in and out
of the registry, worded in the operator's language (the reasons given for single rows are
written by the validation in Vietnamese)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli_common import translator, with_session
from ground.i18n import Translator
from ground.settings import Settings


def report_text(t: Translator, report: Any, kind: str) -> str:
    """An import report (``db.cooperatives.ImportReport`` or ``db.events.EventImportReport``)
    as staff read it; ``kind`` is ``"cooperatives"`` or ``"events"``."""
    values = {
        "source": report.source,
        "n": report.created + report.updated + report.unchanged,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    }
    if kind == "events":
        head = t.t("Tệp {source}: đã nhập {n} sự kiện ({created} mới, {updated} cập nhật, "
                   "{unchanged} không đổi).", **values)  # fmt: skip
    else:
        head = t.t("Tệp {source}: đã nhập {n} hợp tác xã ({created} mới, {updated} cập nhật, "
                   "{unchanged} không đổi).", **values)  # fmt: skip
    lines = [head]
    past = getattr(report, "past", [])
    if past:
        lines.append(t.t("Lưu ý: {n} sự kiện đã qua (vẫn nhập, nhưng thành viên không thấy "
                         "trong /sukien; kiểm tra lại năm):", n=len(past)))  # fmt: skip
        lines += [t.t("  Dòng {line}: {text}", line=line, text=title) for line, title in past[:20]]
        if len(past) > 20:
            lines.append(t.t("  … và {n} dòng khác", n=len(past) - 20))
    if report.rejected:
        lines.append(t.t("Bỏ qua {n} dòng có lỗi (sửa rồi nhập lại):", n=len(report.rejected)))
        lines += [
            t.t("  Dòng {line}: {text}", line=line, text=why) for line, why in report.rejected
        ]
    return "\n".join(lines)


def _unusable(t: Translator, path: Path, exc: Any) -> None:
    print(t.t("coopbot: không nhập được {path}: {problem}", path=path, problem=exc.render(t)),
          file=sys.stderr)  # fmt: skip


def import_cooperatives_file(settings: Settings, path: Path) -> Any:
    """Import ``path``; the report, or ``None`` (after saying why) when the file is unusable."""
    from outputs.cooperatives import CooperativeFileError, import_cooperatives
    from outputs.progress import TerminalProgress

    progress = TerminalProgress()
    try:
        return with_session(
            settings,
            lambda s: import_cooperatives(s, path, datetime.now(UTC), "cli", progress),
        )
    except CooperativeFileError as exc:
        _unusable(translator(settings), path, exc)
        return None
    finally:
        progress.finish()


def _import_events(settings: Settings, path: Path) -> int:
    from operations.events import import_events
    from operations.rights import CLI
    from outputs.events import EventFileError
    from outputs.progress import TerminalProgress

    t = translator(settings)
    progress = TerminalProgress()
    try:
        report = with_session(
            settings,
            lambda s: import_events(s, CLI, path, datetime.now(UTC), settings.tz, progress),
        )
    except EventFileError as exc:
        _unusable(t, path, exc)
        return 2
    finally:
        progress.finish()
    print(report_text(t, report, "events"))
    return 1 if report.rejected else 0


def import_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.import_command == "events":
        return _import_events(settings, args.file)
    report = import_cooperatives_file(settings, args.file)
    if report is None:
        return 2
    print(report_text(translator(settings), report, "cooperatives"))
    return 1 if report.rejected else 0


def export_cooperatives_command(settings: Settings, args: argparse.Namespace) -> int:
    from outputs.cooperatives import export_cooperatives
    from outputs.progress import TerminalProgress, default_export_path

    t = translator(settings)
    output = args.output or default_export_path("cooperatives", args.fmt)
    progress = TerminalProgress()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        count = with_session(
            settings,
            lambda s: export_cooperatives(s, output, args.fmt, "cli", datetime.now(UTC), progress),
        )
    except OSError as exc:
        print(t.t("coopbot: không ghi được {path}: {error}", path=output, error=exc),
              file=sys.stderr)  # fmt: skip
        return 2
    finally:
        progress.finish()
    print(t.t("Đã xuất {n} hợp tác xã vào {path}", n=count, path=output.resolve()))
    print(t.t("Tệp có số điện thoại đầy đủ: chỉ dùng nội bộ, không gửi ra ngoài."))
    return 0


def demo_command(settings: Settings, args: argparse.Namespace) -> int:
    from db.cooperatives import DEMO_FILE

    report = import_cooperatives_file(settings, DEMO_FILE)
    if report is None:
        return 2
    t = translator(settings)
    print(t.t("Đã nạp {n} hợp tác xã mẫu (tên có chữ “(demo)”, mã số DEMO-01…) vào cơ sở dữ "
              "liệu: {created} mới, {known} đã có.", n=report.imported, created=report.created,
              known=report.updated + report.unchanged))  # fmt: skip
    print(t.t("Thử ngay: chạy `coopbot chat`, rồi gõ /dangky và nhập mã số DEMO-01 hoặc tên HTX."))
    return 1 if report.rejected else 0
