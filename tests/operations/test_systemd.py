"""The shipped systemd units (deploy/systemd/) pass `systemd-analyze verify` and keep their hardening; the
environment template names only declared settings and holds no secret."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core import settings_schema

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
SYSTEMD_ANALYZE = Path("/usr/bin/systemd-analyze")
BINARY = "/opt/parvis/venv/bin/parvis"
REQUIRED = {
    "User": "parvis", "Group": "parvis", "ProtectSystem": "strict", "ReadWritePaths": "/var/lib/parvis",
    "NoNewPrivileges": "yes", "Restart": "on-failure", "EnvironmentFile": "/etc/parvis/parvis.env",
    "PrivateTmp": "yes", "ProtectHome": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "",
    "KillSignal": "SIGTERM", "UMask": "0077",
}


def _directives(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def _verify(folder: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    if not SYSTEMD_ANALYZE.exists():
        pytest.skip(f"{SYSTEMD_ANALYZE} missing (package systemd)")
    return subprocess.run([str(SYSTEMD_ANALYZE), "verify", *names], cwd=folder, capture_output=True, text=True,
                          timeout=60)


def _copies(tmp_path: Path, edit=lambda text: text) -> list[str]:  # type: ignore[no-untyped-def]
    """The units with ExecStart's binary replaced by an existing executable (the only change: the directives
    verified are the shipped ones)."""
    stub = tmp_path / "bin" / "parvis"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    names = []
    for unit in sorted(UNITS.glob("*.service")):
        text = unit.read_text()
        assert BINARY in text, unit
        (tmp_path / unit.name).write_text(edit(text.replace(BINARY, str(stub))))
        names.append(unit.name)
    return names


@pytest.mark.parametrize("name", ["parvis-console.service", "parvis-worker.service"])
def test_units_are_hardened_and_supervised(name):
    found = _directives((UNITS / name).read_text())
    for key, value in REQUIRED.items():
        assert value in found.get(key, []), f"{name}: {key}={value}"
    (start,) = found["ExecStart"]
    assert start.startswith(BINARY)
    assert ("up --no-worker" in start) == (name == "parvis-console.service")
    assert "--address 127.0.0.1" in start or name == "parvis-worker.service"  # only nginx faces the network


def test_systemd_analyze_verify_finds_nothing(tmp_path):
    names = _copies(tmp_path)
    result = _verify(tmp_path, names)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and output == "", output


def test_systemd_analyze_verify_would_report_a_mistake(tmp_path):
    """The check above can fail: a misspelt directive and a bad value are reported."""
    names = _copies(tmp_path, lambda t: t.replace("ProtectSystem=strict", "ProtectSystm=strict")
                    .replace("Restart=on-failure", "Restart=sometimes"))
    output = _verify(tmp_path, names)
    text = output.stdout + output.stderr
    assert "Unknown key 'ProtectSystm'" in text and "sometimes" in text


def test_environment_template_has_declared_keys_and_no_secret_values():
    text = (UNITS / "parvis.env").read_text()
    keys = re.findall(r"(?m)^#?(PARVIS_[A-Z0-9_]+)=(.*)$", text)
    assert len(keys) > 15
    for key, value in keys:
        assert settings_schema.is_known(key), key
        if settings_schema.is_secret(key):
            assert value == "", f"{key} has a value in the template"


def test_parvis_admin_is_valid_shell():
    sh = shutil.which("sh")
    assert sh is not None
    subprocess.run([sh, "-n", str(ROOT / "deploy" / "parvis-admin")], check=True)
