"""Progress of a long import or export on a terminal, and where exports go by default."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ground.i18n import N_
from ground.settings import VAR_DIR

# Every export from the command line goes here unless --output says otherwise (git-ignored,
# next to the default SQLite database ./var/coopbot.db: ground.settings names the folder).
EXPORT_DIR = Path(VAR_DIR) / "exports"
DEFAULT_FORMAT = "xlsx"


def default_export_path(stem: str, fmt: str, folder: Path | None = None) -> Path:
    """``var/exports/<stem>.<fmt>`` under the current folder (the caller creates it)."""
    return (folder or Path.cwd()) / EXPORT_DIR / f"{stem}.{fmt}"


class TerminalProgress:
    """``progress(done, rejected)`` that rewrites one line on ``stream`` when it is a
    terminal (stderr by default) and stays silent otherwise (pipes, logs, tests)."""

    LINE = N_("{done} dòng đã xử lý, {rejected} dòng bị loại")

    def __init__(self, stream: TextIO | None = None, force: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.active = force or self.stream.isatty()
        self.shown = False

    def __call__(self, done: int, rejected: int) -> None:
        if not self.active:
            return
        self.stream.write("\r" + self.LINE.format(done=done, rejected=rejected))
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
