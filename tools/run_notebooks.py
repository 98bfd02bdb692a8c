"""Execute the notebooks as `nbdev_test` does and save their outputs (default), or check that re-executing them
reproduces the saved outputs (`--check`, what `make test` runs).

    python tools/run_notebooks.py [--check] [--workers 2] [nbs/05_sae.ipynb ...]

Cells are skipped exactly as `nbdev_test` skips them: markdown, `#| eval: false`, and the flags in `settings.ini`'s
`tst_flags` (gpu, slow, hub); a skipped cell keeps whatever outputs it has. Each notebook runs in its own process, in
the `nbs/` folder, with `IN_TEST=1`, and stops at its first exception (a failed test fails the run).

Saved outputs are the reader's copy, so they must not change when nothing changed: stderr streams (progress bars,
warnings) are dropped, and so are widget views (their model ids are random; the widget's text form is kept). Saving
rewrites a notebook only when its outputs differ from the saved ones under the comparison below, then runs
`nbdev_clean` on it; the write is atomic (a temporary file beside it, then a rename).

The comparison: the same cells have outputs of the same kinds, non-numeric text is equal, and every number is equal
within `--rtol` (relative, default 0.02) or `--atol` (absolute, default 1e-3), because CPU kernels differ in the last
digits from one processor to another; images are compared by presence only. `--check` also fails a notebook that
shows no output at all.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / 'nbs'
WIDGET = 'application/vnd.jupyter.widget-view+json'
TEXTS = ('text/plain', 'text/markdown', 'text/html', 'text/latex')  # compared; images by presence only
NUM = re.compile(r'([-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)')
UNSTABLE = re.compile(r'(/tmp/\S+|0x[0-9a-f]{6,}|\d+(?:\.\d+)?\s?(?:s|ms)\b elapsed)')

def tst_flags() -> set:
    for line in (ROOT / 'settings.ini').read_text().splitlines():
        if line.split('=')[0].strip() == 'tst_flags': return set(line.split('=', 1)[1].split())
    return set()

def keep(outputs:list) -> list:
    "The outputs worth saving: no stderr, no widget views."
    res = []
    for o in outputs:
        o = dict(o)
        if o.get('output_type') == 'stream' and o.get('name') == 'stderr': continue
        if 'data' in o:
            data = {k: v for k, v in dict(o['data']).items() if k != WIDGET}
            if not data: continue
            o['data'] = data
            if 'metadata' in o: o['metadata'] = {k: v for k, v in dict(o['metadata']).items() if k != WIDGET}
        res.append(o)
    return res

def _text(v) -> str: return ''.join(v) if isinstance(v, list) else str(v)

def signature(outputs:list) -> list:
    "What the comparison looks at, per output: its kind, its mime types, and its text (images by presence)."
    res = []
    for o in outputs:
        kind = o.get('output_type')
        if kind == 'stream': res.append((kind, o.get('name'), (), _text(o.get('text', ''))))
        elif 'data' in o:
            data = o['data']
            res.append((kind, '', tuple(sorted(data)), '\n'.join(_text(data[m]) for m in TEXTS if m in data)))
        else: res.append((kind, o.get('ename', ''), (), _text(o.get('evalue', ''))))
    return res

def same_text(a:str, b:str, rtol:float, atol:float) -> bool:
    a, b = UNSTABLE.sub('<unstable>', a), UNSTABLE.sub('<unstable>', b)
    pa, pb = NUM.split(a), NUM.split(b)
    if len(pa) != len(pb): return False
    for i, (x, y) in enumerate(zip(pa, pb)):
        if i % 2 == 0:
            if x != y: return False
        elif x != y and abs(float(x) - float(y)) > atol + rtol * abs(float(y)): return False
    return True

def differences(old:list, new:list, rtol:float, atol:float) -> list:
    "Per cell index, a one-line reason when the outputs differ."
    diffs = []
    for i, (o, n) in enumerate(zip(old, new)):
        if o is None or n is None: continue  # a skipped cell
        so, sn = signature(o), signature(n)
        if len(so) != len(sn): diffs.append(f"cell {i}: {len(so)} saved outputs, {len(sn)} now"); continue
        for a, b in zip(so, sn):
            if a[:3] != b[:3]: diffs.append(f"cell {i}: saved {a[0]} {a[2] or a[1]}, now {b[0]} {b[2] or b[1]}"); break
            if not same_text(a[3], b[3], rtol, atol):
                diffs.append(f"cell {i}: saved {a[3][:120]!r}, now {b[3][:120]!r}"); break
    return diffs

def execute(path:str) -> dict:
    "Run one notebook (in a fresh process); the outputs of every executed cell, or the error."
    os.environ['IN_TEST'] = '1'
    sys.path.insert(0, str(ROOT))
    from execnb.nbio import read_nb
    from execnb.shell import CaptureShell
    from nbdev.process import extract_directives
    from fastcore.basics import AttrDict
    import traceback
    path = Path(path)
    nb = read_nb(path)
    flags, ran = tst_flags(), set()
    def skip(cell):
        if cell.cell_type != 'code' or 'nbdev_export' + '(' in cell.source: return True
        d = extract_directives(AttrDict(source=cell.source), remove=False)
        if d.get('eval:', [''])[0].lower() == 'false' or flags & d.keys(): return True
        cell.outputs = []
        ran.add(cell.idx_)
        return False
    sh = CaptureShell(path, mpl_format='png')
    t0, cwd = time.time(), os.getcwd()
    os.chdir(path.parent)
    try: sh.run_all(nb, exc_stop=True, preproc=skip); err = None
    except Exception:
        try: err = sh.prettytb(fname=path)
        except Exception: err = traceback.format_exc()
    finally: os.chdir(cwd)
    outs = [keep(c.get('outputs', [])) if c.idx_ in ran else None for c in nb.cells]
    return dict(outputs=json.loads(json.dumps(outs, default=dict)), error=err, seconds=round(time.time() - t0, 1))

def save(path:Path, outputs:list):
    "Write the new outputs into the notebook file (atomically), then nbdev_clean it."
    nb = json.loads(path.read_text(encoding='utf-8'))
    for c, o in zip(nb['cells'], outputs):
        if o is not None and c['cell_type'] == 'code': c['outputs'] = o
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.stem}.', suffix='.ipynb.tmp')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f: json.dump(nb, f, indent=1, ensure_ascii=False); f.write('\n')
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True); raise
    subprocess.run([str(Path(sys.executable).parent / 'nbdev_clean'), '--fname', str(path)], check=True, cwd=ROOT)

def saved_outputs(path:Path) -> list:
    return [c.get('outputs', []) if c['cell_type'] == 'code' else [] for c in json.loads(path.read_text())['cells']]

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks to run (default: every nbs/*.ipynb)')
    ap.add_argument('--check', action='store_true', help='fail when re-executing changes the saved outputs')
    ap.add_argument('--workers', type=int, default=2, help='notebooks run at once (default 2)')
    ap.add_argument('--rtol', type=float, default=0.02); ap.add_argument('--atol', type=float, default=1e-3)
    a = ap.parse_args(argv)
    if a.workers < 1: ap.error(f"--workers {a.workers}: must be at least 1")
    if not 0 <= a.rtol < 1: ap.error(f"--rtol {a.rtol}: must be in [0, 1)")
    if a.atol < 0: ap.error(f"--atol {a.atol}: must be >= 0")
    paths = [Path(p).resolve() for p in a.notebooks] or sorted(NBS.glob('*.ipynb'))
    for p in paths:
        if not p.is_file() or p.suffix != '.ipynb': ap.error(f"{p}: not a notebook file")
    failed = []
    with ProcessPoolExecutor(a.workers, mp_context=get_context('spawn'), max_tasks_per_child=1) as pool:
        for p, r in zip(paths, pool.map(execute, map(str, paths))):
            name = p.relative_to(ROOT) if p.is_relative_to(ROOT) else p
            if r['error']:
                print(f"FAIL {name} ({r['seconds']} s): an exception\n{r['error']}", flush=True); failed.append(name); continue
            new, old = r['outputs'], saved_outputs(p)
            shown = sum(bool(o) for o in new if o is not None) + sum(bool(o) for o, n in zip(old, new) if n is None)
            unstable = sorted({m for o in new if o for s in signature(o) for m in UNSTABLE.findall(s[3])})
            diffs = differences(old, new, a.rtol, a.atol)
            note = f"{shown} cells with outputs, {r['seconds']} s" + (f"; unstable text {unstable[:3]}" if unstable else '')
            if a.check:
                if not shown: diffs.append("no cell shows an output")
                if diffs:
                    print(f"FAIL {name} ({note}): outputs differ from the saved ones\n  " + '\n  '.join(diffs[:5]), flush=True)
                    failed.append(name)
                else: print(f"ok   {name} ({note})", flush=True)
            elif diffs: save(p, new); print(f"saved {name} ({note}; {len(diffs)} cells changed)", flush=True)
            else: print(f"same {name} ({note})", flush=True)
    if failed: sys.exit(f"run_notebooks: {len(failed)} of {len(paths)} notebooks failed: {', '.join(map(str, failed))}")
    print(f"run_notebooks: {len(paths)} notebooks {'reproduce their saved outputs' if a.check else 'executed'}")

if __name__ == '__main__': main()
