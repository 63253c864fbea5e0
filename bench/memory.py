"""Memory: resident memory of `jiesu run` and `jiesu web` over a sustained run at a steady rate.

Requests are offered at `--rate` per second for `--minutes`; the resident memory (VmRSS) of each process
is sampled every `--every` seconds, with how many requests were sent and opened so far (the backlog, if
the worker does not keep up). Growth is the mean of the last fifth of the samples against the mean of
the samples just after warm-up (the second fifth). Meanwhile, once the first minute's cases are in, the web
app's main pages are fetched over HTTP once a second (`bench/web_probe.py`): their p50 and p95 are printed
at the end. Offer more than the worker sustains and it runs at its maximum throughout.

    .venv/bin/python -m bench.memory --rate 500 --minutes 10 [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.e2e_dispatch import intake_records, wait_until
from bench.flow import Collector, Feed, resident_mb, run_settings, start_jiesu, tally
from bench.web_probe import WebProbe
from dispatcher.adapters.database import make_engine, upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--every", type=float, default=30, help="seconds between samples")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--web-port", type=int, default=18_765)
    args = parser.parse_args()

    name = f"mem{uuid.uuid4().hex[:6]}"
    workdir = Path(tempfile.mkdtemp(prefix="jiesu-memory-"))
    url = args.database_url or f"sqlite:///{workdir / 'jiesu.db'}"
    upgrade(url)
    settings = run_settings(url, args.bootstrap, name, workdir, web_port=args.web_port)
    count = int(args.rate * args.minutes * 60)
    records = intake_records(settings.topic("intake"), count, datetime.now(UTC).replace(microsecond=0))
    tickets = {record.key for record in records}
    collector = Collector(args.bootstrap, settings.topic("cases"))
    collector.start()
    log = (workdir / "processes.log").open("ab")
    processes = {
        "jiesu run": start_jiesu(settings, log, "run", "--log-level", "warn"),
        "jiesu web": start_jiesu(settings, log, "web"),
    }
    samples: list[tuple[float, dict[str, float], int, int]] = []
    engine = make_engine(url)
    probe: WebProbe | None = None
    try:
        Feed(args.bootstrap, settings.topic("intake"), records[:1], None).start().thread.join()
        wait_until(lambda: records[0].key in collector.opened_at, 120, "the first case")
        feed = Feed(args.bootstrap, settings.topic("intake"), records[1:], args.rate).start()
        began = time.monotonic()
        print(f"{count} requests at {args.rate:.0f}/s, database {url.split(':', 1)[0]}", flush=True)
        print("| minute | " + " | ".join(f"{name} MB" for name in processes) + " | sent | opened |")
        print("|---|" + "---|" * len(processes) + "---|---|")
        while feed.thread.is_alive() or time.monotonic() - began < args.minutes * 60:
            if probe is None and time.monotonic() - began > 60:
                probe = WebProbe(engine, lambda: datetime.now(UTC), f"http://127.0.0.1:{args.web_port}")
                probe.phase = f"{args.rate:.0f}/s offered"
                probe.start()
            resident = {name: resident_mb(process.pid) for name, process in processes.items()}
            minute = (time.monotonic() - began) / 60
            samples.append((minute, resident, feed.sent, len(collector.opened_at)))
            print(
                f"| {minute:.1f} | "
                + " | ".join(f"{mb:.0f}" for mb in resident.values())
                + f" | {feed.sent} | {len(collector.opened_at)} |",
                flush=True,
            )
            time.sleep(args.every)
    finally:
        if probe is not None:
            probe.stop()
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=60)
        collector.stop()
    fifth = max(1, len(samples) // 5)
    for name in processes:
        early = statistics.mean(sample[1][name] for sample in samples[fifth : 2 * fifth])
        late = statistics.mean(sample[1][name] for sample in samples[-fifth:])
        print(f"{name}: {early:.0f} MB after warm-up, {late:.0f} MB at the end ({late - early:+.0f} MB)")
    if probe is not None:
        print("\n".join(probe.summary()))
    engine.dispose()
    counts = tally(collector, tickets)
    print(f"opened {counts.opened} of {counts.sent} (backlog {counts.lost}), duplicates {counts.duplicates}")


if __name__ == "__main__":
    main()
