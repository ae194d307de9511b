"""Commands for accounts, the editorial charter and its benchmark: ``users add/list/set-role/set-password/
unbind-sso``,
``charter export/import``, ``bench charter``. Logic lives in services/; these only parse and print."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlite_utils import Database

from console.cli import bench, cli, db_option, load_settings, users
from core import repo
from core.clock import utcnow
from core.db import open_db
from core.errors import NotFoundError
from core.files import private_dir
from core.models import Role, SignatureStyle


def _db(db_path: Path | None) -> Database:
    settings = load_settings(db_path)
    private_dir(settings.db_path.parent)
    return open_db(settings.db_path)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmez le mot de passe")


@users.command("add")
@click.option("--email", required=True, help="Sign-in e-mail (also the SSO identity).")
@click.option("--name", required=True, help="Full name, e.g. 'Julie Martin'.")
@click.option("--role", type=click.Choice([str(r) for r in Role]), required=True,
              help="Role (admin for the first account).")
@click.option("--initials", default="", help="Initials for the ^JM signature (default: from the name).")
@click.option("--signature-style", type=click.Choice([str(s) for s in SignatureStyle]), default="first_name",
              show_default=True, help="How replies are signed.")
@click.option("--team-signature", default="", help="Team signature, e.g. \"L'équipe Propreté\".")
@click.option("--needs-approval", is_flag=True, help="Every reply of this agent goes to a director.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
@click.option("--no-password", is_flag=True, help="SSO-only account (signs in with st.login).")
@db_option
def users_add(email: str, name: str, role: str, initials: str, signature_style: str, team_signature: str,
              needs_approval: bool, password_stdin: bool, no_password: bool, db_path: Path | None) -> None:
    """Create an account; the first administrator is created this way (shell access is the trust anchor)."""
    from services.accounts import users as users_service

    password = None if no_password else _read_password(password_stdin)
    db = _db(db_path)
    agent = users_service.create_agent(db, None, email=email, name=name, role=Role(role), initials=initials,
                                       password=password, signature_style=SignatureStyle(signature_style),
                                       team_signature=team_signature, needs_approval=needs_approval, now=utcnow())
    click.echo(f"Compte créé : {agent.email} ({agent.role}), id {agent.id}.")


@users.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include deactivated accounts.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
def users_list(show_all: bool, as_json: bool, db_path: Path | None) -> None:
    """List accounts with their role, signature style and approval flag."""
    from editorial.signatures import signature_for

    rows = [{"id": a.id, "email": a.email, "name": a.name, "role": str(a.role), "signature": signature_for(a),
             "needs_approval": a.needs_approval, "active": a.active}
            for a in repo.list_agents(_db(db_path), active_only=not show_all)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo("Aucun compte : créez l'administrateur avec `python -m console users add --role admin ...`.")
    for r in rows:
        flags = (" [validation]" if r["needs_approval"] else "") + ("" if r["active"] else " [désactivé]")
        click.echo(f"{r['id']:>4}  {r['email']:<32} {r['role']:<18} {r['signature']}{flags}")


def _agent_id(db: Database, email: str) -> int:
    agent = repo.agent_by_email(db, email)
    if agent is None:
        raise NotFoundError(f"no agent {email}", reason="agent_not_found", email=email)
    return agent.id


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([str(r) for r in Role]))
@db_option
def users_set_role(email: str, role: str, db_path: Path | None) -> None:
    """Change an account's role (audited as role-changed)."""
    from services.accounts import users as users_service

    db = _db(db_path)
    agent = users_service.set_role(db, None, _agent_id(db, email), Role(role), now=utcnow())
    click.echo(f"{agent.email} : rôle {agent.role}.")


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@db_option
def users_set_password(email: str, password_stdin: bool, db_path: Path | None) -> None:
    """Set an account's password; unlocks it and closes its sessions."""
    from services.accounts import auth

    db = _db(db_path)
    agent_id = _agent_id(db, email)
    auth.set_password(db, None, agent_id, _read_password(password_stdin), now=utcnow())
    click.echo(f"Mot de passe de {email} mis à jour.")


@users.command("unbind-sso")
@click.argument("email")
@db_option
def users_unbind_sso(email: str, db_path: Path | None) -> None:
    """Unbind an account from its single sign-on identity (a new identity at the provider); closes its sessions."""
    from services.accounts import sso

    db = _db(db_path)
    sso.unbind_sso(db, None, _agent_id(db, email), now=utcnow())
    click.echo(f"{email} : identité de connexion unique déliée ; la prochaine connexion la liera de nouveau.")


@cli.group()
def charter() -> None:
    """Editorial charter: export and import as YAML (versioned, audited)."""


@charter.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.option("--version", "version", type=int, default=None, help="A stored version (default: in force).")
@db_option
def charter_export(output: Path | None, version: int | None, db_path: Path | None) -> None:
    """Print (or write) the charter in force as YAML."""
    from services.editorial import charter as charter_service

    text = charter_service.export_yaml(_db(db_path), version=version)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Charte écrite dans {output}.")
    else:
        click.echo(text, nl=False)


@charter.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--comment", default="", help="Why this version (kept in the audit log).")
@db_option
def charter_import(file: Path, comment: str, db_path: Path | None) -> None:
    """Validate a YAML charter and save it as the next version."""
    from services.editorial import charter as charter_service

    saved = charter_service.import_yaml(_db(db_path), None, file.read_text(encoding="utf-8"), now=utcnow(),
                                        comment=comment)
    click.echo(f"Charte « {saved.name} » enregistrée en version {saved.version}.")


@bench.command("charter")
@click.option("--runs", default=2000, show_default=True, help="Checks to time.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_charter(runs: int, as_json: bool, db_path: Path | None) -> None:
    """Charter check latency: a 280-character draft against a 500-term charter (target p95 <= 5 ms)."""
    from console.bench import charter as bench_mod

    result = bench_mod.run(runs)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:>18}: {value}")
