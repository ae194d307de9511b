"""``parvis doctor``: check the installation and say, in French, what is wrong and what to do
(services/operations/doctor.py holds the checks). Exit code 1 when a problem is found, 0 otherwise (warnings and
checks that could not be made, such as the clock while offline, do not fail it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from console.cli import cli, db_option
from console.messages import message_for
from core.clock import utcnow
from core.config import Settings
from core.errors import ParvisError
from core.version import __version__
from services.operations import doctor

STATUS_LABELS = {doctor.OK: "OK", doctor.WARNING: "ATTENTION", doctor.PROBLEM: "PROBLÈME",
                 doctor.UNKNOWN: "NON VÉRIFIÉ"}
CHECK_LABELS = {"config": "Configuration", "permissions": "Permissions", "disk": "Espace disque",
                "database": "Base de données", "clock": "Horloge", "connector": "Connecteur",
                "worker": "Worker", "backup": "Sauvegardes"}

# code -> (what was found, what to do: "" when nothing). Parameters in braces come from the finding.
TEXTS: dict[str, tuple[str, str]] = {
    "config_ok": ("aucune clé inconnue ; connecteurs activés : {connectors}.", ""),
    "unknown_keys": ("clés inconnues de Parvis : {keys} (ignorées : une faute de frappe ?).",
                     "corrigez ou supprimez ces clés dans /etc/parvis/parvis.env, parvis.toml ou l'environnement "
                     "(liste des réglages : README, « Réglages »)."),
    "connector_incomplete": ("le connecteur {connector} est configuré à moitié : il manque {keys}.",
                             "renseignez ces clés dans /etc/parvis/parvis.env (ou retirez les autres clés de ce "
                             "connecteur), puis redémarrez : systemctl restart parvis-worker parvis-console."),
    "demo_in_service": ("le connecteur de démonstration est activé à côté de vrais comptes.",
                        "ajoutez PARVIS_DEMO=0 dans /etc/parvis/parvis.env."),
    "config_invalid": ("la configuration ne peut pas être lue : {error}", "corrigez le fichier ou la variable "
                       "indiquée, puis relancez parvis doctor."),
    "permissions_ok": ("dossier de données {path} et base de données lisibles par leur propriétaire seul ; aucun "
                       "fichier de secrets lisible par tous.", ""),
    "data_dir_missing": ("le dossier de données {path} n'existe pas.",
                         "vérifiez PARVIS_DATA_DIR, puis lancez parvis init (ou démarrez le service)."),
    "data_dir_open": ("le dossier de données {path} est ouvert à d'autres utilisateurs (mode {mode}).",
                      "chmod 700 {path}"),
    "database_open": ("le fichier {path} est lisible par d'autres utilisateurs (mode {mode}) : il contient les "
                      "messages des habitants.", "chmod 600 {path}"),
    "secrets_world_readable": ("le fichier de secrets {path} est lisible par tous (mode {mode}).",
                               "chmod o-rwx {path} (fichier d'environnement : chown root:root et chmod 600), puis "
                               "changez les jetons qu'il contient s'ils ont pu être lus."),
    "env_file_group": ("le fichier d'environnement {path} est lisible par son groupe (mode {mode}).",
                       "chown root:root {path} && chmod 600 {path}"),
    "disk_ok": ("{free_mb} Mo libres sur le disque de {path} (base : {database_mb} Mo).", ""),
    "disk_low": ("seulement {free_mb} Mo libres sur le disque de {path} (base : {database_mb} Mo ; une "
                 "sauvegarde en demande autant).", "libérez de l'espace ou agrandissez le disque avant qu'il soit "
                 "plein ; les sauvegardes anciennes sont dans le dossier des sauvegardes."),
    "disk_full": ("seulement {free_mb} Mo libres sur le disque de {path} (minimum : {minimum_mb} Mo) : Parvis ne "
                  "peut plus écrire sûrement.", "libérez de l'espace tout de suite (anciennes sauvegardes, "
                  "journaux), puis vérifiez /readyz."),
    "disk_unknown": ("l'espace libre de {path} n'a pas pu être lu ({error}).", "vérifiez que le dossier existe."),
    "database_ok": ("{path} accessible en écriture.", ""),
    "database_missing": ("aucune base de données à {path}.", "vérifiez PARVIS_DB et PARVIS_DATA_DIR ; pour une "
                         "installation neuve : parvis init."),
    "database_problem": ("{path} ne peut pas être écrite (détail technique : {detail}).",
                         "vérifiez les droits de l'utilisateur parvis sur le fichier et son dossier, que le disque "
                         "n'est pas plein ni monté en lecture seule."),
    "schema_ok": ("structure à jour (version {found}).", ""),
    "schema_old": ("structure en version {found}, cette version de Parvis attend la version {expected}.",
                   "arrêtez les services, lancez parvis migrate (une sauvegarde est prise avant), puis "
                   "redémarrez-les."),
    "clock_ok": ("l'horloge de ce serveur est à l'heure ({skew} d'écart avec {server}).", ""),
    "clock_ahead": ("l'horloge de ce serveur avance de {skew} par rapport à {server} : les publications "
                    "partiraient trop tôt.", "activez la synchronisation de l'heure : apt install "
                    "systemd-timesyncd (ou chrony), puis timedatectl set-ntp true."),
    "clock_behind": ("l'horloge de ce serveur retarde de {skew} par rapport à {server} : les publications "
                     "partiraient en retard.", "activez la synchronisation de l'heure : apt install "
                     "systemd-timesyncd (ou chrony), puis timedatectl set-ntp true."),
    "clock_unchecked": ("l'heure n'a pas pu être comparée : aucun serveur n'a répondu ({servers}).",
                        "vérifiez que timedatectl indique « System clock synchronized: yes »."),
    "clock_no_server": ("l'heure n'a pas pu être comparée : aucun serveur à interroger (aucun connecteur réel).",
                        "vérifiez que timedatectl indique « System clock synchronized: yes »."),
    "clock_behind_database": ("l'horloge de ce serveur est en retard de {skew} sur le dernier événement enregistré "
                              "({last}).", "remettez le serveur à l'heure (timedatectl set-ntp true) avant de "
                              "redémarrer les services."),
    "connector_ok": ("{connector} : identifiants acceptés ({account} ; {detail}).", ""),
    "connector_failed": ("{connector} : la plateforme refuse les identifiants ou ne répond pas ({detail}).",
                         "vérifiez ou renouvelez le jeton de {connector} dans /etc/parvis/parvis.env (page "
                         "« Connexions » de la console), puis systemctl restart parvis-worker parvis-console."),
    "connector_build_failed": ("les connecteurs n'ont pas pu être préparés ({error}).",
                               "vérifiez leurs réglages dans /etc/parvis/parvis.env."),
    "connector_none": ("aucun connecteur activé : Parvis ne reçoit aucun message.",
                       "renseignez les jetons des comptes de la ville dans /etc/parvis/parvis.env."),
    "worker_ok": ("le worker tourne (dernier signe de vie il y a {age}).", ""),
    "worker_stale": ("le worker ne donne plus signe de vie depuis {age} (limite : {limit}) : plus de "
                     "synchronisation ni de publication.", "systemctl status parvis-worker ; journalctl -u "
                     "parvis-worker -n 50 ; puis systemctl restart parvis-worker."),
    "worker_never": ("le worker n'a jamais tourné sur cette base.", "systemctl enable --now parvis-worker"),
    "backup_ok": ("dernière sauvegarde il y a {age} dans {folder}.", ""),
    "backup_old": ("la dernière sauvegarde date de {age} (une par {interval} attendue) dans {folder}.",
                   "vérifiez le worker et l'espace disque, puis lancez parvis backup à la main."),
    "backup_none": ("aucune sauvegarde dans {folder}.", "lancez parvis backup maintenant ; le worker en prend "
                    "ensuite une par {interval}."),
    "backup_disabled": ("les sauvegardes automatiques sont désactivées (PARVIS_BACKUP_INTERVAL_H=0) ; dossier "
                        "{folder}.", "retirez PARVIS_BACKUP_INTERVAL_H=0 ou sauvegardez autrement (parvis backup "
                        "chaque nuit)."),
}


def render(finding: doctor.Finding) -> list[str]:
    """The French lines of one finding: status, check and sentence; then what to do, if anything."""
    said, todo = TEXTS[finding.code]
    params = {k: v for k, v in finding.params.items()}
    lines = [f"[{STATUS_LABELS[finding.status]}] {CHECK_LABELS[finding.check]} : {said.format(**params)}"]
    if todo and finding.status != doctor.OK:
        lines.append(f"    → À faire : {todo.format(**params)}")
    return lines


def _time_servers(given: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s for s in given if s)


@cli.command(name="doctor")
@db_option
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"The services' environment file whose permissions to check (default: {doctor.DEFAULT_ENV_FILE} "
                   "when it exists).")
@click.option("--time-server", "time_servers", multiple=True,
              help="An https:// server whose Date header the clock is compared with (default: the enabled "
                   "connectors' servers). Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON (codes and parameters).")
def doctor_cmd(db_path: Path | None, env_file: Path | None, time_servers: tuple[str, ...], as_json: bool) -> None:
    """Check configuration, permissions, disk, clock, connectors, worker and backups; say what to do (French)."""
    try:
        settings = Settings.load(db_path=db_path)
    except ParvisError as err:
        finding = doctor.Finding("config", doctor.PROBLEM, "config_invalid", {"error": message_for(err)})
        _print([finding], None, as_json)
        raise SystemExit(1) from err
    if env_file is None and doctor.DEFAULT_ENV_FILE.exists():
        env_file = doctor.DEFAULT_ENV_FILE
    where = doctor.Environment(env=dict(os.environ), cwd=Path.cwd(), env_file=env_file,
                               time_servers=_time_servers(time_servers))
    findings = doctor.run(settings, where, now=utcnow())
    _print(findings, settings, as_json)
    if doctor.has_problem(findings):
        raise SystemExit(1)


def _print(findings: list[doctor.Finding], settings: Settings | None, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([{"check": f.check, "status": f.status, "code": f.code, "params": dict(f.params)}
                               for f in findings], ensure_ascii=False))
        return
    where = f" — base {settings.db_path}" if settings is not None else ""
    click.echo(f"Parvis {__version__} : diagnostic{where}")
    for finding in findings:
        for line in render(finding):
            click.echo(line)
    problems = sum(f.status == doctor.PROBLEM for f in findings)
    warnings = sum(f.status == doctor.WARNING for f in findings)
    if problems:
        click.echo(f"Bilan : {problems} problème(s), {warnings} avertissement(s). Corrigez les problèmes puis "
                   "relancez parvis doctor.")
    else:
        click.echo(f"Bilan : aucun problème ({warnings} avertissement(s)).")
