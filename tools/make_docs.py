"""Build the HTML site of the notebooks: one page per notebook (nbconvert, with its saved outputs) and an index page whose
table of contents follows the reading order (the notebooks' numbers; `index.ipynb` first).

    python tools/make_docs.py [--out _docs] [--force]

The output folder is written as one unit (`writesae.files.atomic_dir`: built beside it, then swapped in), and only a folder this script
wrote before (it holds the marker file `.writesae-docs`) is replaced, with --force. Quarto, nbdev's own docs builder,
cannot be installed from the package registries, so this uses nbconvert.
"""
import argparse, html, json, re, sys, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = '.writesae-docs'

def notebooks(nbs:Path) -> list:
    "index.ipynb, then the numbered notebooks in order of their names."
    found = sorted(p for p in nbs.glob('*.ipynb') if p.name != 'index.ipynb')
    return ([nbs / 'index.ipynb'] if (nbs / 'index.ipynb').exists() else []) + found

def title_and_summary(nb:dict, fallback:str) -> tuple:
    "The first markdown cell's `# title` and `> summary` lines."
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        s = ''.join(c['source'])
        t = re.search(r'^#\s+(.+)$', s, re.M); m = re.search(r'^>\s+(.+)$', s, re.M)
        return (t.group(1).strip() if t else fallback), (m.group(1).strip() if m else '')
    return fallback, ''

def page_name(p:Path) -> str: return p.stem + '.html'

def build(out:Path, force:bool=False) -> Path:
    from nbconvert import HTMLExporter
    sys.path.insert(0, str(ROOT))
    from writesae.files import atomic_dir
    import nbformat
    if out.exists():
        if not (out / MARK).exists(): sys.exit(f"make_docs: --out {out} exists and was not written by make_docs; choose another folder")
        if not force: sys.exit(f"make_docs: --out {out} exists (an earlier docs build); pass --force to replace it")
    nbs = notebooks(ROOT / 'nbs')
    ex = HTMLExporter(template_name='lab')
    n_out = 0
    def write(tmp:Path):
        nonlocal n_out
        rows = []
        for i, p in enumerate(nbs):
            with warnings.catch_warnings():  # nbdev_clean saves notebooks without cell ids; nbformat adds them and warns
                warnings.simplefilter('ignore'); nb = nbformat.read(p, as_version=4)
            title, summary = title_and_summary(nb, p.stem)
            n_out += any(c.get('outputs') for c in nb.cells if c.cell_type == 'code')
            body, _ = ex.from_notebook_node(nb, resources={'metadata': {'name': title}})
            prev = f'<a href="{page_name(nbs[i - 1])}">← {html.escape(nbs[i - 1].stem)}</a>' if i else ''
            nxt = f'<a href="{page_name(nbs[i + 1])}">{html.escape(nbs[i + 1].stem)} →</a>' if i + 1 < len(nbs) else ''
            nav = f'<nav style="font:14px sans-serif;margin:8px 16px"><a href="toc.html">contents</a> · {prev} · {nxt}</nav>'
            body = re.sub(r'(<body[^>]*>)', r'\1' + nav.replace('\\', r'\\'), body, count=1)
            (tmp / page_name(p)).write_text(body, encoding='utf-8')
            rows.append(f'<li><a href="{page_name(p)}"><b>{html.escape(p.stem)}</b>: {html.escape(title)}</a><br>'
                        f'<span style="color:#555">{html.escape(summary)}</span></li>')
        toc = ('<!doctype html><meta charset="utf-8"><title>writesae: notebooks</title>'
               '<body style="font:15px/1.5 sans-serif;max-width:900px;margin:2em auto">'
               '<h1>writesae</h1><p>The notebooks in reading order; each page is the notebook with its saved outputs.</p><ol>'
               + '\n'.join(rows) + '</ol></body>')
        (tmp / 'toc.html').write_text(toc, encoding='utf-8')
        (tmp / MARK).write_text(json.dumps(dict(pages=len(nbs), with_outputs=n_out)))
    atomic_dir(out, write)  # the project's one-unit folder write: built beside, swapped in, nothing left on error
    print(f"docs: {len(nbs)} pages ({n_out} with outputs) in {out}/ (contents: {out}/toc.html)")
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=str(ROOT / '_docs'))
    ap.add_argument('--force', action='store_true')
    a = ap.parse_args()
    build(Path(a.out).resolve(), a.force)
