"""Command line: ``anno-tables users ...`` (users, groups, tokens, sign-in e-mails: see
`users_cli`), ``anno-tables serve [--workers N]`` (the REST server) and ``anno-tables
repair-counts``. ``anno-tables`` is installed with the project (``make run`` or ``make
test``); ``python -m anno_core`` is the same command."""

from __future__ import annotations

import argparse
import sys

from anno_core import users_cli
from anno_core.errors import AnnoError
from anno_core.settings import Settings


def _repair_counts() -> None:
    from anno_core.engine import counts, db

    checked, fixed = counts.repair(db.make_engine(Settings().resolved_database_url()))
    for f in fixed:
        (live0, all0), (live1, all1) = f["before"], f["after"]
        print(
            f"{f['table_name']} (table id {f['id']}): live rows {live0} -> {live1}, "
            f"all rows {all0} -> {all1}"
        )
    print(
        f"Checked the counts of {checked} tables; "
        + (f"{len(fixed)} were wrong and are fixed." if fixed else "all were right.")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anno-tables")
    sub = parser.add_subparsers(dest="command", required=True)
    users_cli.add_parser(sub)
    serve = sub.add_parser("serve", help="serve the engine over HTTP (CAVE protocol)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving requests (more than 1 needs PostgreSQL)",
    )
    sub.add_parser(
        "repair-counts",
        help="recount every table's live and total rows (the writes keep them; this fixes "
        "a database changed by hand)",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "users":
            users_cli.run(args)
        elif args.command == "serve":
            from anno_core.server.app import run

            run(args.host, args.port, workers=args.workers)
        elif args.command == "repair-counts":
            _repair_counts()
    except AnnoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
