"""/dangky's cooperative lookup by name at 100, 10,000 and 100,000 cooperatives.

Prints, per size: p50 / p99 per typed name for the name index (``knowledge/names.py``) and
for the obvious alternative it replaced (WRatio over every name), how often both put the same
cooperative first, and the index's build time. Queries are names as members type them: whole,
unaccented, a few syllables, with a typo. Run: ``.venv/bin/python bench/lookup.py``.

``--db`` (SQLite in a temporary file, or ``--database-url`` for PostgreSQL) runs the whole
path /dangky takes, ``db.members.find_cooperatives``, against a table of that many
cooperatives: a code (the unique index) or a name (the process's name index, with its
staleness check against the table every few seconds), next to the code it replaced (every
cooperative loaded, WRatio over every name). The first lookup, which builds the name index,
is shown apart.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402
from sqlalchemy import delete, insert, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from db import migrate  # noqa: E402
from db.members import find_cooperatives  # noqa: E402
from db.models import Cooperative  # noqa: E402
from db.session import create_engine, session_factory  # noqa: E402
from knowledge.names import NameIndex, name_key  # noqa: E402
from knowledge.normalize import fold  # noqa: E402

PRODUCTS = ["Chè", "Quế", "Gạo", "Mật ong", "Dược liệu", "Rau an toàn", "Cá hồi", "Lợn đen",
            "Thảo quả", "Mận", "Lê", "Nấm", "Tre trúc", "Măng", "Dệt thổ cẩm", "Du lịch"]  # fmt: skip
KINDS = ["Nông nghiệp", "Dịch vụ", "Sản xuất", "Thương mại", "Chế biến", "Lâm nghiệp"]
WORDS = ["Thành Công", "Phú Thịnh", "Hồng Phát", "An Bình", "Tân Tiến", "Đoàn Kết", "Hưng Thịnh",
         "Xanh", "Sạch", "Vùng Cao", "Bản Làng", "Tây Bắc", "Hoàng Liên", "Sông Hồng"]  # fmt: skip
PLACES = ["Bát Xát", "Sa Pa", "Bắc Hà", "Mường Khương", "Văn Yên", "Si Ma Cai", "Bảo Yên",
          "Bảo Thắng", "Văn Bàn", "Mù Cang Chải", "Trạm Tấu", "Lục Yên", "Yên Bình", "Nghĩa Lộ",
          "Cốc San", "Tả Van", "Y Tý", "Phong Hải", "Xuân Quang", "Gia Phú"]  # fmt: skip


def names(n: int, rng: random.Random) -> dict[int, str]:
    out = {}
    for i in range(n):
        parts = ["HTX", rng.choice(KINDS), rng.choice(PRODUCTS), rng.choice(WORDS)]
        parts.append(rng.choice(PLACES))
        if rng.random() < 0.5:
            parts.append(f"số {rng.randint(1, 999)}")
        out[i] = " ".join(parts)
    return out


def typed(name: str, rng: random.Random) -> str:
    words = name.split()
    style = rng.randrange(4)
    if style == 0:
        return name
    if style == 1:
        return fold(name)
    if style == 2:
        start = rng.randrange(1, max(2, len(words) - 2))
        return " ".join(words[start : start + 3])
    text = fold(name)
    i = rng.randrange(len(text))
    return text[:i] + text[i + 1 :]


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def run(n: int, queries: int, rng: random.Random) -> None:
    table = names(n, rng)
    t0 = time.perf_counter()
    index = NameIndex(table.items())
    build = time.perf_counter() - t0
    keys = {k: name_key(v) for k, v in table.items()}
    asked = [typed(table[rng.randrange(n)], rng) for _ in range(queries)]
    ours, full, same = [], [], 0
    for q in asked:
        t0 = time.perf_counter()
        a = index.search(q, limit=5)
        ours.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        b = process.extract(name_key(q), keys, scorer=fuzz.WRatio, limit=5, score_cutoff=60)
        full.append((time.perf_counter() - t0) * 1000)
        same += (a[0][1] if a else None) == (b[0][1] if b else None)
    print(
        f"{n:>7} cooperatives | index p50 {pct(ours, 50):6.2f} ms  p99 {pct(ours, 99):6.2f} ms"
        f" | WRatio over all p50 {pct(full, 50):8.2f} ms  p99 {pct(full, 99):8.2f} ms"
        f" | same best score {same / len(asked):.1%} | build {build:.2f} s"
    )


async def scan_all(session: AsyncSession, text: str, limit: int = 5) -> list[Cooperative]:
    """The lookup /dangky used before: every cooperative loaded, WRatio over every name."""
    text = text.strip()
    stmt = select(Cooperative).where(Cooperative.status != "dissolved")
    coops = list((await session.execute(stmt)).scalars())
    exact = [c for c in coops if c.code.lower() == text.lower()]
    if exact:
        return exact
    names = {c.id: fold(c.name).replace("(demo)", "") for c in coops}
    found = process.extract(fold(text), names, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
    by_id = {c.id: c for c in coops}
    return [by_id[key] for _, _, key in found]


async def run_db(url: str, n: int, queries: int, rng: random.Random) -> None:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    table = names(n, rng)
    now = datetime.now(UTC)
    async with sessions() as s:
        await s.execute(delete(Cooperative))
        rows = [{"code": f"LC-{i:06}", "name": name, "kind": "HTX", "sector": "nong_nghiep",
                 "commune": "Xã Bát Xát", "commune_code": 1, "status": "active",
                 "created_at": now, "updated_at": now} for i, name in table.items()]  # fmt: skip
        for start in range(0, n, 5000):
            await s.execute(insert(Cooperative), rows[start : start + 5000])
        await s.commit()
    asked = [
        f"lc-{rng.randrange(n):06}" if rng.random() < 0.2 else typed(table[rng.randrange(n)], rng)
        for _ in range(queries)
    ]
    async with sessions() as s:
        t0 = time.perf_counter()
        await find_cooperatives(s, asked[0])
        first = (time.perf_counter() - t0) * 1000
        ours, old = [], []
        for q in asked:
            t0 = time.perf_counter()
            await find_cooperatives(s, q)
            ours.append((time.perf_counter() - t0) * 1000)
        for q in asked[: 5 if n > 10000 else queries]:  # seconds each at 100k
            t0 = time.perf_counter()
            await scan_all(s, q)
            old.append((time.perf_counter() - t0) * 1000)
        await s.execute(delete(Cooperative))
        await s.commit()
    await engine.dispose()
    label = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"{n:>7} cooperatives, {label:<10} | find_cooperatives p50 {pct(ours, 50):6.2f} ms"
        f"  p99 {pct(ours, 99):6.2f} ms (first, building the index: {first:.0f} ms)"
        f" | load all + WRatio p50 {pct(old, 50):8.2f} ms  p99 {pct(old, 99):8.2f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="100,10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--db", action="store_true", help="the whole path, through a database")
    ap.add_argument("--database-url", help="default: SQLite in a temporary file")
    args = ap.parse_args()
    rng = random.Random(11)
    sizes = [int(x) for x in args.sizes.split(",")]
    if not args.db:
        for n in sizes:
            run(n, args.queries if n <= 10000 else max(50, args.queries // 4), rng)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/lookup.db"
        for n in sizes:
            asyncio.run(run_db(url, n, args.queries, rng))


if __name__ == "__main__":
    main()
