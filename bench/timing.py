"""The one timer of the benchmarks that time a call: the best of some rounds, after one untimed pass."""
import time


def best(fn, rounds: int = 3, warm: bool = True) -> float:
    if warm:
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
