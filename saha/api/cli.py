"""`saha api-token create|list|revoke --org SLUG`: API tokens from the command line.

`create` prints the token, and only it, on standard output, so a script can
capture it (`TOKEN=$(saha api-token create ...)`); notes go to standard error.
It is shown this once: Saha keeps only its digest. Unknown organization, scope
or token: a message on standard error and exit code 2. The audit log names the
command line as the actor.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

CLI_ACTOR = "cli"
USAGE_ERROR = 2


def add_commands(sub: Any, setup: Any) -> None:
    from saha.api.scopes import ALL_SCOPES

    tokens = sub.add_parser("api-token", help="create, list or revoke API tokens")
    verbs = tokens.add_subparsers(dest="verb", required=True)

    create = verbs.add_parser("create", help="create a token and print it once")
    create.add_argument("--org", required=True, help="the organization's slug")
    create.add_argument("--name", required=True, help="which tool will use it")
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help=f"repeat for each; default: every :read scope. One of {', '.join(ALL_SCOPES)}",
    )
    create.set_defaults(func=lambda args, rest: (setup(), cmd_create(args))[1])

    listing = verbs.add_parser("list", help="list the organization's tokens (never the secrets)")
    listing.add_argument("--org", required=True, help="the organization's slug")
    listing.set_defaults(func=lambda args, rest: (setup(), cmd_list(args))[1])

    revoke = verbs.add_parser("revoke", help="revoke a token by the prefix `list` shows")
    revoke.add_argument("--org", required=True, help="the organization's slug")
    revoke.add_argument("prefix", help="the token's first characters, as `list` shows them")
    revoke.set_defaults(func=lambda args, rest: (setup(), cmd_revoke(args))[1])


def _fail(message: str) -> int:
    print(f"saha: {message}", file=sys.stderr)
    return USAGE_ERROR


def _organization(slug: str) -> Any:
    from saha.organizations.models import Organization

    return Organization.objects.filter(slug=slug).first()


def cmd_create(args: argparse.Namespace) -> int:
    from saha.api import scopes
    from saha.api.tokens import create_token
    from saha.core.errors import DomainError

    organization = _organization(args.org)
    if organization is None:
        return _fail(f"no organization with the slug {args.org!r}")
    unknown = [scope for scope in args.scope if not scopes.is_valid(scope)]
    if unknown:
        return _fail(
            f"unknown scope {', '.join(unknown)}; choose from: {', '.join(scopes.ALL_SCOPES)}"
        )
    try:
        made = create_token(
            actor=CLI_ACTOR, organization=organization, name=args.name, scopes=args.scope
        )
    except DomainError as error:
        return _fail(error.message)
    token = made.token
    print(
        f"Created token {token.name!r} ({token.prefix}…) for {organization.slug} "
        f"with scopes {' '.join(token.scopes)}. It is shown once, below:",
        file=sys.stderr,
    )
    print(made.secret, flush=True)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from saha.api.models import ApiToken

    organization = _organization(args.org)
    if organization is None:
        return _fail(f"no organization with the slug {args.org!r}")
    rows = ApiToken.objects.for_org(organization).order_by("created_at")
    for token in rows:
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        print(
            "\t".join(
                [token.prefix, token.name, ",".join(token.scopes), state, f"last used {used}"]
            )
        )
    if not rows:
        print(f"No token in {organization.slug}.", file=sys.stderr)
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from saha.api.models import ApiToken
    from saha.api.tokens import revoke_token

    organization = _organization(args.org)
    if organization is None:
        return _fail(f"no organization with the slug {args.org!r}")
    prefix = args.prefix.rstrip("…").strip()
    matches = list(ApiToken.objects.for_org(organization).filter(prefix__startswith=prefix))
    if not prefix or not matches:
        return _fail(f"no token starting with {prefix!r} in {organization.slug}")
    if len(matches) > 1:
        return _fail(f"{len(matches)} tokens start with {prefix!r}; give more characters")
    token = matches[0]
    if revoke_token(actor=CLI_ACTOR, token=token):
        print(f"Revoked {token.name!r} ({token.prefix}…).", file=sys.stderr)
    else:
        print(f"{token.name!r} ({token.prefix}…) was already revoked.", file=sys.stderr)
    return 0
