"""The machinery behind the settings declaration (core/settings_schema.py): one typed field per setting.

A setting is a dataclass field made with :func:`setting`: its ``PARVIS_*`` key, its kind (``str``, ``int``,
``float``, ``bool``, ``path``, ``secret``), its default and a one-line description travel in the field's
metadata, so the same declaration builds the typed object (:meth:`Area.from_source`), documents itself
(the README table) and tells known keys from unknown ones. Settings that exist once per connector, per data
class or per billable kind (``PARVIS_SYNC_INTERVAL_<NAME>_S``) are :class:`Dynamic` declarations read on demand.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from core.errors import ConfigError

KINDS = ("str", "int", "float", "bool", "path", "secret")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """What the declaration says about one setting."""

    key: str  # e.g. PARVIS_X_BEARER_TOKEN (a pattern such as PARVIS_SYNC_INTERVAL_<NAME>_S for a Dynamic one)
    kind: str
    default: Any
    area: str
    description: str
    choices: tuple[str, ...] = ()  # str settings: the accepted values (compared lower-cased, stripped)
    minimum: float | None = None  # int/float settings: the smallest accepted value
    check: Callable[[str, Any], Any] | None = None  # extra validation/normalisation: (key, value) -> value
    shown_default: str = ""  # how the table shows a default that depends on something else

    @property
    def secret(self) -> bool:
        """Whether the value is masked in every repr and never shown."""
        return self.kind == "secret"

    def convert(self, raw: Any) -> Any:
        """``raw`` (a string from the environment, a TOML value, or None/"" when unset) as this setting's type."""
        if raw is None or raw == "":
            return self.default
        value = _convert(self.key, self.kind, raw)
        if self.choices:
            value = str(value).strip().lower()
            if value not in self.choices:
                raise ConfigError(f"setting {self.key} must be one of {', '.join(self.choices)}, got {raw!r}")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"setting {self.key} must be at least {self.minimum:g}, got {raw!r}")
        return self.check(self.key, value) if self.check else value


def _convert(key: str, kind: str, raw: Any) -> Any:
    if kind in ("str", "secret"):
        return str(raw)
    if kind == "path":
        return Path(str(raw)).expanduser()
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ConfigError(f"setting {key} must be true or false (1/0, yes/no, on/off), got {raw!r}")
    try:
        return int(raw) if kind == "int" else float(raw)
    except (TypeError, ValueError) as err:
        what = "a whole number" if kind == "int" else "a number"
        raise ConfigError(f"setting {key} must be {what}, got {raw!r}") from err


def setting(key: str, kind: str, default: Any, description: str, **extra: Any) -> Any:
    """Declare one setting as a dataclass field (see :class:`Spec` for ``extra``: choices, minimum, check...)."""
    if kind not in KINDS:
        raise ValueError(f"unknown setting kind {kind!r} for {key}")
    return field(default=default, metadata={"spec": (key, kind, default, description, extra)})


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Area:
    """Base of the typed settings objects, one per area (``settings.x``, ``settings.publish``...).

    Subclasses are ``@dataclass(frozen=True, slots=True, kw_only=True, repr=False)`` with ``AREA`` set and
    fields made by :func:`setting`; ``source`` keeps the raw values for the :class:`Dynamic` settings.
    """

    AREA: ClassVar[str] = ""
    source: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def declared(cls) -> list[tuple[str, Spec]]:
        """``(field name, spec)`` of every declared setting of the area, in declaration order."""
        out = []
        for f in dataclasses.fields(cls):
            if "spec" in f.metadata:
                key, kind, default, description, extra = f.metadata["spec"]
                out.append((f.name, Spec(key=key, kind=kind, default=default, area=cls.AREA,
                                         description=description, **extra)))
        return out

    @classmethod
    def specs(cls) -> tuple[Spec, ...]:
        """The declared settings of this area, in declaration order."""
        return tuple(spec for _, spec in cls.declared())

    @classmethod
    def key(cls, name: str) -> str:
        """The ``PARVIS_*`` key of field ``name`` (to name it in a message; the value is the attribute)."""
        for field_name, spec in cls.declared():
            if field_name == name:
                return spec.key
        raise AttributeError(f"{cls.__name__} has no setting {name!r}")

    @classmethod
    def keys(cls, *names: str) -> tuple[str, ...]:
        """The keys of the fields ``names``."""
        return tuple(cls.key(n) for n in names)

    @classmethod
    def all_keys(cls) -> tuple[str, ...]:
        """Every key of the area, in declaration order."""
        return tuple(s.key for s in cls.specs())

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> Self:
        """Convert every declared key of ``source`` (raw values); ConfigError names the key and the bad value."""
        values = {name: spec.convert(source.get(spec.key)) for name, spec in cls.declared()}
        return cls(source=source, **values)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={'***' if spec.secret and getattr(self, name) else repr(getattr(self, name))}"
                          for name, spec in self.declared())
        return f"{type(self).__name__}({shown})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dynamic:
    """A family of settings with a name inside the key, e.g. ``PARVIS_SYNC_INTERVAL_<NAME>_S``."""

    key: str  # the pattern, with one <PLACEHOLDER>
    kind: str
    area: str
    description: str
    shown_default: str
    minimum: float | None = None

    @property
    def _parts(self) -> tuple[str, str]:
        head, _, rest = self.key.partition("<")
        return head, rest.partition(">")[2]

    def key_for(self, name: str) -> str:
        """The key for ``name`` (upper-cased): ``key_for("x")`` -> ``PARVIS_SYNC_INTERVAL_X_S``."""
        head, tail = self._parts
        return f"{head}{name.upper()}{tail}"

    def matches(self, key: str) -> bool:
        """Whether ``key`` belongs to this family."""
        head, tail = self._parts
        return re.fullmatch(re.escape(head) + r"[A-Z0-9_]+" + re.escape(tail), key) is not None

    def spec(self, default: Any = None, name: str | None = None) -> Spec:
        """A :class:`Spec` for one member (``name``) or for the family (the table row)."""
        return Spec(key=self.key_for(name) if name else self.key, kind=self.kind, default=default, area=self.area,
                    description=self.description, minimum=self.minimum, shown_default=self.shown_default)

    def read(self, source: Mapping[str, Any], name: str, default: Any) -> Any:
        """The value for ``name`` in ``source`` converted (``default`` when unset); ConfigError when unreadable."""
        return self.spec(default, name).convert(source.get(self.key_for(name)))
