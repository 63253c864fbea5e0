"""`python -m bench.faults [scenario ...]`: run the fault scenarios (all by default) and print the table."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import FrameType

from bench.faults.checks import Outcome
from bench.faults.infra import Broker, InfraError, Postgres, require_free
from bench.faults.scenarios import SCENARIOS, Lab, Options

DEFAULTS = Options()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenarios", nargs="*", metavar="scenario", help=f"any of {', '.join(SCENARIOS)} (default: all)"
    )
    parser.add_argument("--count", type=int, default=DEFAULTS.count, help="requests per intake scenario")
    parser.add_argument("--rate", type=float, default=DEFAULTS.rate, help="requests per second offered")
    parser.add_argument(
        "--timer-cases",
        type=int,
        default=DEFAULTS.timer_cases,
        help="cases whose SLA timers are made due in the sweeper scenarios",
    )
    parser.add_argument(
        "--outage",
        type=float,
        default=DEFAULTS.outage_seconds,
        help="seconds PostgreSQL stays down in database-down",
    )
    parser.add_argument("--partitions", type=int, default=DEFAULTS.partitions)
    parser.add_argument(
        "--no-notifications",
        action="store_true",
        help="workers leave notifications out (JIESU_NOTIFICATIONS=false)",
    )
    parser.add_argument("--kafka-port", type=int, default=29092, help="the throwaway broker (controller: +1)")
    parser.add_argument("--pg-port", type=int, default=55432, help="the throwaway PostgreSQL cluster")
    parser.add_argument(
        "--logs",
        type=Path,
        default=None,
        help="copy the workers', broker's and PostgreSQL's logs into this folder at the end",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}: choose from {', '.join(SCENARIOS)}")
    return args


def command_of(args: argparse.Namespace, scenario: str) -> str:
    extra = []
    for option, default in (
        ("count", DEFAULTS.count),
        ("rate", DEFAULTS.rate),
        ("timer_cases", DEFAULTS.timer_cases),
        ("outage", DEFAULTS.outage_seconds),
    ):
        value = getattr(args, option)
        if value != default:
            extra.append(f"--{option.replace('_', '-')} {value:g}")
    if args.no_notifications:
        extra.append("--no-notifications")
    return " ".join(["python -m bench.faults", scenario, *extra])


HEADER = (
    "| scenario | requests sent | cases created | dispatch events | SLA timers due | fired | SLA events "
    "| dead-lettered | redelivered (same ce_id) | duplicates | lost | outbox unsent | result | seconds "
    "| command |"
)


def row(outcome: Outcome, command: str) -> str:
    cells = [
        outcome.scenario,
        outcome.sent,
        outcome.cases,
        outcome.dispatch_events,
        outcome.timers_due or "-",
        outcome.timers_fired if outcome.timers_due else "-",
        outcome.sla_events if outcome.timers_due else "-",
        outcome.dead_letters,
        outcome.redelivered,
        outcome.duplicates,
        outcome.lost,
        outcome.unsent,
        "pass" if outcome.passed else "FAIL",
        f"{outcome.seconds:.0f}",
        f"`{command}`",
    ]
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def table(outcomes: list[tuple[Outcome, str]]) -> str:
    """The markdown table, then what each scenario observed and, in bold, what it found wrong."""
    lines = [HEADER, "|" + "---|" * (HEADER.count(" | ") + 1)]
    lines += [row(outcome, command) for outcome, command in outcomes]
    findings = [f"- {outcome.scenario}: {note}" for outcome, _ in outcomes for note in outcome.notes]
    findings += [
        f"- {outcome.scenario}: **{problem}**" for outcome, _ in outcomes for problem in outcome.problems
    ]
    return "\n".join([*lines, "", *findings] if findings else lines)


def terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: everything started is stopped


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    chosen = args.scenarios or list(SCENARIOS)
    options = Options(
        count=args.count,
        rate=args.rate,
        timer_cases=args.timer_cases,
        outage_seconds=args.outage,
        partitions=args.partitions,
        notifications=not args.no_notifications,
    )
    signal.signal(signal.SIGTERM, terminate)
    began = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="jiesu-faults-"))
    root.chmod(0o755)  # the postgres user reaches its folder inside
    postgres = Postgres(root, args.pg_port)
    broker = Broker(root, args.kafka_port, args.partitions)
    outcomes: list[tuple[Outcome, str]] = []
    try:
        require_free(args.pg_port, args.kafka_port, args.kafka_port + 1)
        print(
            f"setting up PostgreSQL on 127.0.0.1:{args.pg_port} and Kafka on {broker.bootstrap} in {root}",
            file=sys.stderr,
        )
        postgres.init()
        postgres.start()
        broker.start()
        lab = Lab(root, postgres, broker, options)
        for name in chosen:
            outcomes.append((run_one(lab, name), command_of(args, name)))
    except InfraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if args.logs is not None:
            keep_logs(root, args.logs)
        broker.destroy()
        postgres.destroy()
        shutil.rmtree(root, ignore_errors=True)
    print(table(outcomes))
    print(f"\n{len(outcomes)} scenarios in {time.monotonic() - began:.0f} s", file=sys.stderr)
    return 0 if all(outcome.passed for outcome, _ in outcomes) else 1


def run_one(lab: Lab, name: str) -> Outcome:
    print(f"{name}: running", file=sys.stderr)
    started = time.monotonic()
    run = lab.fresh(name)
    try:
        SCENARIOS[name](run)
    except Exception as error:
        run.outcome.problem(f"scenario did not complete: {error.__class__.__name__}: {error}")
        traceback.print_exc(file=sys.stderr)
        for worker in run.workers:
            print(f"--- {worker.name} (last lines)\n{worker.tail()}", file=sys.stderr)
    finally:
        run.close()
        lab.recover()
    run.outcome.seconds = time.monotonic() - started
    verdict = "pass" if run.outcome.passed else "FAIL: " + "; ".join(run.outcome.problems)
    print(f"{name}: {verdict} ({run.outcome.seconds:.0f} s)", file=sys.stderr)
    return run.outcome


def keep_logs(root: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for log in [*root.glob("*.log"), root / "kafka" / "broker.log", root / "postgres" / "postgres.log"]:
        if log.is_file():
            shutil.copy(log, target / log.name)


if __name__ == "__main__":
    sys.exit(main())
