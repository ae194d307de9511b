"""Settings: where the data lives and how each part is configured.

Sources, later ones winning:
1. ``parvis.toml`` (path in ``PARVIS_CONFIG``, else ``./parvis.toml`` if present): non-secret settings; a value
   may be a pointer ``{"$env" = "NAME"}`` or ``{"$file" = "/path"}`` resolved here, never stored.
2. ``.streamlit/secrets.toml``: top-level ``PARVIS_*`` keys (read with tomllib, so the worker and CLI need no
   Streamlit).
3. Environment variables ``PARVIS_*``.

Every setting is declared once in core/settings_schema.py (key, type, default, description) and read through a
typed area: ``settings.x.bearer_token``, ``settings.publish.tick_s``, ``settings.sync.interval_s_for("x")``.
An area is converted the first time it is used (a bad value raises ConfigError naming the key and the value,
without breaking the other areas) and kept. Keys in the config files that no declaration knows are listed in
``settings.unknown_keys``. Secrets are never logged: every repr masks them.
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from core import settings_schema as schema
from core.errors import ConfigError
from core.settings_fields import Area
from core.settings_schema import DEFAULT_DATA_DIR, REPO_ROOT  # noqa: F401  (re-exported)

log = logging.getLogger("parvis.config")


def running_from_checkout(root: Path = REPO_ROOT) -> bool:
    """True when Parvis runs from a source checkout (``pyproject.toml`` beside the packages), False when it
    is installed (the packages lie in site-packages)."""
    return (root / "pyproject.toml").is_file() and (root / "streamlit_app.py").is_file()


def default_data_dir(cwd: Path) -> Path:
    """Where the data lives when ``PARVIS_DATA_DIR`` is not set: ``data/`` of the checkout, or, for an
    installed copy, ``./data`` under the working directory (never inside site-packages)."""
    return DEFAULT_DATA_DIR if running_from_checkout() else cwd / "data"


SECRET_MARKERS = ("TOKEN", "SECRET", "PASSWORD", "KEY", "COOKIE")
PREFIX = "PARVIS_"
LOCATION_KEYS = schema.PathSettings.all_keys()  # PARVIS_CONFIG, PARVIS_DATA_DIR, PARVIS_DB
A = TypeVar("A", bound=Area)


def is_secret_key(key: str) -> bool:
    """Whether the value of ``key`` is masked: declared secret, or secret-looking (token, password, key...)."""
    return schema.is_secret(key) or any(marker in key.upper() for marker in SECRET_MARKERS)


def redact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``values`` with secret keys (declared, or secret-looking) replaced by ``"***"``."""
    return {k: ("***" if is_secret_key(k) and v else v) for k, v in values.items()}


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
        if not name.startswith(PREFIX):
            name = f"{PREFIX}{name}"
        out[name] = _resolve(name, value, env)
    return out


