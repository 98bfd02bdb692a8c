"""Dashboard export and steering-app response on gdn-demo with its shipped dictionary: times and sizes from one run.

    .venv/bin/python benchmarks/dashboard.py [--passages 48] [--seq-len 256] [--erasure 8] [--tokens 32] [--threads N]

SAE: `zoo.load_demo_sae('gdn-demo-sae')` (L3 H0, 1,024 atoms, k 16). The dashboard encodes --passages test-split passages
(`firings.encode_cell`) and exports one card per alive atom, with erasure measured for the --erasure most frequent atoms
(`Dashboard.export`, into a temporary folder); it prints the encode and export times, the number of cards and the folder's
size. The app part builds `widgets.steering_app` and times `button.click()` (a greedy baseline and a steered run of --tokens
tokens, rendered into the HTML widgets) against one plain `host.generate` of the same length: the ratio is the app's
overhead over the two generations it must run (about 2x is the floor).
"""
import argparse, os, statistics, tempfile, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--passages', type=int, default=48); ap.add_argument('--seq-len', type=int, default=256)
    ap.add_argument('--erasure', type=int, default=8); ap.add_argument('--tokens', type=int, default=32)
    ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--threads', type=int, default=0)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from writesae.zoo import load_demo, load_demo_sae, split_stream, eval_windows
    from writesae.hosts import host_for, Cell
    from writesae.firings import encode_cell
    from writesae.dashboard import Dashboard
    from writesae.widgets import steering_app
    model, tok = load_demo('gdn-demo'); host = host_for(model)
    sae, meta = load_demo_sae('gdn-demo-sae'); cell = Cell(*meta['host']['cell'])
    passages = eval_windows(split_stream('test', tok), a.seq_len, a.passages)
    t0 = time.perf_counter(); codes = encode_cell(host, sae, cell, passages, skip_first=8); t_enc = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        res = Dashboard(host, sae, codes, passages, tok).export(Path(d) / 'dash', erasure_top=a.erasure, progress=False)
    print(f"encode {len(codes)} states: {t_enc:.1f} s; export {res['n_cards']} cards (alive atoms of {sae.n_features}, erasure for {a.erasure}): "
          f"{res['seconds']:.1f} s, {res['bytes'] / 1e6:.2f} MB ({res['bytes'] / max(1, res['n_cards']) / 1e3:.1f} kB per card)")
    app = steering_app(host, tok, {cell: (sae, meta)}, eval_windows(split_stream('test', tok), 128, 16))
    app.prompt.value, app.tokens.value, app.scale.value = 'And the king said to', a.tokens, 20.0
    ids = torch.tensor([tok(app.prompt.value)['input_ids']])
    clicks, plain = [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter(); app.button.click(); clicks.append(time.perf_counter() - t0)
        assert app.error.value == '', app.error.value
        t0 = time.perf_counter(); host.generate(ids, a.tokens); plain.append(time.perf_counter() - t0)
    c, p = statistics.median(clicks), statistics.median(plain)
    print(f"app Generate ({a.tokens} tokens, baseline + steered, rendered): {c:.2f} s; one plain generate: {p:.2f} s; ratio {c / p:.2f}x")

if __name__ == '__main__': main()
