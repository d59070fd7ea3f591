"""A/B run of bench/spool.py and bench/ingest.py: one revision against another, in the same run, in turns.

    .venv/bin/python bench/ab.py [--before REV] [--after REV] [--rounds 3] [--db sqlite,postgres]
                                 [--benches spool,ingest] [--spool-args "--messages 2000"] [--ingest-rounds N]

--before is a git revision (default origin/main); --after a revision too, or, by default, the working tree as it
is (uncommitted changes included: tracked and untracked, not ignored, files are copied). Each side gets its own
directory under one temporary directory (a detached `git worktree`, or that copy) with its own var/ and TMPDIR
(so the benches' SQLite files, Redis and Dovecot sandboxes are the side's own). Every bench runs with this
repository's .venv python, in the side's directory, so it imports the side's code (and its Celery worker too).

Order: for each round, for each database, for each bench: before, then after, back to back; so each pair sees the
same machine. The run before a pair's first one is the other bench (or the other database's): with --order abba
the even rounds take after first, so that the first seat (which follows, e.g., a PostgreSQL spool run's dropped
database and its checkpoint) is not always before's; --settle N waits N s before each run. PostgreSQL (--pg-url, default postgres://postgres@127.0.0.1:5432/postgres): every bench run gets a
fresh database of its own (ab_<tag>_<side>_<bench>_<round>), dropped after the run (ingest.py creates and drops
its own throwaway database on that server from there).

The benches' own lines are printed per run; then, per database and bench, a table of every figure they print
(its median over the rounds on each side, the change of the medians in %, the spread of each side over its
rounds, and the seat-balanced change) and a flag on every loss over --threshold % (5) in the figure's good
direction. The seat-balanced change is the one flagged when both orders ran: the run that comes first in a pair
was measured faster by 20-45% on this 2-core machine (ingest, either side), so with 3 abba rounds the median favours
the side that sat first twice; it is exp of the mean, over the two orders, of each order's mean ln(after/before)
over its rounds, so that each seat counts once for each side. Flagged figures are those in their good direction: rates and "x raw" ratios up, latencies, RSS
and "target <=" ratios down. The SMTP round trip to the sink and the raw smtplib / poplib rates are the machine's,
not the code's: shown, not flagged (they show how noisy the machine was).
Exit status 1 when a loss is flagged or a run failed.

--from-log FILE prints the tables again from a saved run's output (its "--- round" blocks), without running.

Shorter runs: --spool-args "--messages 2000 --rounds 1 --latency-samples 20 --posts 30" (spool.py's options);
--ingest-rounds 3 (ingest.py's BENCH_ROUNDS, default 5; its 2,000 messages are fixed).
"""
import argparse
import math
import os
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = {"spool": "bench/spool.py", "ingest": "bench/ingest.py"}
# Lines that describe the run rather than measure it.
SKIP = ("warm-up round", "messages", "mailbox", "work directory kept")
# Figures of the machine (the loopback, smtp-sink, Dovecot, the standard library), not of the code: shown, not
# flagged; they tell how noisy the run was.
INFO = ("round trip to the sink", "raw smtplib rate", "raw poplib RETR")
NUM = r"-?\d[\d,]*(?:\.\d+)?"
HIGHER_UNITS = ("msg/s", "messages/s")
LOWER_UNITS = ("ms", "us", "s", "MB", "KB", "B")


def log(text=""):
    print(text, flush=True)


def loadavg():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def git(*args, capture=True):
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, text=True,
                          stdout=subprocess.PIPE if capture else None).stdout


def direction(text):
    """+1 when more is better, -1 when less is, 0 when unknown; from a "target >= / <=" or the unit."""
    target = re.search(r"target\s*(>=|<=|>|<)", text)
    if target:
        return 1 if target.group(1).startswith(">") else -1
    unit = re.match(rf"\s*{NUM}\s*(\S+)", text)
    unit = unit.group(1).rstrip(",;)") if unit else ""
    if unit in HIGHER_UNITS:
        return 1
    if unit in LOWER_UNITS:
        return -1
    return 0


