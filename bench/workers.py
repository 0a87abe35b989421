"""Several workers on one PostgreSQL: how fast another takes over, and the combined rate.

Starts ``--workers`` real ``coopbot run --webhook`` processes against a fake Telegram Bot API
(tests/cluster.py), seeds a broadcast to ``--recipients`` members, posts webhook updates to
every worker while it is sent, and kills (SIGKILL) the worker delivering it ``--kills`` times.
Prints, for each kill, the takeover time (kill → the next notice reaching the API) and, for
the whole run, the combined rate (messages per second, all workers together).

    .venv/bin/python bench/workers.py --recipients 1500 --kills 2

Needs PostgreSQL (``COOPBOT_TEST_PG``, default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cluster import Cluster, FakeBotApi, message_update, per_second  # noqa: E402

PG = os.environ.get("COOPBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TEXT = "Thông báo thử: hội chợ HTX"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--recipients", type=int, default=1500)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--webhooks-per-second", type=float, default=4.0)
    args = parser.parse_args()

    api = FakeBotApi()
    api.start()
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(PG, api, Path(tmp))
        cluster.create()
        takeovers: list[float] = []
        try:
            broadcast_id = cluster.seed_broadcast(args.recipients, TEXT)
            started = time.time()
            for _ in range(args.workers):
                cluster.start_worker()
            for worker in list(cluster.workers):
                cluster.wait_ready(worker)
            print(f"{args.workers} workers ready in {time.time() - started:.1f} s")

            def notices() -> list[float]:
                return [s.at for s in api.messages() if s.text == TEXT]

            update = 0
            marks = [args.recipients * (k + 1) // (args.kills + 1) for k in range(args.kills)]
            while True:
                done = cluster.query(
                    f"SELECT finished_at FROM broadcasts WHERE id = {broadcast_id}"
                )[0]["finished_at"]
                if done is not None:
                    break
                alive = cluster.alive()
                update += 1
                if alive:
                    worker = alive[update % len(alive)]
                    cluster.post_update(
                        worker, message_update(700_000 + update, 6_000_000 + update, "/help")
                    )
                if marks and len(notices()) >= marks[0]:
                    marks.pop(0)
                    holder = cluster.holder("telegram.delivery")
                    if holder is not None:
                        cluster.kill(holder)
                        killed = time.time()
                        while cluster.holder("telegram.delivery") is None:
                            time.sleep(0.02)
                        locked = time.time() - killed
                        after = [t for t in notices() if t > killed + locked]
                        while not after:
                            time.sleep(0.02)
                            after = [t for t in notices() if t > killed + locked]
                        takeovers.append(min(after) - killed)
                        print(
                            f"kill -9 of the delivering worker: lock held by another after "
                            f"{locked:.2f} s, its first notice {takeovers[-1]:.2f} s after the kill"
                        )
                        cluster.start_worker()
                time.sleep(1 / args.webhooks_per_second)
            times = notices()
            every = [s.at for s in api.messages()]
        finally:
            cluster.stop_all()
            api.stop()
            cluster.drop()

    rate = per_second(every)
    busy = sorted(rate.values())[len(rate) // 10 :] or [0]
    span = max(times) - min(times)
    print(f"notices: {len(times)} of {args.recipients} in {span:.1f} s ({len(times) / span:.1f}/s)")
    print(
        f"all messages, all workers: max {max(rate.values())} in one second, "
        f"median {statistics.median(busy):.0f}/s (limit 30)"
    )
    if takeovers:
        print(f"takeover: mean {statistics.mean(takeovers):.2f} s, max {max(takeovers):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
