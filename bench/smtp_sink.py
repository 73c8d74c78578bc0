"""An aiosmtpd server in its own process for the invitations bench, recording who got which message.

    .venv/bin/python -m bench.smtp_sink OUT      # prints its port, then serves until stdin closes

Its own process, so neither sender shares a GIL with the server: the Huey worker and the bare
Flask-Mail loop each talk to it from their own process. Each accepted message appends one line,
"recipient[,recipient...]<TAB>Message-ID", to OUT before the server answers 250.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.invitations.smtp_server import _EphemeralController  # noqa: E402

MESSAGE_ID_RE = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


class RecordingHandler:
    """Accept every message and write its recipients and Message-ID, one line each."""

    def __init__(self, out) -> None:
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        match = MESSAGE_ID_RE.search(envelope.original_content)
        message_id = match.group(1).decode("ascii", "replace") if match else "-"
        self.out.write(f"{','.join(envelope.rcpt_tos)}\t{message_id}\n")
        return "250 Message accepted for delivery"


def read_received(path: Path, offset: int = 0) -> tuple[list[tuple[list[str], str]], int]:
    """The (recipients, Message-ID) lines written since `offset`, and the offset after them."""
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    end = data.rfind(b"\n") + 1  # a line still being written is left for the next read
    lines = data[:end].decode("utf-8").splitlines()
    received = [(recipients.split(","), message_id)
                for recipients, message_id in (line.split("\t") for line in lines)]
    return received, offset + end


def main(argv: list[str]) -> int:
    out = open(argv[0], "a", buffering=1, encoding="utf-8")  # line-buffered: a line per message
    controller = _EphemeralController(RecordingHandler(out), hostname="127.0.0.1", port=0)
    controller.start()
    try:
        print(controller.port, flush=True)
        sys.stdin.read()  # the bench closes stdin to stop the server
    finally:
        controller.stop()
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
