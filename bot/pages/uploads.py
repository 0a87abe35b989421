"""Files staff upload (spreadsheets) through the console."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from starlette.datastructures import UploadFile

from ground.i18n import N_
from operations.rights import NotPossible

SPREADSHEETS = (".csv", ".xlsx")
CHOOSE = N_("Anh/chị chọn một tệp .csv hoặc .xlsx.")


async def save_upload(value: object, folder: Path) -> Path:
    """Write an uploaded .csv or .xlsx to a fresh file under ``folder`` (its name is ours,
    never the browser's); the caller deletes it. The request's size was checked before."""
    if not isinstance(value, UploadFile) or not value.filename:
        raise NotPossible(CHOOSE)
    suffix = Path(value.filename).suffix.lower()
    if suffix not in SPREADSHEETS:
        raise NotPossible(CHOOSE)
    content = await value.read()
    path = folder / f"upload-{secrets.token_hex(8)}{suffix}"

    def write() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    await asyncio.to_thread(write)
    return path


async def remove(path: Path) -> None:
    await asyncio.to_thread(path.unlink, True)
