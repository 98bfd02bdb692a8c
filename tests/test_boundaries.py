"""Module boundaries: no module of writesae imports another module's private (`_name`) helpers.

A private name is an implementation detail of its module; a helper two modules share is public in one of them (or in a
module of shared helpers), so that renaming it inside one module cannot break another silently.
"""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / 'writesae'

def private_imports(path:Path) -> list:
    "(line, module, name) of every `from <writesae module> import _name` in `path`, at any depth of the file."
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if not isinstance(node, ast.ImportFrom): continue
        internal = node.level > 0 or (node.module or '').split('.')[0] == 'writesae'
        if not internal: continue
        for a in node.names:
            if a.name.startswith('_') and not a.name.startswith('__'): out.append((node.lineno, node.module, a.name))
    return out

def test_scanner_finds_private_imports(tmp_path):
    f = tmp_path / 'm.py'
    f.write_text("from .substitution import (check_sae_for_cell,\n    _window)\ndef g():\n    from writesae.sae import _x\nfrom torch import _C\nfrom . import __version__\n")
    assert private_imports(f) == [(1, 'substitution', '_window'), (4, 'writesae.sae', '_x')]

def test_no_cross_module_private_imports():
    found = {p.name: private_imports(p) for p in sorted(PKG.glob('*.py')) if p.name != '_modidx.py'}
    bad = {k: v for k, v in found.items() if v}
    assert not bad, f"private names imported across modules: {bad}"
