"""Knowledge base cold start and index build at real shape, and what a hot reload costs the
conversations in progress.

Real-shaped bases: every real entry varied with a commune of Lào Cai and a product (each
variant keeps the entry's six question forms, accented and not), written as YAML files, as
staff would keep a large base. For each size, in a fresh process (so peak memory is the
build's own): YAML load with libyaml's ``CSafeLoader`` next to the pure-Python loader, the
checks, the index build, and the peak resident memory. Then a hot reload while a ticker
runs on the event loop every 10 ms: the longest stall with the reload inline (as before)
next to the reload in a thread (``KnowledgeStore.reload_in_thread``).

    .venv/bin/python bench/index_build.py [--sizes 10000,100000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge import base  # noqa: E402
from knowledge.base import DATA_DIR, Entry, KnowledgeStore, Loaded, load_dir  # noqa: E402
from knowledge.normalize import fold  # noqa: E402
from knowledge.places import communes  # noqa: E402

PRODUCTS = ["chè", "mận", "gạo nếp", "quế", "mật ong", "thảo quả", "cá hồi", "lợn bản",
            "măng", "nấm", "chuối", "dứa", "dược liệu", "rau an toàn", "gà đồi", "hồng không hạt",
            "lê", "đào", "ngô", "sa nhân", "tam thất", "cà phê", "hoa", "dâu tây", "miến dong",
            "rượu ngô", "thổ cẩm", "trâu", "bò", "dê"]  # fmt: skip
PER_FILE = 5000


def variants(n: int) -> list[Entry]:
    """``n`` entries: the real ones, each with a commune and a product."""
    real = [e for e in load_dir(DATA_DIR).entries if e.scope == "in" and e.questions]
    places = [c.name for c in communes()]
    out = []
    for i in range(n):
        e = real[i % len(real)]
        k = i // len(real)
        place, product = places[k % len(places)], PRODUCTS[(k // len(places)) % len(PRODUCTS)]
        forms = list(e.questions[:6])
        while len(forms) < 6:
            forms.append(fold(forms[len(forms) % len(e.questions)]))
        questions = []
        for j, q in enumerate(forms):
            q = q.rstrip("?").strip()
            text = f"{q} ở {place}, HTX {product}?" if j % 2 else f"HTX {product} {place}: {q}"
            questions.append(fold(text) if j in (2, 5) else text)
        out.append(
            Entry(
                id=f"{e.id}.v{i}",
                title=f"{e.title} ({place}, {product})"[:60],
                questions=tuple(dict.fromkeys(questions)),
                answer=e.answer,
                tags=e.tags,
                sources=e.sources,
                reviewed=e.reviewed,
                certainty=e.certainty,
            )
        )
    return out


def write_base(entries: list[Entry], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f, start in enumerate(range(0, len(entries), PER_FILE)):
        chunk = [e.export() for e in entries[start : start + PER_FILE]]
        for item in chunk:
            item.pop("followups", None)
        text = yaml.dump({"entries": chunk}, allow_unicode=True, Dumper=yaml.CSafeDumper)
        (folder / f"part{f:03}.yaml").write_text(text, encoding="utf-8")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _accepting(load_real: Callable[[Path], Loaded]) -> Callable[[Path], Loaded]:
    """``load_dir`` with every check run (its cost counted) but its problems dropped: the
    variants of one entry "nearly repeat" each other by construction."""

    def load(path: Path) -> Loaded:
        loaded = load_real(path)
        loaded.problems.clear()
        return loaded

    return load


def child(folder: Path, quick: bool) -> None:
    """In a fresh process: time each step of a cold start, and a reload's stall."""
    base.load_dir = _accepting(base.load_dir)
    files = sorted(folder.glob("*.yaml"))
    t0 = time.perf_counter()
    for f in files[:1] if quick else files:  # --quick: one file, scaled
        yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    pure = (time.perf_counter() - t0) * (len(files) if quick else 1)
    t0 = time.perf_counter()
    for f in files:
        yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    c_loader = time.perf_counter() - t0
    base_mb = peak_mb()
    t0 = time.perf_counter()
    store = KnowledgeStore(folder)
    cold = time.perf_counter() - t0
    cold_peak = peak_mb()
    stall_inline, stall_thread = asyncio.run(stalls(store, folder, quick))
    print(f"{len(store.entries):>8} {pure:9.2f} {c_loader:8.2f} {cold:8.2f} "
          f"{cold_peak - base_mb:8.0f} {cold_peak:8.0f} {stall_inline * 1000:10.0f} "
          f"{stall_thread * 1000:10.0f}", flush=True)  # fmt: skip


async def stalls(store: KnowledgeStore, folder: Path, quick: bool) -> tuple[float, float]:
    """The longest gap of a 10 ms ticker during a reload inline, then in a thread (--quick:
    the thread only; inline, the stall is the whole reload, about the cold start)."""
    result = [float("nan")] if quick else []
    for inline in (False,) if quick else (True, False):
        (folder / ".reload").write_text(str(time.time()))
        worst, done = 0.0, asyncio.Event()

        async def ticker(done: asyncio.Event = done) -> None:
            nonlocal worst
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                worst, last = max(worst, now - last - 0.01), now

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        if inline:
            store.reload_if_changed()
        else:
            await store.reload_in_thread()
        done.set()
        await tick
        result.append(worst)
    return result[0], result[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--quick", action="store_true",
                    help="pure-Python YAML on one file only, no inline reload")  # fmt: skip
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child), args.quick)
        return
    print(f"{'entries':>8} {'YAML py':>9} {'YAML C':>8} {'cold s':>8} {'+MB':>8} "
          f"{'peak MB':>8} {'stall in':>10} {'stall thr':>10}")  # fmt: skip
    print(f"{'':>8} {'s':>9} {'s':>8} {'(load+':>8} {'build':>8} {'process':>8} "
          f"{'loop, ms':>10} {'ead, ms':>10}")  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",") if s):
        with tempfile.TemporaryDirectory() as tmp:
            write_base(variants(size), Path(tmp) / "kb")
            quick = ["--quick"] if args.quick else []
            subprocess.run([sys.executable, __file__, "--child", str(Path(tmp) / "kb"), *quick],
                           check=True)  # fmt: skip


if __name__ == "__main__":
    main()
