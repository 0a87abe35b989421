"""Import speed: rows per second for cooperative and event files of 1k, 10k and 100k rows.

The files are made here, at run time, in a temporary folder (CSV, and XLSX up to 10k rows):
valid rows with a few bad ones mixed in. Each size is timed twice: reading the file alone
(``outputs/``: parsing and checks) and the whole import into a fresh database (reading,
checking, writing, commit). Growth that is not linear shows as rows/s falling with size.

    .venv/bin/python bench/imports.py [--sizes 1000,10000,100000] [--database-url URL]
                                      [--what cooperatives,events] [--no-xlsx]

Without ``--database-url`` each run gets a new SQLite file. With a PostgreSQL URL the
tables are emptied before each run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete  # noqa: E402

from db import migrate  # noqa: E402
from db.models import AuditEntry, Cooperative, Event  # noqa: E402
from db.session import create_engine, session_factory  # noqa: E402
from knowledge.places import communes  # noqa: E402
from outputs.cooperatives import import_cooperatives, read_rows  # noqa: E402
from outputs.events import import_events, read_event_rows  # noqa: E402
from outputs.spreadsheets import write_table  # noqa: E402

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COOP_HEADER = ["Tên", "Mã số", "Loại hình", "Lĩnh vực", "Xã/phường", "Địa chỉ", "Điện thoại"]
EVENT_HEADER = ["Tên sự kiện", "Bắt đầu", "Kết thúc", "Địa điểm", "Mô tả", "Thẻ"]


def coop_rows(n: int, rng: random.Random) -> list[list[str]]:
    places = [c.name for c in communes()]
    kinds, sectors = ["HTX", "THT", "LHHTX"], ["Nông nghiệp", "Vận tải", "Khác", "Xây dựng"]
    rows = []
    for i in range(n):
        bad = i % 200 == 7  # one row in 200 has an unknown commune
        rows.append([
            f"HTX Bench {i}", f"B-{i:06d}", rng.choice(kinds), rng.choice(sectors),
            "Xã Không Có" if bad else rng.choice(places), f"Thôn {i % 50}",
            f"09{rng.randrange(10**8):08d}",
        ])  # fmt: skip
    return rows


def event_rows(n: int, rng: random.Random) -> list[list[str]]:
    rows = []
    start = datetime(2027, 1, 1, 8, 0)
    for i in range(n):
        day = start + timedelta(days=rng.randrange(365), hours=rng.randrange(9))
        bad = i % 200 == 7  # one row in 200 has no date
        rows.append([
            f"Hội chợ nông sản {i}", "" if bad else day.strftime("%d/%m/%Y %H:%M"),
            (day + timedelta(days=2)).strftime("%d/%m/%Y"), f"Nhà văn hoá xã {i % 99}",
            "Trưng bày, giới thiệu sản phẩm OCOP", "hội chợ, ocop",
        ])  # fmt: skip
    return rows


async def fresh(url: str | None, folder: Path, label: str):  # type: ignore[no-untyped-def]
    url = url or f"sqlite+aiosqlite:///{folder / f'{label}.db'}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    async with sessions() as s:
        for model in (Event, Cooperative, AuditEntry):
            await s.execute(delete(model))
        await s.commit()
    return engine, sessions


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(19)
    db_label = (args.database_url or "sqlite (new file per run)").split("@")[-1]
    print(f"database: {db_label}")
    print(f"{'what':12} {'format':6} {'rows':>7} {'read s':>8} {'read rows/s':>12} "
          f"{'import s':>9} {'import rows/s':>14} {'rejected':>9}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for what in args.what:
            make, header = (
                (coop_rows, COOP_HEADER) if what == "cooperatives" else (event_rows, EVENT_HEADER)
            )
            reader = read_rows if what == "cooperatives" else read_event_rows
            for n in args.sizes:
                rows = make(n, rng)
                formats = ["csv"] + (["xlsx"] if args.xlsx and n <= 10_000 else [])
                for fmt in formats:
                    path = folder / f"{what}-{n}.{fmt}"
                    if fmt == "csv":
                        with path.open("w", encoding="utf-8", newline="") as fh:
                            csv.writer(fh).writerows([header, *rows])
                    else:
                        write_table(path, header, rows, "xlsx")
                    t0 = time.perf_counter()
                    reader(path)
                    read_s = time.perf_counter() - t0
                    engine, sessions = await fresh(args.database_url, folder, f"{what}-{n}-{fmt}")
                    try:
                        async with sessions() as s:
                            t0 = time.perf_counter()
                            if what == "cooperatives":
                                report = await import_cooperatives(s, path, NOW)
                            else:
                                report = await import_events(s, path, NOW, TZ)
                            import_s = time.perf_counter() - t0
                    finally:
                        await engine.dispose()
                    print(f"{what:12} {fmt:6} {n:7d} {read_s:8.2f} {n / read_s:12,.0f} "
                          f"{import_s:9.2f} {n / import_s:14,.0f} {len(report.rejected):9d}",
                          flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--what", default="cooperatives,events")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-xlsx", dest="xlsx", action="store_false")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.what = args.what.split(",")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
