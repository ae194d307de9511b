"""Settings: where the data lives and how each part is configured.

Sources, later ones winning:
1. ``parvis.toml`` (path in ``PARVIS_CONFIG``, else ``./parvis.toml`` if present): non-secret settings; a value
   may be a pointer ``{"$env" = "NAME"}`` or ``{"$file" = "/path"}`` resolved here, never stored.
2. ``.streamlit/secrets.toml``: top-level ``PARVIS_*`` keys (read with tomllib, so the worker and CLI need no
   Streamlit).
3. Environment variables ``PARVIS_*``.

Secrets are never logged: ``Settings.__repr__`` and :func:`redact` mask every key that looks secret.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT / "data"


def running_from_checkout(root: Path = REPO_ROOT) -> bool:
    """True when Parvis runs from a source checkout (``pyproject.toml`` beside the packages), False when it
    is installed (the packages lie in site-packages)."""
    return (root / "pyproject.toml").is_file() and (root / "streamlit_app.py").is_file()


def default_data_dir(cwd: Path) -> Path:
    """Where the data lives when ``PARVIS_DATA_DIR`` is not set: ``data/`` of the checkout, or, for an
    installed copy, ``./data`` under the working directory (never inside site-packages)."""
    return DEFAULT_DATA_DIR if running_from_checkout() else cwd / "data"


SECRET_MARKERS = ("TOKEN", "SECRET", "PASSWORD", "KEY", "COOKIE")


def _is_secret(key: str) -> bool:
    return any(marker in key.upper() for marker in SECRET_MARKERS)


def redact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``values`` with secret-looking keys replaced by ``"***"``."""
    return {k: ("***" if _is_secret(k) and v else v) for k, v in values.items()}


def _resolve(key: str, value: Any, env: Mapping[str, str] | None = None) -> Any:
    """Resolve ``{"$env": NAME}`` / ``{"$file": PATH}`` pointers; raise ConfigError naming what is missing."""
    if isinstance(value, dict) and "$env" in value:
        name = value["$env"]
        env = os.environ if env is None else env
        if name not in env:
            raise ConfigError(f"setting {key!r} points at environment variable {name!r}, which is not set")
        return env[name]
    if isinstance(value, dict) and "$file" in value:
        path = Path(value["$file"]).expanduser()
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(f"setting {key!r} points at file {path}, which cannot be read: {err}") from err
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from err
    except OSError as err:
        raise ConfigError(f"{path} cannot be read: {err}") from err


def _flatten(data: Mapping[str, Any], prefix: str = "", env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``{"x": {"bearer_token": ..}}`` -> ``{"PARVIS_X_BEARER_TOKEN": ..}``; top-level PARVIS_* kept as is."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and not ({"$env", "$file"} & value.keys()):
            out.update(_flatten(value, f"{prefix}{key}_", env))
            continue
        name = f"{prefix}{key}".upper()
        if not name.startswith("PARVIS_"):
            name = f"PARVIS_{name}"
        out[name] = _resolve(name, value, env)
    return out


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings. ``values`` holds every ``PARVIS_*`` key as a string (secrets included, masked in repr)."""

    data_dir: Path
    db_path: Path
    values: dict[str, Any] = field(default_factory=dict, repr=False)

    def get(self, key: str, default: Any = None) -> Any:
        """Return setting ``key`` (e.g. ``"PARVIS_X_BEARER_TOKEN"``) or ``default``."""
        value = self.values.get(key)
        return default if value in (None, "") else value

    def require(self, key: str) -> str:
        """Return setting ``key`` or raise ConfigError naming the environment variable to set."""
        value = self.get(key)
        if value is None:
            raise ConfigError(f"missing setting {key}: set the environment variable {key} (see README)")
        return str(value)

    def get_int(self, key: str, default: int) -> int:
        """Return an integer setting, or raise ConfigError if it is not a number."""
        value = self.get(key, default)
        try:
            return int(value)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"setting {key} must be a whole number, got {value!r}") from err

    def get_float(self, key: str, default: float) -> float:
        """Return a float setting, or raise ConfigError if it is not a number."""
        value = self.get(key, default)
        try:
            return float(value)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"setting {key} must be a number, got {value!r}") from err

    @property
    def media_base_url(self) -> str | None:
        """``PARVIS_MEDIA_BASE_URL``: the public address where ``<data dir>/media/`` is served (Instagram fetches
        the images of a post from ``<this>/<file name>``), without a trailing slash; None when unset."""
        value = self.get("PARVIS_MEDIA_BASE_URL")
        if value is None:
            return None
        url = str(value).strip().rstrip("/")
        if not url.startswith(("https://", "http://")) or "?" in url or "#" in url:
            raise ConfigError(f"setting PARVIS_MEDIA_BASE_URL must be an http(s) address without query, got {url!r}")
        return url

    def __repr__(self) -> str:
        return f"Settings(data_dir={self.data_dir!s}, db_path={self.db_path!s}, values={redact(self.values)})"

    @classmethod
    def load(cls, *, env: Mapping[str, str] | None = None, cwd: Path | None = None,
             db_path: str | Path | None = None) -> Settings:
        """Read the config file, ``.streamlit/secrets.toml`` and the environment (see module docstring)."""
        env = os.environ if env is None else env
        cwd = cwd or Path.cwd()
        values: dict[str, Any] = {}
        config_path = Path(env["PARVIS_CONFIG"]) if env.get("PARVIS_CONFIG") else cwd / "parvis.toml"
        if env.get("PARVIS_CONFIG") and not config_path.is_file():
            raise ConfigError(f"PARVIS_CONFIG points at {config_path}, which does not exist")
        if config_path.is_file():
            values.update(_flatten(_read_toml(config_path), env=env))
        secrets_path = cwd / ".streamlit" / "secrets.toml"
        if secrets_path.is_file():
            values.update({k: _resolve(k, v, env) for k, v in _read_toml(secrets_path).items()
                           if k.startswith("PARVIS_")})
        values.update({k: v for k, v in env.items() if k.startswith("PARVIS_")})
        data_dir = Path(values.get("PARVIS_DATA_DIR") or default_data_dir(cwd)).expanduser()
        db = Path(db_path or values.get("PARVIS_DB") or data_dir / "parvis.db").expanduser()
        return cls(data_dir=data_dir, db_path=db, values=values)
