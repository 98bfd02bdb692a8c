"""Small steps: no `#| export` cell of a notebook is longer than 60 lines (the flag line included).

A long export cell hides several steps behind one block of code, so that the tests and the prose that follow it cover
the block instead of each step. The limit is checked on the notebooks, the source of the library.
"""
import json, re
from pathlib import Path

NBS = Path(__file__).resolve().parent.parent / 'nbs'
LIMIT = 60

def long_export_cells(path:Path, limit:int=LIMIT) -> list:
    "(cell index, lines, first code line) of each export cell of the notebook at `path` over `limit` lines."
    out = []
    for i, c in enumerate(json.loads(path.read_text(encoding='utf-8'))['cells']):
        if c['cell_type'] != 'code': continue
        s = ''.join(c['source'])
        if re.match(r'\s*#\|\s*export\b', s) and len(s.splitlines()) > limit:
            out.append((i, len(s.splitlines()), (s.splitlines() + [''])[1][:60]))
    return out

def test_scanner(tmp_path):
    nb = dict(cells=[dict(cell_type='code', source='#| export\n' + 'x = 1\n' * 70), dict(cell_type='code', source='#| export\nx = 1'),
                     dict(cell_type='code', source='y = 2\n' * 80), dict(cell_type='markdown', source='#| export\n' * 80)])
    (tmp_path / 'a.ipynb').write_text(json.dumps(nb))
    assert long_export_cells(tmp_path / 'a.ipynb') == [(0, 71, 'x = 1')]

def test_no_long_export_cells():
    bad = {p.name: long_export_cells(p) for p in sorted(NBS.glob('*.ipynb'))}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"export cells over {LIMIT} lines (split them into steps): {bad}"
