"""tools/run_notebooks.py: saving outputs, and --check failing when re-executing changes them."""
import json, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import run_notebooks as rn

def _nb(path:Path, *sources):
    cells = [dict(cell_type='code', execution_count=None, metadata={}, outputs=[], source=s) for s in sources]
    path.write_text(json.dumps(dict(cells=cells, metadata=dict(kernelspec=dict(display_name='python3', language='python', name='python3')),
                                    nbformat=4, nbformat_minor=4)))

def _run(*args):
    return subprocess.run([sys.executable, str(ROOT / 'tools' / 'run_notebooks.py'), '--workers', '1', *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)

def test_numbers_within_tolerance():
    assert rn.same_text('FVU 0.828, n = 12', 'FVU 0.8281, n = 12', 0.02, 1e-3)
    assert not rn.same_text('FVU 0.828, n = 12', 'FVU 0.9, n = 12', 0.02, 1e-3)
    assert not rn.same_text('FVU 0.828', 'MSE 0.828', 0.02, 1e-3)
    assert not rn.same_text('a 1 b', 'a 1 b 2', 0.02, 1e-3)

def test_keep_drops_stderr_and_widget_views():
    outs = [dict(output_type='stream', name='stderr', text='100%|####|'),
            dict(output_type='display_data', data={'application/vnd.jupyter.widget-view+json': {'model_id': 'abc'}, 'text/plain': 'VBox()'}, metadata={}),
            dict(output_type='stream', name='stdout', text='hi\n')]
    kept = rn.keep(outs)
    assert [o['output_type'] for o in kept] == ['display_data', 'stream']
    assert list(kept[0]['data']) == ['text/plain']

def test_save_then_check(tmp_path):
    nb = tmp_path / 'x.ipynb'
    _nb(nb, 'import sys; print("to stderr", file=sys.stderr); print(6 * 7)', '#| eval: false\n1/0', 'round(2 / 3, 4)')
    r = _run(nb); assert r.returncode == 0, r.stdout + r.stderr
    cells = json.loads(nb.read_text())['cells']
    assert cells[0]['outputs'] == [dict(name='stdout', output_type='stream', text=['42\n'])]  # stderr dropped
    assert cells[1]['outputs'] == []  # not executed
    assert cells[2]['outputs'][0]['data']['text/plain'] == ['0.6667']
    before = nb.read_text()
    r = _run(nb); assert r.returncode == 0 and 'same' in r.stdout, r.stdout   # unchanged outputs: the file is not rewritten
    assert nb.read_text() == before
    r = _run('--check', nb); assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(before); d['cells'][2]['source'] = 'round(2 / 3, 1)'; nb.write_text(json.dumps(d))
    r = _run('--check', nb); assert r.returncode == 1 and "saved '0.6667', now '0.7'" in r.stdout, r.stdout

def test_check_fails_on_exception_and_on_no_output(tmp_path):
    bad, quiet = tmp_path / 'bad.ipynb', tmp_path / 'quiet.ipynb'
    _nb(bad, 'assert 1 == 2, "planted failure"'); _nb(quiet, 'x = 1')
    r = _run('--check', bad, quiet)
    assert r.returncode == 1 and 'planted failure' in r.stdout and 'no cell shows an output' in r.stdout, r.stdout

def test_bad_arguments(tmp_path):
    r = _run('--workers', '0'); assert r.returncode == 2 and '--workers 0' in r.stderr
    r = _run(tmp_path / 'missing.ipynb'); assert r.returncode == 2 and 'not a notebook file' in r.stderr
