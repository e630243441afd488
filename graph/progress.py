"""A progress line for long loads: rows written, rate and ETA, rewritten in place on stderr."""

from __future__ import annotations

import sys
import time


class Progress:
    """Rows written, rate and an ETA, on one line rewritten in place."""

    def __init__(self, total: int, quiet: bool = False) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.quiet = quiet
        self.start = time.monotonic()

    def __call__(self, section: str, rows: int) -> None:
        self.done += rows
        if self.quiet:
            return
        elapsed = max(time.monotonic() - self.start, 1e-6)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate else 0.0
        print(
            f"\r  {section:<13} {self.done:>9}/{self.total} rows  {rate:>8.0f} rows/s  "
            f"ETA {eta:5.0f}s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def finish(self) -> None:
        if not self.quiet:
            print(file=sys.stderr)
