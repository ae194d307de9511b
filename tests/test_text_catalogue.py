"""The text catalogue (console/messages, decision 0008): every error code and every reason raised in the tree has
its French sentence, the catalogue holds nothing else, and what a person reads is French only."""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
import re
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.cli import main
from console.messages import CODES, NOTICES, REASONS, message_for, notice, render
from console.messages.errors import PARAM_LABELS
from console.messages.labels import ACTION_LABELS, ROLE_LABELS, WORKFLOW_STEP_LABELS
from core import errors
from core.errors import (
    ConfigError,
    NotFoundError,
    ParvisError,
    PermissionDenied,
    Unavailable,
    ValidationError,
    WorkflowError,
)
from core.models import Role
from editorial.workflow import Action as Step
from services.accounts.permissions import Action, require
from services.inbox import triage

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("connectors", "console", "core", "editorial", "moderation", "services")
# Where every raise names a reason (ConfigError excepted: an operator's English diagnostic, see decision 0008).
REASON_REQUIRED_DIRS = ("services", "editorial", "moderation", "console/ui", "console/commands")
FRENCH = re.compile(r"[àâçéèêëîïôùûüÿœæÀÂÇÉÈÊÎÔÙÛŒ]| [:;!?] ")  # accents, or French spacing before : ; ! ?
PACKAGES = ("core", "connectors", "editorial", "moderation", "services", "console")


def _import_everything() -> None:
    """Import every module outside the Streamlit UI, so that every ParvisError subclass is defined."""
    for name in PACKAGES:
        package = importlib.import_module(name)
        for mod in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if not mod.name.startswith("console.ui") and not mod.name.endswith("__main__"):
                importlib.import_module(mod.name)


