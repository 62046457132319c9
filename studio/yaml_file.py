"""The one reader of YAML files (evaluation configs, `studio.yaml`): safe-loaded, every failure a `ConfigError`.

A key written twice in one mapping is refused (PyYAML would keep the last one silently). PyYAML raises more
than `YAMLError` on odd input: its safe constructors let `KeyError` (`!!bool maybe`),
`ValueError` (an integer of 5,000 digits, `!!timestamp 2001-13-45`), `TypeError` and the like escape, and
deep nesting hits the recursion limit. Here each of them becomes a `ConfigError` naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from studio.errors import ConfigError

_MAX_INT_BITS = 14_000  # about 4,200 digits: Python refuses to print longer integers (sys.get_int_max_str_digits)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when PyYAML was built with it
    """A safe loader whose value errors carry the offending node's line, like its syntax errors do."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:  # PyYAML keeps the last of two equal keys and drops the first silently
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if (key_node.tag, key_node.value) in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key_node.value[:40]!r} appears twice in one mapping; keep one",
                        key_node.start_mark)
                seen.add((key_node.tag, key_node.value))
        return super().construct_mapping(node, deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            value = super().construct_object(node, deep)
            if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:  # 0xfff... parses, then cannot print
                raise ValueError("too many digits")
            return value
        except (ValueError, KeyError, TypeError, OverflowError) as error:
            shown = node.value if isinstance(node.value, str) else "the collection"
            kind = node.tag.rsplit(":", 1)[-1]  # tag:yaml.org,2002:int -> int
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {shown[:40]!r} as {kind}: {str(error)[:80]}", node.start_mark) from None


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The safe-loaded document in the UTF-8 file `path` and its node tree (for line numbers); `ConfigError`
    naming the file, and the line where YAML knows it, for anything that is not readable YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start} cannot be decoded); save it as UTF-8") from None
    try:
        loader = _Loader(text)  # checks the characters (a NUL is a YAMLError already here)
        try:
            root = loader.get_single_node()
            return (loader.construct_document(root) if root is not None else None), root
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML (nested too deeply)") from None
