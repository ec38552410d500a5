"""Command line: ``anno-tables users ...`` (users, groups, tokens, sign-in e-mails: see
`users_cli`) and ``anno-tables serve`` (the REST server). ``anno-tables`` is installed with
the project (``make run`` or ``make test``); ``python -m anno_core`` is the same command."""

from __future__ import annotations

import argparse
import sys

from anno_core import users_cli
from anno_core.errors import AnnoError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anno-tables")
    sub = parser.add_subparsers(dest="command", required=True)
    users_cli.add_parser(sub)
    serve = sub.add_parser("serve", help="serve the engine over HTTP (CAVE protocol)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    try:
        if args.command == "users":
            users_cli.run(args)
        elif args.command == "serve":
            from anno_core.server.app import run

            run(args.host, args.port)
    except AnnoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
