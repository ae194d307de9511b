"""Signatures: the three styles, appending once, stripping, and nobody signs as someone else."""

from __future__ import annotations

import pytest

from core.models import Agent, Role, SignatureStyle
from editorial.charter import Severity
from editorial.signatures import sign, signature_findings, signature_for, unsign


def agent(style, team=""):
    return Agent(id=1, email="julie@valmont.fr", name="Julie Martin", initials="jm", role=Role.COMMUNITY_MANAGER,
                 signature_style=style, team_signature=team)


@pytest.mark.parametrize(("style", "team", "expected", "signed"), [
    (SignatureStyle.FIRST_NAME, "", "— Julie", "Merci !\n— Julie"),
    (SignatureStyle.INITIALS, "", "^JM", "Merci ! ^JM"),
    (SignatureStyle.TEAM, "L'équipe Propreté", "— L'équipe Propreté", "Merci !\n— L'équipe Propreté"),
    (SignatureStyle.TEAM, "", "— Julie", "Merci !\n— Julie"),  # no team set: falls back to the first name
])
def test_styles(style, team, expected, signed):
    sig = signature_for(agent(style, team))
    assert sig == expected
    assert sign("Merci !  ", sig) == signed
    assert sign(signed, sig) == signed  # never twice
    assert unsign(signed, sig) == "Merci !"


def test_sign_normalises_to_nfc():
    assert sign("e\u0301te\u0301", "^JM") == "été ^JM"


def test_findings():
    kw = {"missing": Severity.BLOCK, "mismatch": Severity.BLOCK}
    assert signature_findings("Merci\n— Julie", "— Julie", ["— Karim", "^KB"], **kw) == []
    (missing,) = signature_findings("Merci", "— Julie", [], **kw)
    assert missing.code == "signature_missing" and "« — Julie »" in missing.message
    found = signature_findings("Vu avec ^KB.\n— Karim\n— Julie", "— Julie", ["— Karim", "^KB"], **kw)
    assert [f.code for f in found] == ["signature_mismatch", "signature_mismatch"]
    team = signature_findings("Merci\n— L'équipe Voirie\n— Julie", "— Julie", ["— L'équipe Voirie"], **kw)
    assert [f.code for f in team] == ["signature_mismatch"]
    assert signature_findings("Merci", "— Julie", [], missing=Severity.OFF, mismatch=Severity.OFF) == []
