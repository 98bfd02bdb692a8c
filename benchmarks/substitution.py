"""Firings per second of the replacement test: fast engine (cached batched replays) vs reference (whole-passage forwards).

    .venv/bin/python benchmarks/substitution.py [--seq-len 512] [--passages 2] [--firings 128] [--ref-firings 8]
                                                [--layer 3 --head 0] [--sae PATH] [--threads N]

Host: the demo GDN model (`writesae.zoo.load_demo('gdn-demo')`); if it is absent, a tiny random host with a warning.
SAE: the checkpoint at --sae, or a small WriteSAE trained here on states of training-split windows of the cell.
Firings: `find_firings` on validation windows of --seq-len tokens, capped at --firings per passage. The fast engine runs all
of them; the reference engine costs the same per firing wherever it is, so it runs the first --ref-firings of each passage
(plus its one baseline forward per passage). Both rates are firings / second, measured in this one run; the KLs of the
shared firings are compared too.
"""
import argparse, os, sys, time, warnings
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seq-len', type=int, default=512)
    ap.add_argument('--passages', type=int, default=2)
    ap.add_argument('--firings', type=int, default=128, help='firings per passage for the fast engine')
    ap.add_argument('--ref-firings', type=int, default=8, help='firings per passage for the reference engine')
    ap.add_argument('--layer', type=int, default=3)
    ap.add_argument('--head', type=int, default=0)
    ap.add_argument('--sae', default=None, help='SAE checkpoint directory (default: train one here)')
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: leave as is)')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from writesae.hosts import host_for, tiny_host_model, Cell
    from writesae.sae import build_sae, WriteSAEConfig, load_sae
    from writesae.substitution import find_firings, replacement_records
    torch.manual_seed(0)
    try:
        from writesae.zoo import load_demo, split_stream, eval_windows
        model, tok = load_demo('gdn-demo')
        train_ids = eval_windows(split_stream('train', tok), a.seq_len, max_windows=16)
        held = eval_windows(split_stream('validation', tok), a.seq_len, max_windows=a.passages)
        host = 'gdn-demo'
    except (FileNotFoundError, ImportError, OSError) as e:
        warnings.warn(f"demo GDN model unavailable ({e}); falling back to a tiny random host: ratios are not representative")
        model = tiny_host_model('gated_deltanet', seed=0, gain=1.0)
        train_ids = torch.randint(0, model.config.vocab_size, (16, a.seq_len))
        held = torch.randint(0, model.config.vocab_size, (a.passages, a.seq_len))
        host, a.layer = 'tiny random GDN', 2
    ad = host_for(model)
    cell = ad.check_cell(Cell(a.layer, a.head))
    d_k, d_v = ad.dims(cell)
    if a.sae: sae = load_sae(a.sae)
    else:
        from writesae.demo import collect_states
        from writesae.train import train_sae, TrainConfig
        X, pid, _ = collect_states(ad, train_ids, cell, skip_first=8, every=4, progress=False)
        sae = train_sae(WriteSAEConfig(d_k=d_k, d_v=d_v, n_features=256, k=8), X, passage_ids=pid,
                        config=TrainConfig(steps=200, batch_size=256, progress=False)).sae
    sae.eval()
    print(f"host {host}, cell L{cell.layer} H{cell.head} ({d_k}x{d_v}), {held.shape[0]} passages of {held.shape[1]} tokens, "
          f"SAE n_f={sae.n_features}, torch threads {torch.get_num_threads()}")
    fir = find_firings(ad, sae, cell, held, max_per_passage=a.firings, seed=0)
    ref_fir = [f for p in range(held.shape[0]) for f in [g for g in fir if g['passage'] == p][:a.ref_firings]]
    replacement_records(ad, sae, cell, held[:1], firings=[f for f in fir if f['passage'] == 0][:2], engine='fast')  # warm-up
    t = time.perf_counter(); fast = replacement_records(ad, sae, cell, held, firings=fir, engine='fast'); t_fast = time.perf_counter() - t
    t = time.perf_counter(); ref = replacement_records(ad, sae, cell, held, firings=ref_fir, engine='reference'); t_ref = time.perf_counter() - t
    by = {(r['passage'], r['position']): r for r in fast}
    err = max(abs(by[(r['passage'], r['position'])][k] - r[k]) for r in ref for k in r if k.startswith('kl_') and k != 'kl_direction')
    r_fast, r_ref = len(fast) / t_fast, len(ref) / t_ref
    print(f"fast:      {len(fast):4d} firings in {t_fast:7.2f} s = {r_fast:8.1f} firings/s")
    print(f"reference: {len(ref):4d} firings in {t_ref:7.2f} s = {r_ref:8.1f} firings/s")
    print(f"max |KL fast - KL reference| over shared firings: {err:.2e}")
    print(f"ratio fast/reference: {r_fast / r_ref:.1f}x")

if __name__ == '__main__': main()
