"""Fuzzed `name=value` options (the UI's text box, listening-test system lines) and option mappings (YAML).

Each example either parses into the adapter's options dataclass, with finite numbers and a text form that
parses back to the same options, or raises `ConfigError` naming the offending option (or the malformed pair).
"""

from __future__ import annotations

import dataclasses
import math
import typing

from hypothesis import given, settings
from hypothesis import strategies as st

from studio.adapters.options import options_from_mapping, options_from_text, options_to_text
from studio.adapters.zoo_types import ADAPTER_TYPES
from studio.bootstrap import build_registry
from studio.errors import ConfigError
from studio.evaluation.config import RaySettings
from tests.fuzz.fuzz_inputs import NUMBERS, TRICKY_STRINGS, junk, keys

_REGISTRY = build_registry()
# (owner, options type, defaults): every adapter's options, the zoo types' and the Ray settings.
OPTION_TYPES = sorted(
    {(i, _REGISTRY.info(i).options_type, _REGISTRY.info(i).defaults) for i in _REGISTRY.ids()}
    | {(f"type {t.name}", t.options_type, None) for t in ADAPTER_TYPES.values()}
    | {("ray", RaySettings, None)}, key=lambda entry: entry[0])


def _field_values(options_type: type) -> dict[str, tuple]:
    """Values each field accepts, so examples get past the type checks to the range checks."""
    hints = typing.get_type_hints(options_type)
    return {f.name: typing.get_args(hints[f.name]) if typing.get_origin(hints[f.name]) is typing.Literal
            else (0, 1, 2, 5, 20, 100, 0.5, 1.5, "en", "true", "false") for f in dataclasses.fields(options_type)}


def _token(value) -> str:
    return str(value).replace(",", "").replace(" ", "") or "x"


def option_text(options_type: type) -> st.SearchStrategy[str]:
    """'name=value' text: known and unknown names, good and bad values, and malformed pairs."""
    fields = _field_values(options_type)
    names = st.sampled_from(sorted(fields) * 3 + list(TRICKY_STRINGS[:30]))
    values = st.sampled_from(sorted({_token(v) for vs in fields.values() for v in vs} | {_token(n) for n in NUMBERS}
                                    | set(TRICKY_STRINGS)))
    forms = st.sampled_from(("{k}={v}",) * 6 + ("{k}", "={v}", "{k}=={v}", "{k}={v}={v}"))
    pair = st.builds(lambda form, k, v: form.format(k=k, v=v), forms, names, values)
    return st.builds(lambda sep, pairs: sep.join(pairs), st.sampled_from((" ", ", ", ",", "\n")),
                     st.lists(pair, max_size=4))


def option_mapping(options_type: type) -> st.SearchStrategy[dict]:
    fields = _field_values(options_type)
    names = st.sampled_from(sorted(fields) * 3) | keys if fields else keys
    values = st.sampled_from([v for vs in fields.values() for v in vs] or [1]) | junk
    return st.dictionaries(names, values, max_size=4)


TEXT_CASES = st.one_of([st.tuples(st.just(entry), option_text(entry[1])) for entry in OPTION_TYPES])
MAPPING_CASES = st.one_of([st.tuples(st.just(entry), option_mapping(entry[1])) for entry in OPTION_TYPES])


def _assert_parsed(options, options_type: type, defaults) -> None:
    assert isinstance(options, options_type)
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        assert not (isinstance(value, float) and not math.isfinite(value)), f"{field.name}={value} was accepted"
    # The text form (labels, results) parses back to the same options, the round trip the UI relies on.
    assert options_from_text(options_type, options_to_text(options, defaults), defaults=defaults) == options


@settings(max_examples=1000)
@given(TEXT_CASES)
def test_name_value_text_parses_or_names_the_option(case):
    (owner, options_type, defaults), text = case
    try:
        options = options_from_text(options_type, text, owner, defaults)
    except ConfigError as error:
        message = str(error)
        pairs = text.replace(",", " ").split()
        assert any(p.partition("=")[0] and p.partition("=")[0] in message for p in pairs) or any(
            repr(p) in message for p in pairs), f"{message!r} names no option of {text!r}"
        return
    _assert_parsed(options, options_type, defaults)


@settings(max_examples=1000)
@given(MAPPING_CASES)
def test_option_mapping_parses_or_names_the_option(case):
    (owner, options_type, defaults), mapping = case
    try:
        options = options_from_mapping(options_type, mapping, owner, defaults)
    except ConfigError as error:
        assert any(str(key) in str(error) for key in mapping), f"{error} names no option of {mapping!r}"
        return
    assert isinstance(options, options_type)
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        assert not (isinstance(value, float) and not math.isfinite(value)), f"{field.name}={value} was accepted"
