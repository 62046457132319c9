"""Typed decoding options: parse them from YAML mappings or from `key=value` text.

Every adapter declares a frozen dataclass of options whose `__post_init__` raises
`ConfigError` for values that make no sense. These helpers turn user input into such a
dataclass and back, with messages that name the option and the allowed values.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Mapping

from studio.errors import ConfigError


def options_from_mapping(options_type: type, values: Mapping[str, Any] | None, owner: str = "",
                         defaults: Any = None) -> Any:
    """An `options_type` instance from a mapping, over `defaults` (an instance) when given; unknown keys and
    wrong types raise `ConfigError`."""
    values = dict(values or {})
    fields = {f.name: f for f in dataclasses.fields(options_type)}
    unknown = sorted(str(key) for key in set(values) - set(fields))  # YAML keys may be numbers, booleans or null
    if unknown:
        where = f" for {owner}" if owner else ""
        raise ConfigError(f"unknown option(s) {', '.join(unknown)}{where}; known options: {', '.join(fields)}")
    hints = typing.get_type_hints(options_type)
    converted = {name: _convert(name, value, hints[name]) for name, value in values.items()}
    return dataclasses.replace(defaults, **converted) if defaults is not None else options_type(**converted)


def options_from_text(options_type: type, text: str, owner: str = "", defaults: Any = None) -> Any:
    """Parse 'beam_size=1, temperature=0.2' (commas or spaces between pairs)."""
    values: dict[str, str] = {}
    for pair in (text or "").replace(",", " ").split():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"options must look like 'name=value'; got {pair!r}")
        values[key.strip()] = value.strip()
    return options_from_mapping(options_type, values, owner, defaults)


def options_to_text(options: Any, defaults: Any = None) -> str:
    """The options that differ from `defaults` (else the class defaults), as 'name=value' text ('' when none do)."""
    defaults = defaults if defaults is not None else options.__class__()
    return " ".join(
        f"{f.name}={getattr(options, f.name)}"
        for f in dataclasses.fields(options)
        if getattr(options, f.name) != getattr(defaults, f.name)
    )


def _convert(name: str, value: Any, hint: Any) -> Any:
    allowed = [a for a in typing.get_args(hint) if a is not type(None)] if _is_union(hint) else [hint]
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
        if type(None) in typing.get_args(hint):
            return None
        raise ConfigError(f"option {name} cannot be empty")
    for target in allowed:
        try:
            return _coerce(value, target)
        except (TypeError, ValueError, OverflowError):  # OverflowError: int('1e400'), float(10 ** 400)
            continue
    names = " or ".join(_type_name(t) for t in allowed)
    raise ConfigError(f"option {name}={value!r} is not a valid {names}")


def _type_name(target: Any) -> str:
    if typing.get_origin(target) is typing.Literal:
        return "choice (one of " + ", ".join(str(a) for a in typing.get_args(target)) + ")"
    return getattr(target, "__name__", str(target))


def _coerce(value: Any, target: Any) -> Any:
    if target is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes"):
            return True
        if str(value).lower() in ("false", "0", "no"):
            return False
        raise ValueError(value)
    if target is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        return int(float(value)) if isinstance(value, str) and "." in value else int(value)
    if target is float:
        if isinstance(value, bool) or not math.isfinite(number := float(value)):
            raise ValueError(value)  # NaN slips past every range check (all comparisons are false)
        return number
    if target is str:
        return str(value)
    if typing.get_origin(target) is typing.Literal:
        if value in typing.get_args(target):
            return value
        raise ValueError(value)
    raise TypeError(target)


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)
