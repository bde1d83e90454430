"""Progress messages: shown on a terminal, silent under cron or with ``--quiet``."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Print short progress lines to stderr when it is a terminal.

    Parameters
    ----------
    quiet : bool, optional
        Force silence. Messages are shown only when the stream is a TTY.
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()

    def step(self, message: str) -> None:
        if self.enabled:
            print(f"… {message}", file=self.stream, flush=True)
