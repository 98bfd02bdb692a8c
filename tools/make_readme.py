#!/usr/bin/env python3
"""Write README.md from nbs/index.ipynb (markdown cells verbatim, visible code cells as python blocks, each followed by its saved text output).

nbdev's own `nbdev_readme` renders through Quarto, whose PyPI package downloads its binary at
install time and so cannot be installed on an offline machine; this does the same conversion for
the plain notebook we keep. `--check` exits 1 when README.md differs from what it would write.
"""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def _text(o) -> str:
    "An output as the README shows it: stdout and the plain-text form of a result (images and stderr are left out)."
    if o.get('output_type') == 'stream': return ''.join(o['text']) if o.get('name') == 'stdout' else ''
    t = o.get('data', {}).get('text/plain', '')
    t = ''.join(t) if isinstance(t, list) else t
    return t + '\n' if t and 'image/png' not in o.get('data', {}) else ''

def render(nb_path):
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip('\n')
        if not src: continue
        if c['cell_type'] == 'markdown': parts.append(src)
        elif c['cell_type'] == 'code':
            lines = src.split('\n')
            if any(l.replace(' ', '') == '#|hide' for l in lines): continue
            lines = [l for l in lines if not l.lstrip().startswith('#|')]
            if lines: parts.append('```python\n' + '\n'.join(lines) + '\n```')
            shown = ''.join(_text(o) for o in c.get('outputs', []))
            if lines and shown.strip(): parts.append('```\n' + shown.rstrip('\n') + '\n```')
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text = render(root / 'nbs' / 'index.ipynb')
    readme = root / 'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text(encoding='utf-8') != text:
            print('README.md is out of date with nbs/index.ipynb: run `make readme` and commit'); sys.exit(1)
    else:
        tmp = readme.with_name('.README.md.tmp')  # a reader never sees half a README: written beside it, then renamed over it
        tmp.write_text(text, encoding='utf-8'); tmp.replace(readme); print('wrote README.md')
