"""Charter service (versions, audit, YAML), saved replies, reserve volume; the editorial CLI commands."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from click.testing import CliRunner

from core import audit, repo
from core.errors import CharterBlocked, ValidationError
from core.models import Platform
from editorial.charter import Election, Term
from editorial.charter_yaml import default_charter, load_yaml
from services.editorial import charter as charters
from services.inbox import saved_replies
from tests.french import raises_fr


def test_default_until_saved_then_versions_are_append_only(db, agents, now):
    assert charters.current(db).charter.version == 0
    sophie = agents["sophie"]
    v1 = charters.save(db, sophie, replace(default_charter(), banned=(Term(term="zut"),)), now=now, comment="zut")
    v2 = charters.save(db, sophie, default_charter(), now=now)
    assert (v1.version, v2.version) == (1, 2) and charters.current(db).charter.version == 2
    assert [r["version"] for r in repo.list_charters(db)] == [2, 1]
    assert "zut" in charters.export_yaml(db, sophie, version=1)
    rows = [r for r in audit.events_for(db, "charter:1")]
    assert rows[0]["event"] == "charter-changed" and rows[0]["properties"]["comment"] == "zut"
    with pytest.raises(Exception, match="append-only"):
        db.execute("UPDATE charters SET name = 'x' WHERE version = 1")


def test_check_uses_the_version_in_force(db, agents, now):
    charters.save(db, agents["sophie"], replace(default_charter(), banned=(Term(term="zut"),)), now=now)
    cc = charters.current(db)
    assert cc is charters.current(db)  # compiled once per version
    from editorial.engine import CheckContext
    result = cc.check("zut alors", CheckContext(platform=Platform.X, now=now))
    assert result.charter_version == 1 and "banned_term" in result.codes


def test_yaml_import_validates_and_export_round_trips(db, agents, now):
    text = charters.export_yaml(db, agents["julie"])
    saved = charters.import_yaml(db, agents["sophie"], text.replace("Ville de Valmont", "Valmont"), now=now)
    assert saved.version == 1 and saved.name.endswith("Valmont")
    assert load_yaml(charters.export_yaml(db), version=1) == saved
    with raises_fr(ValidationError, "clé inconnue"):
        charters.import_yaml(db, agents["sophie"], "regles: {}", now=now)
    assert repo.latest_charter(db)["version"] == 1


def test_reserve_volume_compares_with_the_same_period_last_year(db, agents, now, mention_factory):
    assert charters.reserve_volume(db, now=now) is None
    reserve = replace(default_charter().reserve,
                      elections=(Election(name="M", rounds=((now + timedelta(days=60)).date(),)),))
    charters.save(db, agents["sophie"], replace(default_charter(), reserve=reserve), now=now)
    m = mention_factory("x")
    repo.upsert_mentions(db, [m], now=now)
    for when in (now - timedelta(days=3), now - timedelta(days=2), now - timedelta(days=365 + 2)):
        d = repo.create_draft(db, mention_uid=m.uid, author_id=agents["julie"].id, body="b", signed_text="b",
                              platform=Platform.X, now=when)
        repo.save_draft(db, replace(d, state="sent", sent_at=when))  # type: ignore[arg-type]
    check = charters.reserve_volume(db, now=now)
    assert (check.current, check.previous, check.warn) == (2, 1, True)


def test_saved_replies_are_checked_and_filled(db, agents, now, mention_factory):
    sophie, julie = agents["sophie"], agents["julie"]
    saved = saved_replies.create(db, sophie, title="Collecte", now=now,
                                 body="Bonjour {prenom}, le service {service} passe demain. Infos : {lien}")
    with raises_fr(CharterBlocked, "bloque ce modèle"):
        saved_replies.create(db, sophie, title="Mauvais", body="C'est n'importe quoi {prenom}", now=now)
    with raises_fr(ValidationError, "Variable inconnue"):
        saved_replies.create(db, sophie, title="Var", body="Bonjour {nom}", now=now)
    m = mention_factory("x", author="camille")
    repo.upsert_mentions(db, [m], now=now)
    text = saved_replies.fill(db, julie, saved.id, item=repo.get_item(db, m.uid), service="Propreté",
                              lien="https://www.valmont.fr/collecte")
    assert text == "Bonjour Camille, le service Propreté passe demain. Infos : https://www.valmont.fr/collecte"
    assert [s.title for s in saved_replies.list_saved(db, julie)] == ["Collecte"]
    saved_replies.update(db, sophie, saved.id, title="Collecte", body=saved.body, active=False, now=now)
    assert saved_replies.list_saved(db, julie) == []
    assert [r["properties"]["action"] for r in audit.events_for(db, f"saved-reply:{saved.id}")] == ["created",
                                                                                                   "removed"]


def test_cli_users_and_charter(db_path, tmp_path):
    from console.cli import _load_commands, cli

    _load_commands()
    runner = CliRunner()
    db_args = ["--db", str(db_path)]
    db_path.parent.mkdir(parents=True, exist_ok=True)
    result = runner.invoke(cli, ["users", "add", "--email", "admin@valmont.fr", "--name", "Admin Parvis",
                                 "--role", "admin", "--password-stdin", *db_args], input="un mot de passe long\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["users", "add", "--email", "julie@valmont.fr", "--name", "Julie Martin",
                                 "--role", "community_manager", *db_args],
                           input="mot de passe julie\nmot de passe julie\n")
    assert result.exit_code == 0, result.output
    listing = runner.invoke(cli, ["users", "list", *db_args])
    assert "admin@valmont.fr" in listing.output and "— Julie" in listing.output
    out = tmp_path / "charte.yaml"
    assert runner.invoke(cli, ["charter", "export", "-o", str(out), *db_args]).exit_code == 0
    out.write_text(out.read_text(encoding="utf-8").replace("term: bisous", "term: coucou"), encoding="utf-8")
    result = runner.invoke(cli, ["charter", "import", str(out), "--comment", "test", *db_args])
    assert result.exit_code == 0 and "version 1" in result.output
    assert "coucou" in runner.invoke(cli, ["charter", "export", *db_args]).output
