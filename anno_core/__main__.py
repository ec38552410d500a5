"""Command line: ``python -m anno_core users add NAME [--group G ...] [--admin]``,
``users list``, ``serve [--workers N]`` (the REST server) and ``repair-counts``."""

from __future__ import annotations

import argparse
import sys

from anno_core.errors import AnnoError
from anno_core.settings import Settings


def _store():  # type: ignore[no-untyped-def]
    from anno_core.engine import db
    from anno_core.engine.users import UserStore

    return UserStore(db.make_engine(Settings().resolved_database_url()))


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
    parser = argparse.ArgumentParser(prog="python -m anno_core")
    sub = parser.add_subparsers(dest="command", required=True)
    users = sub.add_parser("users", help="manage users and their API tokens")
    usub = users.add_subparsers(dest="users_command", required=True)
    add = usub.add_parser("add", help="create a user and print its API token")
    add.add_argument("name")
    add.add_argument("--group", action="append", default=[], help="a group (repeatable)")
    add.add_argument("--admin", action="store_true", help="make the user an admin")
    usub.add_parser("list", help="list users")
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
        if args.command == "users" and args.users_command == "add":
            user, token = _store().add(args.name, args.group, args.admin)
            groups = ", ".join(sorted(user.groups)) or "none"
            print(
                f"Created user {user.name!r} (id {user.id}, admin: {user.is_admin}, "
                f"groups: {groups}). Its API token, shown only once:"
            )
            print(token)
        elif args.command == "users":
            for u in _store().list():
                groups = ",".join(sorted(u.groups))
                print(f"{u.id}\t{u.name}\t{'admin' if u.is_admin else '-'}\t{groups}")
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
