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

# Only the host layer knows a model's module tree and transformers' cache internals; every other module goes through the
# adapter's public methods (capture, patched, replay_record / replay_cache / replay_step, layer_module, ...).
HOST_LAYER = {'hosts.py', 'rwkv7.py', '_modidx.py'}
INTERNALS = ('.modules()', '.named_modules()', 'conv_states', 'recurrent_states', 'is_conv_states_initialized', 'DynamicCache',
             'cache_utils', 'ALL_ATTENTION_FUNCTIONS', 'activate_past_recording')

def model_internals(path:Path) -> list:
    "(line, text) of each line of `path` that names a model-internal attribute outside a comment."
    out = []
    for i, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
        code = line.split('#', 1)[0]
        if any(t in code for t in INTERNALS): out.append((i, line.strip()[:100]))
    return out

def test_internals_scanner(tmp_path):
    f = tmp_path / 'm.py'
    f.write_text("for m in model.modules(): pass\nx = 1  # conv_states only in a comment\ncache.layers[0].conv_states[0] = c\n")
    assert [i for i, _ in model_internals(f)] == [1, 3]

def test_only_the_host_layer_knows_model_internals():
    bad = {p.name: model_internals(p) for p in sorted(PKG.glob('*.py')) if p.name not in HOST_LAYER}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"model or cache internals used outside the host layer: {bad}"
