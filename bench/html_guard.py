"""The HTML guard's cost, measured in one run against nh3 itself.

- Ordinary shapes: the guard's pass against nh3's clean of the same markup (the ratio is what the guard adds).
- Costly shapes: the guard's time and peak memory to refuse each, against what nh3 takes on it uncapped, each
  nh3 run in a child process killed after NH3_SECONDS (nh3 holds Python's signals: only a kill stops it).
- The store: message_prepare of the costly messages (parse, guard, note), with its peak Python memory.

Run: .venv/bin/python bench/html_guard.py   (make bench runs it too)
"""
import multiprocessing
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailsite.settings")

import django  # noqa: E402

django.setup()

import nh3  # noqa: E402

from bench.timing import best  # noqa: E402
from spooler.services.html import HtmlLimits, html_measure  # noqa: E402
from spooler.services.inbound.store import message_texts  # noqa: E402
from spooler.sessions import Email  # noqa: E402
from tests.fixtures.costly_html import HOSTILE, ORDINARY, html_message  # noqa: E402

NH3_SECONDS = float(os.environ.get("NH3_SECONDS", 5))
LIMITS = HtmlLimits.from_settings()


def _nh3_child(markup, pipe):
    start = time.perf_counter()
    nh3.clean(markup, tags=set(), attributes={})
    pipe.send((time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def nh3_uncapped(markup) -> str:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_nh3_child, args=(markup, child))
    process.start()
    process.join(NH3_SECONDS)
    if process.is_alive():
        process.kill()
        process.join()
        return f"> {NH3_SECONDS:.0f} s (killed)"
    seconds, peak_mb = parent.recv()
    return f"{seconds * 1000:8.1f} ms, peak RSS {peak_mb:5.0f} MB"


def peak_python_memory(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main():
    print(f"caps: {LIMITS}")
    print("\nordinary markup: guard pass vs nh3.clean (strip every tag) of the same markup")
    ratios = []
    for name, markup in ORDINARY.items():
        guard = best(lambda: html_measure(markup, limits=LIMITS))
        clean = best(lambda: nh3.clean(markup, tags=set(), attributes={}))
        ratios.append(guard / clean)
        print(f"  {name:42s} {len(markup) / 1e3:7.0f} kB  guard {guard * 1000:7.1f} ms  nh3 {clean * 1000:7.1f} ms"
              f"  guard/nh3 {guard / clean:5.2f}")
    print(f"  median guard/nh3 ratio: {statistics.median(ratios):.2f}")

    print(f"\ncostly markup: the guard refuses it; nh3 on it uncapped (child process, killed after {NH3_SECONDS:.0f} s)")
    for name, markup in HOSTILE.items():
        reason = html_measure(markup, limits=LIMITS)
        guard = best(lambda: html_measure(markup, limits=LIMITS))
        memory = peak_python_memory(lambda: html_measure(markup, limits=LIMITS))
        print(f"  {name:38s} {len(markup) / 1e3:7.0f} kB  guard {guard * 1000:6.1f} ms, peak {memory:5.1f} MB"
              f"  ({reason})  nh3 uncapped: {nh3_uncapped(markup)}")

    print("\nthe store: parse + guard + text of each costly message (message_texts), HTML-only")
    total = 0.0
    for n, (name, markup) in enumerate(HOSTILE.items()):
        raw = html_message(n, name, markup)
        seconds = best(lambda: message_texts(Email.parse(raw)), rounds=1, warm=False)
        total += seconds
        if len(raw) > 5e6:
            memory = peak_python_memory(lambda: message_texts(Email.parse(raw)))
            print(f"  {name}: {len(raw) / 1e6:.1f} MB message stored as text in {seconds * 1000:.0f} ms, "
                  f"peak Python memory {memory:.0f} MB ({memory / (len(raw) / 1e6):.1f}x the message)")
    print(f"  all {len(HOSTILE)} costly messages: {total:.2f} s in all")


if __name__ == "__main__":
    main()
