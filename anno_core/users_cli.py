"""``python -m anno_core users ...``: everything the People page does, from a shell.

It runs on the machine that holds the database (``ANNO_DATA_DIR`` / ``ANNO_DATABASE_URL``)
and so acts as that machine's operator: no sign-in, no admin check.
"""

from __future__ import annotations

import argparse
from typing import Any

from anno_core.settings import Settings


def _store() -> Any:
    from anno_core.engine import db
    from anno_core.engine.users import UserStore

    return UserStore(db.make_engine(Settings().resolved_database_url()))


def add_parser(sub: Any) -> None:
    """The ``users`` command and its subcommands."""
    users = sub.add_parser("users", help="manage users, groups, tokens and sign-in e-mails")
    u = users.add_subparsers(dest="users_command", required=True)
    add = u.add_parser("add", help="create a user and print its API token")
    add.add_argument("name")
    add.add_argument("--group", action="append", default=[], help="a group (repeatable)")
    add.add_argument("--admin", action="store_true", help="make the user an admin")
    u.add_parser("list", help="list users: id, name, admin, groups, disabled, last seen, e-mails")
    for name, text in (
        ("show", "a user's profile and the tables they own"),
        ("reset-token", "print a new API token; the old one stops working at once"),
        ("disable", "stop a user's token working (their rows stay theirs)"),
        ("enable", "let a disabled user in again"),
    ):
        u.add_parser(name, help=text).add_argument("name")
    admin = u.add_parser("admin", help="make a user an admin (on) or not (off)")
    admin.add_argument("name")
    admin.add_argument("state", choices=["on", "off"])
    u.add_parser("groups", help="list groups and their members")
    group = u.add_parser("group", help="create or delete a group, add or remove a member")
    group.add_argument("action", choices=["create", "delete", "add", "remove"])
    group.add_argument("group")
    group.add_argument("name", nargs="?", help="the user to add or remove")
    email = u.add_parser("email", help="link or unlink a sign-in e-mail address")
    email.add_argument("action", choices=["link", "unlink"])
    email.add_argument("values", nargs="+", metavar="NAME EMAIL | EMAIL")


def run(args: argparse.Namespace) -> None:
    """Carry out one ``users`` subcommand (AnnoError on a refusal)."""
    from anno_core.errors import InvalidArgument

    store, cmd = _store(), args.users_command
    if cmd == "add":
        user, token = store.add(args.name, args.group, args.admin)
        groups = ", ".join(sorted(user.groups)) or "none"
        print(
            f"Created user {user.name!r} (id {user.id}, admin: {user.is_admin}, "
            f"groups: {groups}). Its API token, shown only once:"
        )
        print(token)
    elif cmd == "list":
        for r in store.records():
            print(
                "\t".join(
                    (
                        str(r["id"]),
                        r["name"],
                        "admin" if r["is_admin"] else "-",
                        ",".join(r["groups"]),
                        "disabled" if r["disabled"] else "-",
                        r["last_seen"] or "never",
                        ",".join(r["emails"]),
                    )
                )
            )
    elif cmd == "show":
        _show(store, args.name)
    elif cmd == "reset-token":
        token = store.reset_token(args.name)
        print(f"New API token for {args.name!r}, shown only once (the old one no longer works):")
        print(token)
    elif cmd in ("disable", "enable"):
        store.set_disabled(args.name, cmd == "disable")
        print(f"{args.name!r} is {cmd}d.")
    elif cmd == "admin":
        store.set_admin(args.name, args.state == "on")
        print(f"{args.name!r} is {'an admin' if args.state == 'on' else 'no longer an admin'}.")
    elif cmd == "groups":
        for g, members in store.groups().items():
            print(f"{g}\t{','.join(members)}")
    elif cmd == "group":
        _group(store, args)
    elif cmd == "email":
        if args.action == "link" and len(args.values) == 2:
            store.link_email(*args.values)
            print(f"{args.values[1]} now signs in as {args.values[0]!r}.")
        elif args.action == "unlink" and len(args.values) == 1:
            store.unlink_email(args.values[0])
            print(f"{args.values[0]} is no longer linked to a user.")
        else:
            raise InvalidArgument(
                "Use 'users email link NAME EMAIL' or 'users email unlink EMAIL'."
            )


def _show(store: Any, name: str) -> None:
    [r] = [r for r in store.records() if r["id"] == store.get(name).id]
    print(f"name: {r['name']}")
    print(f"groups: {', '.join(r['groups']) or 'none'}")
    print(f"admin: {'yes' if r['is_admin'] else 'no'}")
    print(f"disabled: {'yes' if r['disabled'] else 'no'}")
    print(f"created: {r['created']}")
    print(f"last seen: {r['last_seen'] or 'never'}")
    print(f"sign-in e-mails: {', '.join(r['emails']) or 'none'}")
    tables = store.owned_tables(name)
    print(
        "tables: "
        + (", ".join(f"{t['aligned_volume']}/{t['table_name']}" for t in tables) or "none")
    )


def _group(store: Any, args: argparse.Namespace) -> None:
    from anno_core.errors import InvalidArgument

    if args.action in ("add", "remove") and not args.name:
        raise InvalidArgument(f"Name the user: 'users group {args.action} GROUP NAME'.")
    if args.action == "create":
        store.add_group(args.group)
        print(f"Created group {args.group!r}.")
    elif args.action == "delete":
        store.remove_group(args.group)
        print(f"Removed group {args.group!r}.")
    elif args.action == "add":
        store.add_member(args.group, args.name)
        print(f"{args.name!r} is now in {args.group!r}.")
    else:
        store.remove_member(args.group, args.name)
        print(f"{args.name!r} is no longer in {args.group!r}.")
