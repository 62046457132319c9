"""Hypothesis strategies shared by the parser fuzzers: near-valid documents and raw junk.

Every fuzzer starts from a valid input and mutates it (wrong types, missing or unknown keys, huge numbers,
NaN, odd unicode, path-like strings), or throws raw bytes at the parser, so examples reach the deep checks
and not only the first type test.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml
from hypothesis import strategies as st

# The strings that broke a parser once (file system refusals, unprintable numbers), drawn more often.
DANGEROUS_STRINGS = ("a\x00b", "~nonexistent_user_xyz/x", "x" * 300, "1" * 5000, "../../x", "", "nan", "1e400")
# Strings a user (or an attacker) may type where a name, a path or a number belongs.
TRICKY_STRINGS = DANGEROUS_STRINGS + (
    " ", "\t", "0", "-1", "-1e400", "NaN", "inf", "-inf", "Infinity", "1_000", "0x10", "1.5", "true", "no", "null",
    "None", "~", "[]", "{}", "../x", "../../etc/passwd", "/etc/passwd", "/", ".", "..", "a/../../b", "C:\\x",
    "\\\\server\\share", "~/x", "é" * 200, "\u202e\u200b", "\ufeffkey", "\U0001f600", "%s%n", "{0}",
    "$(rm -rf /)", "a b", "a=b", "=", "key=", "=value", ",", "١٢", "１２",
)

# Values are drawn from fixed pools where possible: one draw per value keeps an example to a few milliseconds,
# so each parser sees thousands of inputs within the suite's time.
NUMBERS = (0, 1, -1, 2, 7, 20, 100, 2 ** 31, 2 ** 63, -(2 ** 63), 10 ** 400, -(10 ** 400), 0.0, -0.0, 0.5, 1.5, -2.5,
           1e308, -1e308, 5e-324, math.nan, math.inf, -math.inf)
SCALARS = (None, True, False) + NUMBERS + TRICKY_STRINGS
_NESTED = ([], {}, [None], [[[]]], {"": None}, {None: 1}, {1: "a", "b": 2}, {True: []}, [1, "a", None],
           {"path": {"path": "x"}}, [{"id": "a"}, {"id": "a"}], {"a": [1, {"b": math.nan}]}, ["x" * 300])
text = st.text(st.characters(codec="utf-8"), max_size=12)
tricky_text = st.sampled_from(DANGEROUS_STRINGS) | st.sampled_from(DANGEROUS_STRINGS) | st.sampled_from(TRICKY_STRINGS) | text
numbers = st.sampled_from(NUMBERS) | st.sampled_from(NUMBERS) | st.integers() | st.floats()
scalars = st.sampled_from(SCALARS) | text
_NON_TEXT_KEYS = st.sampled_from((0, 1, -1, True, False, None, 1.5))  # YAML keys need not be strings
keys = st.sampled_from(TRICKY_STRINGS[:30]) | _NON_TEXT_KEYS | text
junk = scalars | st.sampled_from(_NESTED)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a nested document: the root, each value, and each value inside lists and mappings."""
    paths = [prefix]
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        paths += _paths(child, prefix + (key,))
    return paths


def _replaced(document: Any, path: tuple, change) -> Any:
    """A copy of `document` with the part at `path` put through `change` (which may return _DROP)."""
    if not path:
        return change(document)
    copy = dict(document) if isinstance(document, dict) else list(document)
    inner = _replaced(copy[path[0]], path[1:], change)
    if inner is _DROP:
        del copy[path[0]]
    else:
        copy[path[0]] = inner
    return copy


_DROP = object()


def _at(document: Any, path: tuple) -> Any:
    for key in path:
        document = document[key]
    return document


def _alike(value: Any) -> st.SearchStrategy:
    if isinstance(value, bool):
        return scalars
    if isinstance(value, (int, float)):
        return numbers
    return tricky_text if isinstance(value, str) else junk
