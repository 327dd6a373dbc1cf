"""Show that the framers do linear work: bytes/s stays flat as the stream grows.

Feeds streams of 10k, 100k and 1M bytes (a few long messages, many short ones) one byte at a
time and in random chunks to DelimiterFramer, LengthPrefixFramer and a naive delimiter framer
(``buf += chunk; buf.find(delim)`` from the start each time), and prints bytes/s for each.  On
the drip the naive framer's rate falls with the size (quadratic work); a run of it that passes
``--budget`` seconds stops early and reports the rate reached, marked ``*``.

Run: ``python benchmarks/bench_framing.py [--sizes 10000 100000 1000000] [--budget 10]``
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from headerkit.framing import DelimiterFramer, LengthPrefixFramer

DELIMITER = b"\r\n"
LONG_MESSAGES = 3  # each a tenth of the stream
SHORT_MAX = 80
CHUNK_MAX = 4096


class NaiveFramer:
    """The framer everyone writes first: every chunk rescans and recopies the whole buffer."""

    def __init__(self, delimiter: bytes) -> None:
        self.delimiter = delimiter
        self.buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        self.buf += chunk
        out = []
        while (idx := self.buf.find(self.delimiter)) >= 0:
            out.append(self.buf[:idx])
            self.buf = self.buf[idx + len(self.delimiter) :]
        return out


def make_messages(size: int, rng: random.Random) -> list[bytes]:
    """About ``size`` bytes once framed: a few long messages among many short ones."""
    messages = [b"L" * (size // 10) for _ in range(LONG_MESSAGES)]
    total = sum(len(m) + len(DELIMITER) for m in messages)
    while total < size:
        short = bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz ", k=rng.randint(1, SHORT_MAX)))
        messages.append(short)
        total += len(short) + len(DELIMITER)
    rng.shuffle(messages)
    return messages


def chunks(stream: bytes, mode: str, rng: random.Random) -> list[bytes]:
    if mode == "drip":
        return [stream[i : i + 1] for i in range(len(stream))]
    cuts: list[bytes] = []
    pos = 0
    while pos < len(stream):
        step = rng.randint(1, CHUNK_MAX)
        cuts.append(stream[pos : pos + step])
        pos += step
    return cuts


def timed(
    feed: Callable[[bytes], list[bytes]], pieces: list[bytes], expected: int, budget: float
) -> str:
    """Feed ``pieces``; the rate in bytes/s, marked ``*`` if the budget cut the run short."""
    done = count = 0
    start = time.perf_counter()
    for i, piece in enumerate(pieces):
        count += len(feed(piece))
        done += len(piece)
        if i % 1024 == 0 and time.perf_counter() - start > budget:
            return f"{done / (time.perf_counter() - start):>13,.0f}*"
    elapsed = time.perf_counter() - start
    if count != expected:
        raise AssertionError(f"framed {count} messages, expected {expected}")
    return f"{done / elapsed:>13,.0f} "


def rows(sizes: list[int], budget: float) -> Iterator[str]:
    rng = random.Random(2024)
    for size in sizes:
        messages = make_messages(size, rng)
        n = len(messages)
        delimited = b"".join(m + DELIMITER for m in messages)
        prefixed = b"".join(LengthPrefixFramer(4).encode(m) for m in messages)
        for mode in ("drip", "chunks"):
            pieces = chunks(delimited, mode, rng)
            rates = [
                timed(DelimiterFramer(DELIMITER, max_length=size).feed, pieces, n, budget),
                timed(NaiveFramer(DELIMITER).feed, pieces, n, budget),
                timed(LengthPrefixFramer(4).feed, chunks(prefixed, mode, rng), n, budget),
            ]
            yield f"{len(delimited):>10,} {mode:>7} " + " ".join(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per run, at most")
    args = parser.parse_args()
    print("bytes/s fed (flat down a column = linear work; * = stopped at the time budget)")
    print(f"{'bytes':>10} {'chunks':>7} {'Delimiter':>14} {'naive':>14} {'LengthPrefix':>14}")
    for row in rows(args.sizes, args.budget):
        print(row, flush=True)


if __name__ == "__main__":
    main()
