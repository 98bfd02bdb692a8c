"""Win rate of the replacement test under our protocol and under the released code's, on the demo hosts.

    .venv/bin/python benchmarks/presets.py [--model gdn-demo] [--layer L --head 0] [--train-passages 192] [--final-windows 512]
                                           [--stride 256] [--eval-passages 48] [--seq-len 256] [--n-features 1024] [--k 16]
                                           [--steps 600] [--json out.json]

Two SAEs of one cell, same architecture and steps: 'ours' trained on every position's state (positions >= 8) of
--train-passages validation-split passages; 'final' trained on the final state of --final-windows windows of --seq-len tokens
of the validation-split token stream, starting every --stride tokens (each window run from an empty state). Then, on the same
--eval-passages test-split passages:
  1. the 'ours' SAE on one shared set of firings under each switch of `writesae.protocols.PROTOCOL_SWITCHES`
     (ours -> the released arms one at a time, and all four), so the protocol is isolated from the training data;
  2. the 'ours' SAE under the full 'paper_code' preset (register pool);
  3. the 'final' SAE under 'paper_code' (the released protocol end to end) and under 'ours'.
Prints the markdown tables and the seconds; --json writes the summaries (no records).
"""
import argparse, json, os, time, warnings
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default='gdn-demo')
    ap.add_argument('--layer', type=int, default=None, help='default: 3 for gdn-demo, else the middle recurrent layer')
    ap.add_argument('--head', type=int, default=0)
    ap.add_argument('--train-passages', type=int, default=192)
    ap.add_argument('--final-windows', type=int, default=512)
    ap.add_argument('--stride', type=int, default=256)
    ap.add_argument('--eval-passages', type=int, default=48)
    ap.add_argument('--seq-len', type=int, default=256)
    ap.add_argument('--n-features', type=int, default=1024)
    ap.add_argument('--k', type=int, default=16)
    ap.add_argument('--steps', type=int, default=600)
    ap.add_argument('--resamples', type=int, default=1000)
    ap.add_argument('--json', default=None)
    a = ap.parse_args()
    from writesae.zoo import load_demo, split_stream
    from writesae.hosts import host_for, Cell
    from writesae.store import store_passages
    from writesae.demo import collect_states
    from writesae.sae import WriteSAEConfig
    from writesae.train import TrainConfig, train_sae
    from writesae.evaluate import EvalConfig
    from writesae import protocols as P
    warnings.filterwarnings('ignore')
    t0 = time.time(); sec = {}
    model, tok = load_demo(a.model); ad = host_for(model)
    layer = a.layer if a.layer is not None else (3 if a.model == 'gdn-demo' else ad.layers[len(ad.layers) // 2])
    cell = ad.check_cell(Cell(layer, a.head)); d_k, d_v = ad.dims(cell)
    train_p = store_passages(tok, 'validation', a.train_passages, a.seq_len)
    eval_p = store_passages(tok, 'test', a.eval_passages, a.seq_len)
    win, starts = P.stream_windows(split_stream('validation', tok), a.seq_len, a.stride, a.final_windows)
    scfg = WriteSAEConfig(d_k=d_k, d_v=d_v, n_features=a.n_features, k=a.k, seed=0)
    tc = TrainConfig(lr=1e-3, lr_min=1e-4, batch_size=256, steps=a.steps, seed=0, progress=False)
    base = dict(skip_first=8, n_resamples=a.resamples, n_permutations=a.resamples)
    S, pid, _ = collect_states(ad, train_p, cell, skip_first=8, progress=False)
    ours_sae = train_sae(scfg, S, pid, config=tc).sae.eval(); n_ours = len(S); del S
    sec['ours_sae'] = round(time.time() - t0, 1); print(f'ours SAE on {n_ours} per-position states: {sec["ours_sae"]} s', flush=True)
    t1 = time.time()
    sw = P.compare_settings(ad, ours_sae, cell, eval_p, base=base)
    sec['switches'] = round(time.time() - t1, 1); print(f'switches: {sec["switches"]} s', flush=True)
    res = {f'ours SAE, {k}': v for k, v in sw.items()}
    t1 = time.time()
    try: res['ours SAE, paper_code preset'] = P.replacement_only(ad, ours_sae, cell, eval_p, EvalConfig.preset('paper_code', **base))
    except ValueError as e: print('ours SAE, paper_code preset: not run:', e)
    t1b = time.time()
    pe = P.paper_code_evaluation(ad, cell, win, eval_p, scfg, tc, EvalConfig.preset('paper_code', **base), groups=starts // a.seq_len, full=False)
    sec['final_sae_and_paper_code'] = round(time.time() - t1b, 1); print(f'final SAE + paper_code: {sec["final_sae_and_paper_code"]} s', flush=True)
    res['final SAE, paper_code preset'] = pe
    ro = P.replacement_only(ad, pe['trained_sae'], cell, eval_p, EvalConfig.preset('ours', **base)); ro['train_positions'] = pe['train_positions']
    res['final SAE, ours preset'] = ro
    sec['total'] = round(time.time() - t0, 1)
    print(f"\n{a.model} layer {cell.layer} head {cell.head}: SAE {a.n_features} atoms, k {a.k}, {a.steps} steps; ours SAE on {n_ours} states "
          f"({a.train_passages} passages x positions >= 8); final SAE on {len(win)} final states (windows of {a.seq_len}, stride {a.stride}); "
          f"{a.eval_passages} test passages of {a.seq_len}.\n")
    print(P.presets_table_markdown(res))
    print('\nalive / registers:', {k: (v['n_alive'], v['n_registers']) for k, v in res.items()})
    print('seconds:', sec)
    if a.json:
        out = {k: dict(config=v['config'], n_alive=v['n_alive'], n_registers=v['n_registers'], train_positions=v.get('train_positions'),
                       summary={x: y for x, y in v['replacement']['summary']['pooled'].items() if x != 'failure_by_quartile'}) for k, v in res.items()}
        with open(a.json, 'w') as f: json.dump(dict(model=a.model, cell=[cell.layer, cell.head], args=vars(a), seconds=sec, results=out), f, indent=1, default=str)

if __name__ == '__main__': main()