def parse(stdout):
    """{figure: (value, direction)} from a bench's "name: value unit  (notes)" lines. A "(0.312 x raw poplib; ...)"
    note is a figure of its own ("name [x raw poplib]"), and takes the target with it."""
    figures, warnings = {}, []
    for raw in stdout.splitlines():
        match = re.match(r"^([^:]+?):\s+(.*)$", raw.strip())
        if not match:
            continue
        name, rest = " ".join(match.group(1).split()), match.group(2)
        if name.startswith(SKIP):
            continue
        if "NOT ALL SENT" in rest:
            warnings.append(raw.strip())
            continue
        value = re.match(rf"\s*({NUM})", rest)
        if not value:
            continue
        sub = re.search(rf"\(({NUM}) x ([^;)]+)([^)]*)\)", rest)
        figures[name] = (float(value.group(1).replace(",", "")), direction(rest[:sub.start()] if sub else rest))
        if sub:
            figures[f"{name} [x {sub.group(2).strip()}]"] = (float(sub.group(1).replace(",", "")),
                                                             direction(sub.group(1) + " x " + sub.group(3)))
    return figures, warnings


class Run:
    def __init__(self, args):
        self.args = args
        self.tag = f"{os.getpid()}_{secrets.token_hex(2)}"
        self.tmp = Path(tempfile.mkdtemp(prefix="ab-"))
        os.chmod(self.tmp, 0o755)
        self.worktrees, self.databases = [], []
        self.python = ROOT / ".venv" / "bin" / "python"
        if not self.python.exists():
            self.python = Path(sys.executable)
        self.child = None

    # --- the two sides
    def checkout(self, label, rev):
        path = self.tmp / label
        if rev is None:  # the working tree, as it is
            files = git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
            for name in filter(None, files):
                source = ROOT / name
                if source.is_file():
                    (path / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, path / name)
            described = "working tree of " + git("rev-parse", "--short", "HEAD").strip()
            dirty = git("status", "--porcelain", "--untracked-files=no").strip()
            described += " (with uncommitted changes)" if dirty else " (clean)"
        else:
            commit = git("rev-parse", "--verify", f"{rev}^{{commit}}").strip()
            git("worktree", "add", "--detach", "-q", str(path), commit)
            self.worktrees.append(path)
            described = f"{rev} = {git('log', '-1', '--format=%h %s', commit).strip()[:100]}"
        (path / "var" / "tmp").mkdir(parents=True, exist_ok=True)
        # Compiled once before the first run, so that neither side's first round pays for it.
        subprocess.run([str(self.python), "-m", "compileall", "-q", "mailsite", "spooler", "tests", "bench"],
                       cwd=path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return path, described

    # --- PostgreSQL
    def psql(self, sql):
        subprocess.run(["psql", self.args.pg_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                       stdout=subprocess.DEVNULL)

    def create_database(self, name):
        self.psql(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        base, _, _ = self.args.pg_url.rpartition("/")
        return f"{base}/{name}"

    def drop_database(self, name):
        try:
            self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.databases.remove(name)
        except subprocess.CalledProcessError as error:
            log(f"ab: could not drop database {name}: {error}")

    # --- one bench run
    def bench(self, side, path, db, bench, round_):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BENCH_DATABASE_URL")}
        env.update(TMPDIR=str(path / "var" / "tmp"), PYTHONUNBUFFERED="1")
        if self.args.ingest_rounds:
            env["BENCH_ROUNDS"] = str(self.args.ingest_rounds)
        database = None
        if db == "postgres":
            database = f"ab_{self.tag}_{side}_{bench}_{round_}"
            env["BENCH_DATABASE_URL"] = self.create_database(database)
        cmd = [str(self.python), BENCHES[bench]]
        if bench == "spool":
            cmd += shlex.split(self.args.spool_args)
        started, load = time.monotonic(), loadavg()
        try:
            self.child = subprocess.Popen(cmd, cwd=path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True, start_new_session=True)
            try:
                stdout, stderr = self.child.communicate(timeout=self.args.timeout)
            except subprocess.TimeoutExpired:
                self.stop_child()
                stdout, stderr = self.child.communicate()
                stderr += f"\nab: timed out after {self.args.timeout} s"
            code = self.child.returncode
            self.child = None
        finally:
            self.stop_child()  # (interrupted: the bench first, then its database)
            if database:
                self.drop_database(database)
        elapsed = time.monotonic() - started
        log(f"--- round {round_} {db} {bench} {side}: {elapsed:.0f} s, load before {load}, exit {code}")
        for text in stdout.splitlines():
            log(f"    {text}")
        if code != 0:
            log("    stderr: " + "\n    ".join(stderr.strip().splitlines()[-15:]))
        figures, warnings = parse(stdout) if code == 0 else ({}, [])
        return figures, warnings, code, elapsed

    def stop_child(self):
        """The bench gets SIGINT (its finally stops its Redis, sinks, worker, sandbox); SIGKILL after 30 s (its
        helpers then get SIGTERM: they die with their parent)."""
        child = self.child
        if child is None or child.poll() is not None:
            return
        child.send_signal(signal.SIGINT)
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def cleanup(self):
        self.stop_child()
        for name in list(self.databases):
            self.drop_database(name)
        for path in self.worktrees:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def spread(values):
    """(max - min) / median, in %: how far a side's rounds are apart."""
    if len(values) < 2:
        return ""
    middle = statistics.median(values)
    return f"{(max(values) - min(values)) / middle * 100:.0f}%" if middle else ""


def number(value):
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def balanced_change(pairs):
    """The seat-balanced change in % of (first side, before, after) pairs of one figure (see the docstring), or
    None when only one order ran or a value is not positive."""
    by_order = {}
    for first, b, a in pairs:
        if b <= 0 or a <= 0:
            return None
        by_order.setdefault(first, []).append(math.log(a / b))
    if len(by_order) < 2:
        return None
    return (math.exp(statistics.mean(statistics.mean(v) for v in by_order.values())) - 1) * 100


def table(results, args):
    """Per database and bench: every figure's medians, changes and flag. Returns the number of flagged losses.
    results: {(db, bench): {round: {"first": side, "before": figures, "after": figures}}}."""
    losses = 0
    for (db, bench), rounds in results.items():
        runs = {side: [r[side] for r in rounds.values() if side in r] for side in ("before", "after")}
        names = list(dict.fromkeys(name for side in runs for run in runs[side] for name in run))
        if not names:
            log(f"\n{db} / {bench}: no figures")
            continue
        log(f"\n{db} / {bench}  ({len(runs['before'])} before and {len(runs['after'])} after runs)")
        width = max(len(name) for name in names)
        log(f"  {'figure':<{width}}  {'before':>9}  {'after':>9}  {'change':>7}  {'spread b/a':>10}  {'balanced':>8}")
        for name in names:
            before = [run[name][0] for run in runs["before"] if name in run]
            after = [run[name][0] for run in runs["after"] if name in run]
            sense = next(run[name][1] for side in runs for run in runs[side] if name in run)
            if not before or not after:
                log(f"  {name:<{width}}  {'-':>9}  {'-':>9}  (only on one side)")
                continue
            b, a = statistics.median(before), statistics.median(after)
            change = (a - b) / b * 100 if b else 0.0
            pairs = [(r["first"], r["before"][name][0], r["after"][name][0]) for r in rounds.values()
                     if name in r.get("before", {}) and name in r.get("after", {})]
            balanced = balanced_change(pairs)
            judged = change if balanced is None else balanced
            flag = ""
            if any(word in name for word in INFO):
                flag = "(machine, not flagged)"
            elif sense == 0:
                flag = "(direction unknown)"
            elif sense * judged < -args.threshold:
                flag = f"LOSS > {args.threshold:g}%"
                losses += 1
            arrow = {1: "^", -1: "v", 0: " "}[sense]
            shown = "" if balanced is None else f"{balanced:+6.1f}%"
            log(f"  {name:<{width}}  {number(b):>9}  {number(a):>9}  {change:+6.1f}%  "
                f"{spread(before):>4}/{spread(after):<5}  {shown:>8}  {arrow} {flag}")
    log("\n  (^ more is better, v less is better; change = after vs before, of the medians over the rounds; "
        "spread = (max - min) / median over one side's rounds; balanced = the seat-balanced change, the one "
        "flagged when both orders ran)")
    return losses


def from_log(path):
    """The results of a saved run, read back from its "--- round N db bench side: ..." blocks."""
    results = {}
    block = None
    for line in Path(path).read_text().splitlines() + ["--- end"]:
        if line.startswith("--- "):
            if block and block["code"] == 0:
                figures, _ = parse("\n".join(block["lines"]))
                entry = results.setdefault((block["db"], block["bench"]), {}).setdefault(block["round"], {})
                entry.setdefault("first", block["side"])
                entry[block["side"]] = figures
            match = re.match(r"--- round (\d+) (\w+) (\w+) (before|after): .*exit (\d+)", line)
            block = match and {"round": int(match.group(1)), "db": match.group(2), "bench": match.group(3),
                               "side": match.group(4), "code": int(match.group(5)), "lines": []}
        elif block and line.startswith("    "):
            block["lines"].append(line[4:])
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="origin/main", help="git revision (default origin/main)")
    parser.add_argument("--after", default=None, help="git revision (default: the working tree as it is)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite,postgres (either or both)")
    parser.add_argument("--benches", default="spool,ingest", help="spool,ingest (either or both)")
    parser.add_argument("--spool-args", default="", help='passed to bench/spool.py, e.g. "--messages 2000"')
    parser.add_argument("--ingest-rounds", type=int, default=0, help="BENCH_ROUNDS of bench/ingest.py (default 5)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL database to connect to for creating and dropping the runs' databases")
    parser.add_argument("--threshold", type=float, default=5.0, help="flag losses over this many %% (5)")
    parser.add_argument("--order", choices=("ab", "abba"), default="ab",
                        help="ab: before first in every round; abba: after first in the even rounds (so that "
                             "neither side is always the one that follows the other bench)")
    parser.add_argument("--settle", type=float, default=0, help="seconds to wait before each bench run")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per bench run")
    parser.add_argument("--from-log", default=None, help="print the tables of a saved run's output; run nothing")
    args = parser.parse_args()
    if args.from_log:
        return 1 if table(from_log(args.from_log), args) else 0
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    benches = [b.strip() for b in args.benches.split(",") if b.strip()]
    unknown = [d for d in dbs if d not in ("sqlite", "postgres")] + [b for b in benches if b not in BENCHES]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")

    run = Run(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the clean-up below runs
    started = time.monotonic()
    failures, warnings = 0, []
    results = {(db, bench): {} for db in dbs for bench in benches}
    try:
        sides = {}
        for side, rev in (("before", args.before), ("after", args.after)):
            path, described = run.checkout(side, rev)
            sides[side] = path
            log(f"{side}: {described}  ({path})")
        log(f"python: {run.python}; rounds: {args.rounds} ({args.order}); databases: {', '.join(dbs)}; benches: {', '.join(benches)}; "
            f"load: {loadavg()}")
        for round_ in range(1, args.rounds + 1):
            for db in dbs:
                for bench in benches:
                    order = ("before", "after")
                    if args.order == "abba" and round_ % 2 == 0:
                        order = ("after", "before")
                    for side in order:
                        time.sleep(args.settle)
                        figures, warned, code, _ = run.bench(side, sides[side], db, bench, round_)
                        failures += code != 0
                        warnings += [f"round {round_} {db} {bench} {side}: {w}" for w in warned]
                        entry = results[(db, bench)].setdefault(round_, {"first": side})
                        if code == 0:
                            entry[side] = figures
    except KeyboardInterrupt:
        log("\nab: interrupted; summary of the runs done so far")
    finally:
        run.cleanup()
    losses = table(results, args)
    for warning in warnings:
        log(f"WARNING {warning}")
    log(f"\nwall time: {(time.monotonic() - started) / 60:.1f} min; load at the end: {loadavg()}; "
        f"{failures} failed runs; {losses} losses over {args.threshold:g}%")
    return 1 if losses or failures else 0


if __name__ == "__main__":
    sys.exit(main())