class _Lookup(Mapping[str, Any]):
    """A ``get(key)`` callable seen as a mapping (it cannot be listed: only declared keys are asked for)."""

    def __init__(self, get: Callable[[str], Any]) -> None:
        self._get = get

    def __getitem__(self, key: str) -> Any:
        value = self._get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Resolved settings: the paths, the raw ``PARVIS_*`` values, and the typed areas built from them."""

    data_dir: Path
    db_path: Path
    values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    unknown_keys: tuple[str, ...] = ()  # PARVIS_* keys of the config files that no declaration knows
    _areas: dict[type[Area], Area] = field(default_factory=dict, init=False, repr=False, compare=False)

    def area(self, cls: type[A]) -> A:
        """The typed area ``cls`` (converted on first use, then kept); ConfigError names a bad key and value."""
        found = self._areas.get(cls)
        if found is None:
            found = self._areas[cls] = cls.from_source(self.values)
        return found  # type: ignore[return-value]

    @property
    def x(self) -> schema.XSettings:
        """The X connector's settings."""
        return self.area(schema.XSettings)

    @property
    def x_budget(self) -> schema.XBudgetSettings:
        """The X usage budget."""
        return self.area(schema.XBudgetSettings)

    @property
    def fb(self) -> schema.FacebookSettings:
        """The Facebook connector's settings."""
        return self.area(schema.FacebookSettings)

    @property
    def graph(self) -> schema.GraphSettings:
        """Meta's Graph API (Facebook and Instagram)."""
        return self.area(schema.GraphSettings)

    @property
    def mastodon(self) -> schema.MastodonSettings:
        """The Mastodon connector's settings."""
        return self.area(schema.MastodonSettings)

    @property
    def bluesky(self) -> schema.BlueskySettings:
        """The Bluesky connector's settings."""
        return self.area(schema.BlueskySettings)

    @property
    def ig(self) -> schema.InstagramSettings:
        """The Instagram connector's settings."""
        return self.area(schema.InstagramSettings)

    @property
    def media(self) -> schema.MediaSettings:
        """Where the calendar's images are served."""
        return self.area(schema.MediaSettings)

    @property
    def demo(self) -> schema.DemoSettings:
        """The demo connector."""
        return self.area(schema.DemoSettings)

    @property
    def sync(self) -> schema.SyncSettings:
        """Sync intervals."""
        return self.area(schema.SyncSettings)

    @property
    def transport(self) -> schema.TransportSettings:
        """Retries, backoff and timeout shared by the connectors."""
        return self.area(schema.TransportSettings)

    @property
    def sentiment(self) -> schema.SentimentSettings:
        """The sentiment model."""
        return self.area(schema.SentimentSettings)

    @property
    def moderation(self) -> schema.ModerationSettings:
        """The moderation queue and risk scorer."""
        return self.area(schema.ModerationSettings)

    @property
    def crisis(self) -> schema.CrisisSettings:
        """The crisis rule."""
        return self.area(schema.CrisisSettings)

    @property
    def inbox(self) -> schema.InboxSettings:
        """Response target and opening hours."""
        return self.area(schema.InboxSettings)

    @property
    def dashboard(self) -> schema.DashboardSettings:
        """The dashboard."""
        return self.area(schema.DashboardSettings)

    @property
    def publish(self) -> schema.PublishSettings:
        """The publishing worker."""
        return self.area(schema.PublishSettings)

    @property
    def auth(self) -> schema.AuthSettings:
        """Signing in."""
        return self.area(schema.AuthSettings)

    @property
    def archive(self) -> schema.ArchiveSettings:
        """SEDA transfers."""
        return self.area(schema.ArchiveSettings)

    @property
    def audit(self) -> schema.AuditSettings:
        """Checkpoints of the audit chain."""
        return self.area(schema.AuditSettings)

    @property
    def retention(self) -> schema.RetentionSettings:
        """Retention of working data."""
        return self.area(schema.RetentionSettings)

    @property
    def reports(self) -> schema.ReportSettings:
        """PDF reports."""
        return self.area(schema.ReportSettings)

    @property
    def operations(self) -> schema.OperationsSettings:
        """Backups, readiness and logs."""
        return self.area(schema.OperationsSettings)

    @property
    def server(self) -> schema.ServerSettings:
        """The HTTP server of ``up``."""
        return self.area(schema.ServerSettings)

    @property
    def media_base_url(self) -> str | None:
        """``settings.media.base_url``: the public address of ``<data dir>/media/`` without a trailing slash."""
        return self.media.base_url

    def is_set(self, key: str) -> bool:
        """Whether a source gives the declared ``key`` a non-empty value (no conversion: presence only)."""
        return self.values.get(key) not in (None, "")

    def check(self) -> list[str]:
        """Convert every area; the ConfigError messages (empty when every value is readable)."""
        problems = []
        for cls in schema.AREAS:
            try:
                self.area(cls)
            except ConfigError as err:
                problems.append(str(err))
        return problems

    def unknown_key_warnings(self) -> list[str]:
        """One line per unknown key of the config files, with the closest declared key when there is one."""
        out = []
        for key in self.unknown_keys:
            close = difflib.get_close_matches(key, list(schema.SPECS), n=1)
            out.append(f"unknown setting {key}" + (f" (did you mean {close[0]}?)" if close else ""))
        return out

    def child_env(self) -> dict[str, str]:
        """Environment entries that make a child process (``python -m console worker``) use the same database."""
        return {schema.PathSettings.key("db"): str(self.db_path)}

    # Legacy accessors by key, kept for tests and one-off scripts: code reads the typed areas.

    def get(self, key: str, default: Any = None) -> Any:
        """Legacy: the raw value of ``key`` (e.g. ``"PARVIS_X_BEARER_TOKEN"``) or ``default``."""
        value = self.values.get(key)
        return default if value in (None, "") else value

    def require(self, key: str) -> str:
        """Legacy: the raw value of ``key``, or ConfigError naming the environment variable to set."""
        value = self.get(key)
        if value is None:
            raise ConfigError(f"missing setting {key}: set the environment variable {key} (see README)")
        return str(value)

    def get_int(self, key: str, default: int) -> int:
        """Legacy: an integer setting, or ConfigError if it is not a number."""
        value = self.get(key, default)
        try:
            return int(value)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"setting {key} must be a whole number, got {value!r}") from err

    def get_float(self, key: str, default: float) -> float:
        """Legacy: a float setting, or ConfigError if it is not a number."""
        value = self.get(key, default)
        try:
            return float(value)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"setting {key} must be a number, got {value!r}") from err

    def __repr__(self) -> str:
        shown = redact(self.values) if isinstance(self.values, dict) else "<lookup>"
        return f"Settings(data_dir={self.data_dir!s}, db_path={self.db_path!s}, values={shown})"

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | Callable[[str], Any] | None = None, *,
                    data_dir: str | Path | None = None, db_path: str | Path | None = None) -> Settings:
        """Settings from raw ``PARVIS_*`` values only (tests, ``os.environ``): a mapping, or a ``get(key)``
        callable such as ``{...}.get``; no file is read. Paths as :meth:`load` derives them."""
        if values is None:
            raw: Mapping[str, Any] = {}
        elif isinstance(values, Mapping):
            raw = {k: v for k, v in values.items() if k.startswith(PREFIX)}
        else:
            raw = _Lookup(values)
        paths = schema.PathSettings.from_source(raw)
        data = Path(data_dir).expanduser() if data_dir else paths.data_dir or default_data_dir(Path.cwd())
        db = Path(db_path or paths.db or data / "parvis.db").expanduser()
        return cls(data_dir=data, db_path=db, values=raw)

    @classmethod
    def coerce(cls, source: Settings | Mapping[str, Any] | Callable[[str], Any]) -> Settings:
        """``source`` itself when it is Settings, else :meth:`from_values` (for callers given ``settings.get``)."""
        return source if isinstance(source, Settings) else cls.from_values(source)

    @classmethod
    def load(cls, *, env: Mapping[str, str] | None = None, cwd: Path | None = None,
             db_path: str | Path | None = None) -> Settings:
        """Read the config file, ``.streamlit/secrets.toml`` and the environment (see module docstring)."""
        env = os.environ if env is None else env
        cwd = cwd or Path.cwd()
        values: dict[str, Any] = {}
        unknown: set[str] = set()
        config_key = schema.PathSettings.key("config")
        config_path = Path(env[config_key]) if env.get(config_key) else cwd / "parvis.toml"
        if env.get(config_key) and not config_path.is_file():
            raise ConfigError(f"{config_key} points at {config_path}, which does not exist")
        sources: list[tuple[Path, dict[str, Any]]] = []
        if config_path.is_file():
            sources.append((config_path, _flatten(_read_toml(config_path), env=env)))
        secrets_path = cwd / ".streamlit" / "secrets.toml"
        if secrets_path.is_file():
            sources.append((secrets_path, {k: _resolve(k, v, env) for k, v in _read_toml(secrets_path).items()
                                           if k.startswith(PREFIX)}))
        for path, found in sources:
            values.update(found)
            for key in sorted(k for k in found if not schema.is_known(k)):
                log.warning("%s: unknown setting %s (ignored)", path, key)
                unknown.add(key)
        values.update({k: v for k, v in env.items() if k.startswith(PREFIX)})
        paths = schema.PathSettings.from_source(values)
        data = paths.data_dir or default_data_dir(cwd)
        db = Path(db_path or paths.db or data / "parvis.db").expanduser()
        return cls(data_dir=data, db_path=db, values=values, unknown_keys=tuple(sorted(unknown)))


def location_env(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The environment values that decide which config and database :meth:`Settings.load` uses (cache keys)."""
    env = os.environ if env is None else env
    return tuple(env.get(k, "") for k in LOCATION_KEYS)
