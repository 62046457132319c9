"""The wiring rules the code can't break: layers (import-linter), no import cycles, no borrowed private
names, and shared types that import nothing heavy and read no environment."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDIO = ROOT / "studio"


def test_the_layer_contract_holds():
    """ui -> evaluation / listening -> engine -> metrics / decoding -> adapters -> types (pyproject.toml)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_no_module_imports_itself_round_a_cycle():
    """Every import counts, also those inside functions: a cycle is a cycle whenever it is closed."""
    import grimp

    graph = grimp.build_graph("studio", cache_dir=None)
    modules = sorted(graph.modules)
    imports = {m: graph.find_modules_directly_imported_by(m) for m in modules}
    # a package imports its own submodules through __init__; only module-to-module cycles count
    cycles = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(imports[module]):
            if module.startswith(target + ".") or target.startswith(module + "."):
                continue
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in modules:
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for path in STUDIO.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("studio"):
                offenders += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                              if a.name.startswith("_")]
    assert offenders == []


def test_shared_types_and_metrics_import_no_registry_and_read_no_environment():
    script = """
import os, sys
read = []
class Watched(type(os.environ)):
    def __getitem__(self, key):
        read.append(key); return super().__getitem__(key)
    def get(self, key, default=None):
        read.append(key); return super().get(key, default)
    def __contains__(self, key):
        read.append(key); return super().__contains__(key)
os.environ.__class__ = Watched
import studio.types, studio.metrics, studio.metrics.wer
loaded = sorted(m for m in sys.modules if m.startswith(("studio.adapters", "studio.bootstrap", "studio.decoding")))
print(loaded, sorted({k for k in read if k.startswith("STUDIO")}))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "STUDIO_CONFIG": "/nonexistent/studio.yaml"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[] []"
