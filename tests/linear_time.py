"""Does the time a function takes grow linearly with the length of its input?

`assert_linear` runs a function on inputs of growing size (each eight times the last, built from a unit
repeated without spaces), takes the best of a few runs per size, and compares each step with the one before:
a linear function takes about eight times as long (up to twenty times where the input outgrows the processor's
caches), a quadratic one sixty-four times. The check stops at the first step that grows clearly faster than the
input, so that a quadratic pattern fails in a fraction of a second instead of running for minutes. No absolute
time is asserted."""
import time
from collections.abc import Callable

SIZES = (4_000, 32_000, 256_000)
# A step may take this many times longer than the input grew (noise, caches) before it counts as
# non-linear: 8 x 4 = 32 against 64 for quadratic growth.
SLACK = 4.0
# Below this, timer resolution and scheduling noise dominate; such a size is no baseline.
MEASURABLE = 0.005


def _best(fn: Callable[[str], object], text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - started)
    return best


def repeated(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def growth(fn: Callable[[str], object], unit: str, sizes=SIZES, repeat: int = 2,
           make: Callable[[str, int], str] = repeated) -> tuple[bool, list[tuple[int, float]]]:
    """(linear?, [(size, seconds), ...]) for `fn` on `unit` repeated to each size."""
    times: list[tuple[int, float]] = []
    for size in sizes:
        seconds = _best(fn, make(unit, size), repeat)
        times.append((size, seconds))
        if len(times) < 2:
            continue
        (before, taken), (now, _seconds) = times[-2], times[-1]
        if taken >= MEASURABLE and seconds / taken > SLACK * now / before:
            return False, times
    return True, times


def assert_linear(fn: Callable[[str], object], units, *, label: str = "", sizes=SIZES, repeat: int = 2,
                  make: Callable[[str, int], str] = repeated) -> None:
    """Fails with a table of the times for every unit on which `fn` grows faster than linearly."""
    failures = []
    for unit in units:
        linear, times = growth(fn, unit, sizes=sizes, repeat=repeat, make=make)
        if not linear:  # once more: a busy machine can stall one measurement, a quadratic pattern fails again
            linear, times = growth(fn, unit, sizes=sizes, repeat=repeat + 1, make=make)
        if not linear:
            table = ", ".join(f"{size:,} chars {seconds * 1000:.1f} ms" for size, seconds in times)
            failures.append(f"{label or getattr(fn, '__name__', fn)} on {unit!r} repeated: {table}")
    assert not failures, "grows faster than linearly:\n" + "\n".join(failures)
