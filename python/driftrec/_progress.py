"""The default progress display of driftrec.train(progress=True): one line per epoch, a bar otherwise."""

import sys


class TextProgress:
    """Callable f(stage, done, total, message) that draws on stderr."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._stage = None
        self._decile = -1

    def __call__(self, stage, done, total, message):
        if stage != self._stage:
            self._stage, self._decile = stage, -1
        count = f"{done}/{total}" if total else f"#{done}"
        if message:
            # An epoch or a search step: always a line of its own.
            self.stream.write(f"\r{stage} {count} {message}\n" if self._tty else f"{stage} {count} {message}\n")
        elif total:
            decile = 10 * done // total
            if self._tty:
                filled = 30 * done // total
                self.stream.write(f"\r{stage:<16} [{'#' * filled}{'-' * (30 - filled)}] {count}")
                if done >= total:
                    self.stream.write("\n")
            elif decile != self._decile:
                self._decile = decile
                self.stream.write(f"{stage} {count}\n")
        self.stream.flush()
