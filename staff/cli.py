"""``motcua staff ...``: accounts, training-data export and the console server.

Usage::

    motcua staff create-user lan --role editor          # asks for the password twice
    echo "$PASSWORD" | motcua staff create-user lan --role admin --password-stdin
    motcua staff list-users
    motcua staff set-role lan viewer
    motcua staff export-training --format retrieval > staff_questions.jsonl
    motcua staff export-training --format nlu --out nlu/vi/staff_corrections.yml
    motcua staff serve [--port 5080]
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

ACTOR = "cli"
"""Who the audit log names for changes made from the command line."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Adds ``staff`` and its actions to the ``motcua`` command."""
    staff = subparsers.add_parser("staff", help="the staff console: accounts, export, server")
    sub = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    create = sub.add_parser("create-user", help="create a staff account")
    create.add_argument("username", help="login name: lower-case letters, digits, . _ -")
    create.add_argument("--role", choices=("viewer", "editor", "admin"), default="viewer")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(func=run_create_user)
    users = sub.add_parser("list-users", help="list staff accounts")
    users.add_argument("--json", action="store_true", help="print JSON")
    users.set_defaults(func=run_list_users)
    role = sub.add_parser("set-role", help="change an account's role")
    role.add_argument("username")
    role.add_argument("role", choices=("viewer", "editor", "admin"))
    role.set_defaults(func=run_set_role)
    export = sub.add_parser("export-training", help="corrections as training data")
    export.add_argument("--format", choices=("retrieval", "nlu"), default="retrieval")
    export.add_argument("--out", help="write to this file instead of standard output")
    export.set_defaults(func=run_export)
    serve = sub.add_parser("serve", help="run the console (python -m staff.server)")
    serve.add_argument("--port", type=int, help="default MOTCUA_STAFF_PORT (5080)")
    serve.add_argument("--host", help="default MOTCUA_STAFF_HOST (127.0.0.1)")
    serve.set_defaults(func=run_serve)


def _console():
    from staff.console import Console
    from staff.settings import get_staff_settings

    console = Console(get_staff_settings())
    console.prepare()
    return console


def _fail(message: str) -> int:
    print(f"motcua: {message}", file=sys.stderr)
    return 1


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def run_create_user(args: argparse.Namespace) -> int:
    """Creates a staff account; the password comes from a prompt or standard input."""
    try:
        password = _read_password(args.password_stdin)
        user = _console().create_user(ACTOR, args.username, password, args.role)
    except ValueError as exc:
        return _fail(str(exc))
    print(json.dumps(user.to_dict(), ensure_ascii=False))
    return 0


def run_list_users(args: argparse.Namespace) -> int:
    """Prints every account."""
    users = _console().accounts.list_users()
    if args.json:
        print(json.dumps([u.to_dict() for u in users], ensure_ascii=False, indent=1))
        return 0
    for u in users:
        state = "" if u.active else "  (inactive)"
        print(f"{u.username:<24} {u.role:<7} {u.created_at:%Y-%m-%d}{state}")
    print(f"{len(users)} account(s)", file=sys.stderr)
    return 0


def run_set_role(args: argparse.Namespace) -> int:
    """Changes an account's role."""
    from staff.console import NotFound

    try:
        user = _console().update_user(ACTOR, args.username, role=args.role)
    except NotFound as exc:
        return _fail(str(exc))
    print(json.dumps(user.to_dict(), ensure_ascii=False))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Prints (or writes) the corrections as retrieval questions or Rasa NLU data."""
    console = _console()
    text = console.export_training(args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"{len(console.reviews.corrections())} correction(s) -> {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Runs the console server in this process."""
    from staff.server import main

    argv = []
    if args.port:
        argv += ["--port", str(args.port)]
    if args.host:
        argv += ["--host", args.host]
    return main(argv)