_ACTIONS = ("alike",) * 6 + ("junk", "drop", "unknown key", "rename key", "wrap", "duplicate")


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one part changed: an odd value of the same kind (a tricky string for a string, an odd
    number for a number) or junk put in its place, the part dropped, wrapped in a list, duplicated, its key
    renamed, or an unknown key added beside it.

    Picking one place of the whole document in one draw reaches deep fields as often as top-level ones."""
    path = draw(st.sampled_from(_paths(document)))
    action = draw(st.sampled_from(_ACTIONS))
    if action in ("alike", "junk"):
        value = draw(_alike(_at(document, path)) if action == "alike" else junk)
        return _replaced(document, path, lambda _: value)
    if action == "drop" and path:
        return _replaced(document, path, lambda _: _DROP)
    if action == "wrap":
        return _replaced(document, path, lambda old: [old])
    if action == "duplicate" and path and isinstance(_at(document, path[:-1]), list):
        return _replaced(document, path[:-1], lambda items: items + [items[path[-1]]])
    key, other, value = draw(keys), draw(_NON_TEXT_KEYS), draw(junk)  # two unknown keys, text and not, side by side
    if action == "rename key" and path and isinstance(_at(document, path[:-1]), dict):
        def rename(parent: dict) -> dict:
            return {key if k == path[-1] else k: v for k, v in parent.items()}
        return _replaced(document, path[:-1], rename)
    return _replaced(document, path, lambda old: {**old, key: value, other: value} if isinstance(old, dict) else value)


@st.composite
def near_valid(draw: st.DrawFn, valid: st.SearchStrategy) -> Any:
    """Mostly-valid structures: a valid one as it is (one time in six), or with one to four parts changed."""
    document = draw(valid)
    for _ in range(draw(st.sampled_from((0, 1, 1, 2, 3, 4)))):
        document = draw(mutated(document))
    return document


def _yaml_text(document: Any, flow: bool) -> str:
    try:
        return yaml.safe_dump(document, allow_unicode=True, default_flow_style=flow, sort_keys=False)
    except (yaml.YAMLError, RecursionError):
        return repr(document)


YAML_LITERALS = ("1" * 5000, "0x" + "f" * 5000, "0o" + "7" * 5000, "1.0e" + "9" * 5000, "!!python/object:os.system",
                 "!!python/name:os.system ''", "*undefined", "&a [*a, *a]", "!!binary '==='", "!!binary aGk=",
                 "!!timestamp 2001-13-45", "!!timestamp 2001-12-14", "!!set {a, b}", "!!omap [a: 1]", "!!float x",
                 "!!int x", "!!str", "!!null x", "!!bool maybe", "[" * 200, "{" * 200, "? [a, b]\n: c", "|\n  x",
                 ">-", "'unterminated", '"\\uD800"', '"\\x00"', "@reserved", "`tick", "%TAG ! x", "--- \n---",
                 "&a 1\nother: *a", "<<: {beam_size: 3}", "<<: 1", "2001-12-14", "0b101", "1_000", "0o17", ".inf",
                 ".NaN", "-.inf", "~", "y", "on")


@st.composite
def text_edits(draw: st.DrawFn, source: str) -> str:
    """`source` with a few lines duplicated (duplicate keys), deleted, or cut, or with junk characters inserted."""
    lines = source.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(("duplicate", "delete", "cut", "insert", "literal")))
        if edit == "literal":  # a value only YAML text can hold: tags, aliases, numbers too long to convert
            key = lines[at].partition(":")[0] if ":" in lines[at] else lines[at].rstrip("\n")
            lines[at] = f"{key}: {draw(st.sampled_from(YAML_LITERALS))}\n"
        elif edit == "duplicate":
            lines.insert(at, lines[at])
        elif edit == "delete":
            del lines[at]
        elif edit == "cut":
            lines[at] = lines[at][:draw(st.integers(0, len(lines[at])))]
        else:
            column = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:column] + draw(st.sampled_from(":-[]{}&*!|>'\"#%@`,?\t\x00\x85\ufeff") | text) + lines[at][column:]
    return "".join(lines)


def yaml_bytes(valid: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    """A YAML file's bytes: a near-valid document dumped, a valid one edited as text, or raw bytes."""
    dumped = st.builds(_yaml_text, near_valid(valid), st.booleans())
    edited = st.builds(_yaml_text, valid, st.booleans()).flatmap(text_edits)
    return (dumped | dumped | edited).map(lambda t: t.encode("utf-8", "surrogatepass")) | st.binary(max_size=200)


def _json_line(row: Any) -> str:
    try:
        return json.dumps(row, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return repr(row)


JSON_JUNK_LINES = ("", "   ", "{", "[]", "null", "42", '"text"', "{'a': 1}", '{"a": NaN}', '{"duration": Infinity}',
                   '{"duration": 1' + "0" * 5000 + "}", "[" * 5000 + "]" * 5000, '{"text": "\\ud800"}', "\x00")


def jsonl_bytes(valid_row: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    """A JSONL file's bytes: lines of near-valid rows and junk lines, or raw bytes."""
    line = st.builds(_json_line, near_valid(valid_row)) | st.sampled_from(JSON_JUNK_LINES)
    lines = st.lists(line, min_size=1, max_size=4)
    return lines.map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass")) | st.binary(max_size=200)