def _subclasses(cls: type[ParvisError]) -> Iterator[type[ParvisError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@functools.cache
def _error_classes() -> frozenset[type[ParvisError]]:
    _import_everything()
    return frozenset({ParvisError, *_subclasses(ParvisError)})


def _sources() -> Iterator[Path]:
    for folder in SOURCE_DIRS:
        yield from sorted((ROOT / folder).rglob("*.py"))
    yield ROOT / "streamlit_app.py"


def _error_calls(tree: ast.Module, names: set[str]) -> Iterator[ast.Call]:
    """Calls that build a ParvisError (``ValidationError(...)``, ``errors.ValidationError(...)``)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Name) and func.id in names) or (
                isinstance(func, ast.Attribute) and func.attr in names and isinstance(func.value, ast.Name)
                and func.value.id == "errors"):
            yield node


def _module_dicts(tree: ast.Module) -> dict[str, ast.Dict]:
    out: dict[str, ast.Dict] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value
    return out


def _reason_values(expr: ast.expr, dicts: dict[str, ast.Dict]) -> list[str] | None:
    """The reason keys ``expr`` can take: a literal, ``a if c else b``, or a module-level dict of literals."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.IfExp):
        body, orelse = _reason_values(expr.body, dicts), _reason_values(expr.orelse, dicts)
        return None if body is None or orelse is None else body + orelse
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name) and expr.value.id in dicts:
        values = [_reason_values(v, dicts) for v in dicts[expr.value.id].values if v is not None]
        return None if any(v is None for v in values) else [r for v in values for r in v or ()]
    return None


class RaiseSite:
    def __init__(self, where: str, reasons: list[str] | None, params: set[str] | None) -> None:
        self.where, self.reasons, self.params = where, reasons, params  # params None: **kwargs, not checked


def _raise_sites() -> list[RaiseSite]:
    names = {cls.__name__ for cls in _error_classes()}
    sites = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        dicts = _module_dicts(tree)
        for call in _error_calls(tree, names):
            reason = next((k.value for k in call.keywords if k.arg == "reason"), None)
            if reason is None:
                continue
            params = None if any(k.arg is None for k in call.keywords) else {
                k.arg for k in call.keywords if k.arg not in ("reason", "findings", "reset_at", "endpoint")}
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            sites.append(RaiseSite(where, _reason_values(reason, dicts), params))
    return sites


@pytest.fixture(scope="module")
def sites() -> list[RaiseSite]:
    return _raise_sites()


def test_every_error_code_has_a_french_sentence_and_no_code_is_orphan():
    codes = {cls.code for cls in _error_classes()}
    assert codes - set(CODES) == set(), "error codes without text in console/messages/errors.py CODES"
    assert set(CODES) - codes == set(), "CODES entries no error class uses"


def test_reasons_are_literal_keys(sites):
    dynamic = [s.where for s in sites if s.reasons is None]
    assert dynamic == [], "reason= must be a literal, a conditional of literals or a module dict of literals"


def test_every_reason_raised_has_a_french_sentence(sites):
    missing = sorted({f"{r} ({s.where})" for s in sites for r in s.reasons or () if r not in REASONS})
    assert missing == [], "reasons raised without text in console/messages/errors.py REASONS"


def test_the_catalogue_has_no_orphan_reason(sites):
    raised = {r for s in sites for r in s.reasons or ()}
    assert set(REASONS) - raised == set(), "REASONS entries no raise uses"


def test_each_raise_gives_the_params_its_sentence_needs(sites):
    problems = []
    for site in sites:
        if site.params is None:
            continue
        for reason in site.reasons or ():
            fields = {f for _, f, _, _ in string.Formatter().parse(REASONS.get(reason, "")) if f}
            for field in fields:
                base = field.removesuffix("_label")
                if field in site.params or (field != base and base in site.params and base in PARAM_LABELS):
                    continue
                problems.append(f"{site.where}: {reason} needs {{{field}}}")
    assert problems == []


def _literal_text(expr: ast.expr) -> str:
    """The literal parts of a message expression, ``{}`` where a value goes."""
    if isinstance(expr, ast.Constant):
        return expr.value if isinstance(expr.value, str) else "{}"
    if isinstance(expr, ast.JoinedStr):
        return "".join(_literal_text(v) for v in expr.values)
    if isinstance(expr, ast.BinOp):
        return _literal_text(expr.left) + _literal_text(expr.right)
    return "{}"


def test_no_error_message_in_the_code_is_french():
    """French sentences live in the catalogue; an error's own message is English (for logs)."""
    names = {cls.__name__ for cls in _error_classes()}
    french = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _error_calls(tree, names):
            if not call.args:
                continue
            if FRENCH.search(_literal_text(call.args[0])):
                french.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert french == []


def test_services_and_pages_raise_with_a_reason():
    names = {cls.__name__ for cls in _error_classes()} - {ConfigError.__name__}
    bare = []
    for folder in REASON_REQUIRED_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for call in _error_calls(ast.parse(path.read_text(encoding="utf-8")), names):
                if not any(k.arg == "reason" for k in call.keywords):
                    bare.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert bare == [], "raise ...(reason=...) so that the catalogue has the French sentence"


def test_labels_used_in_sentences_cover_their_enums():
    assert {str(a) for a in Action} == set(ACTION_LABELS)
    assert {str(s) for s in Step} == set(WORKFLOW_STEP_LABELS)
    assert {str(r) for r in Role} == set(ROLE_LABELS)


def test_message_for_gives_the_french_sentence_with_its_params():
    err = ValidationError(reason="note_too_long", max=2000)
    assert message_for(err) == "Une note compte au plus 2000 caractères."
    assert str(err) == "note_too_long (max=2000)"  # for logs
    english = ValidationError("a note has at most 2000 characters", reason="note_too_long", max=2000)
    assert message_for(english) == "Une note compte au plus 2000 caractères."
    assert str(english) == "a note has at most 2000 characters"


def test_a_service_refusal_reads_as_one_french_sentence(db, agents, now):
    """The mixed « Saisie invalide : a note is required » of the past: now French from end to end."""
    with pytest.raises(ValidationError) as empty:
        triage.add_note(db, "x:1", "   ", actor=agents["julie"], now=now)
    assert message_for(empty.value) == "Une note est obligatoire."
    with pytest.raises(PermissionDenied) as refused:
        require(agents["marc"], Action.POST_CREATE)
    assert message_for(refused.value) == ("Action refusée : le rôle « Service juridique » ne permet pas de "
                                          "préparer des publications (marc@valmont.fr).")


def test_without_a_reason_no_english_reaches_the_user_except_a_technical_diagnostic():
    assert message_for(NotFoundError("no draft 12")) == "Élément introuvable (supprimé entre-temps ?)"
    assert message_for(ValueError("boom")) == CODES["unknown"]
    assert message_for(ConfigError("missing setting PARVIS_X")) == "Configuration invalide : missing setting PARVIS_X"
    assert message_for(ValidationError(reason="no_such_reason")) == "Saisie invalide"


def test_nested_and_labelled_params_are_rendered_in_french():
    cause = Unavailable("POST /statuses: timeout")
    err = WorkflowError(reason="post_withdraw_failed", account="mastodon", cause=cause)
    assert message_for(err) == ("Impossible de retirer la publication programmée sur mastodon : Plateforme "
                                "momentanément indisponible ; réessayez plus tard : POST /statuses: timeout")
    assert render("step_refused", {"step": "send", "draft_state": "sent"}) == \
        "Impossible d'envoyer un message « envoyé »."
    assert render("post_started_edit", {"accounts": ["x", "facebook"]}).endswith(
        "sur x, facebook. Dupliquez-la pour en préparer une nouvelle.")
    assert render("note_too_long", {}) is None  # a missing param never crashes the page


def test_the_cli_prints_the_same_french_text(tmp_path, capsys):
    db = tmp_path / "parvis.db"
    assert main(["init", "--db", str(db)]) == 0
    assert main(["users", "set-role", "nobody@valmont.fr", "admin", "--db", str(db)]) == 1
    assert capsys.readouterr().err.strip().endswith("Erreur : Aucun compte nobody@valmont.fr.")


def test_the_catalogue_imports_without_streamlit():
    code = "import sys, console.messages; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0


def test_every_error_class_accepts_a_reason_and_params():
    for cls in _error_classes():
        err = cls("english detail", reason="note_too_long", max=3)
        assert (err.reason, err.params, str(err)) == ("note_too_long", {"max": 3}, "english detail")
    limited = errors.RateLimited(reset_at=5.0, endpoint="GET /x", reason="note_too_long", max=1)
    assert (limited.reset_at, limited.endpoint, limited.params) == (5.0, "GET /x", {"max": 1})
    blocked = errors.CharterBlocked(findings=({"code": "banned_term"},), reason="charter_blocks_reply", finding="f")
    assert blocked.findings == ({"code": "banned_term"},) and message_for(blocked) == "La charte bloque ce message : f"


def _notice_keys_given() -> dict[str, str]:
    """Notice keys the code hands over: ``notice("key")`` calls, and ``notice=`` arguments given as a literal or as
    a module-level constant holding one (``Outcome(notice=SENT_NOT_RECORDED)``); anything else is reported as
    None (not a key the check can read)."""
    given = {}
    for path in _sources():
        if path.is_relative_to(ROOT / "console" / "messages"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                     and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                     for target in node.targets if isinstance(target, ast.Name)}
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            exprs = [k.value for k in call.keywords if k.arg == "notice"]
            if isinstance(call.func, ast.Name) and call.func.id == "notice" and call.args:
                exprs.append(call.args[0])
            for expr in exprs:
                if isinstance(expr, ast.Attribute) and expr.attr == "notice":
                    continue  # passes on a key handed over elsewhere (``notice(out.notice)``)
                key = expr.value if isinstance(expr, ast.Constant) else constants.get(getattr(expr, "id", ""))
                given[f"{path.relative_to(ROOT)}:{call.lineno}"] = key
    return given


def test_every_notice_given_has_a_french_sentence_and_none_is_orphan():
    """Outcomes that are not errors ("sent to the platform, record being written"): the services name them with a
    key, console/messages/notices.py holds the sentence (decision 0051)."""
    given = _notice_keys_given()
    assert given, "the check finds nothing: it is broken"
    assert {where: key for where, key in given.items() if key not in NOTICES} == {}
    assert set(NOTICES) - set(given.values()) == set(), "NOTICES entries nothing hands over"
    assert all(not FRENCH.search(key) and FRENCH.search(notice(key)) for key in NOTICES)
