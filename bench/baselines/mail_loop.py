"""A bare Flask-Mail loop: N plain messages on one reused SMTP connection, the floor for sending.

    python -m bench.baselines.mail_loop --port PORT --count N --prefix run1

Prints one JSON line with the seconds spent sending (connection set-up included).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from flask import Flask
from flask_mail import Mail, Message


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--prefix", default="loop")
    args = parser.parse_args(argv)
    app = Flask(__name__)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=args.port, MAIL_DEFAULT_SENDER="bench@localhost")
    mail = Mail(app)
    with app.app_context():
        began = time.perf_counter()
        with mail.connect() as connection:
            for n in range(args.count):
                message = Message(subject=f"Invitation {n}", recipients=[f"{args.prefix}-{n}@bench.invalid"],
                                  body=f"Dear Fellow {n},\n\nPlease answer our survey: "
                                       f"http://127.0.0.1:5000/s/{n:024d}\n")
                connection.send(message)
        seconds = time.perf_counter() - began
    print(json.dumps({"sent": args.count, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
