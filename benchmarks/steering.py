"""Cached generation with per-step feature steering vs plain cached generation on gdn-demo: time ratio from one run.

    .venv/bin/python benchmarks/steering.py [--tokens 64] [--prompt-len 32] [--batch 1] [--repeats 3] [--sae PATH] [--threads N]

Host: `writesae.zoo.load_demo('gdn-demo')`, cell = middle recurrent layer, head 0. SAE: the checkpoint at --sae, or a
WriteSAE (1024 atoms, k 16) with random weights: the cost of encoding a state does not depend on training. Steering:
`SteerFeatures(sae, 3 features, 'add', 5.0)` at every generated step (the state is encoded, three codes are pushed and
the atoms' difference is added, each step). Both arms run `HostAdapter.generate` greedily for exactly --tokens tokens;
each arm is timed --repeats times, interleaved, and the medians are compared (target: steered <= 1.5x plain).
"""
import argparse, os, statistics, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--tokens', type=int, default=64); ap.add_argument('--prompt-len', type=int, default=32)
    ap.add_argument('--batch', type=int, default=1); ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--sae', default=None); ap.add_argument('--threads', type=int, default=0)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from writesae.hosts import host_for, Cell
    from writesae.zoo import load_demo, split_stream, eval_windows
    from writesae.sae import build_sae, WriteSAEConfig, load_sae
    from writesae.interventions import Intervention, SteerFeatures, GENERATED
    model, tok = load_demo('gdn-demo')
    host = host_for(model)
    cell = Cell(host.layers[len(host.layers) // 2], 0)
    d_k, d_v = host.dims(cell)
    sae = (load_sae(a.sae) if a.sae else build_sae(WriteSAEConfig(d_k=d_k, d_v=d_v, n_features=1024, k=16, seed=0))).eval()
    ids = eval_windows(split_stream('test', tok), a.prompt_len, a.batch)
    iv = [Intervention(cell, SteerFeatures(sae, [1, 2, 3], 'add', 5.0), GENERATED)]
    host.generate(ids, 4); host.generate(ids, 4, interventions=iv)  # warm-up
    plain, steered = [], []
    for _ in range(a.repeats):
        t = time.perf_counter(); host.generate(ids, a.tokens); plain.append(time.perf_counter() - t)
        t = time.perf_counter(); out = host.generate(ids, a.tokens, interventions=iv); steered.append(time.perf_counter() - t)
    p, s = statistics.median(plain), statistics.median(steered)
    print(f"gdn-demo L{cell.layer} H{cell.head}, batch {a.batch}, prompt {a.prompt_len}, {a.tokens} tokens, {torch.get_num_threads()} threads, {a.repeats} repeats")
    print(f"plain cached generation   : {p:.3f} s (median; runs {', '.join(f'{x:.3f}' for x in plain)})")
    print(f"per-step feature steering : {s:.3f} s (median; runs {', '.join(f'{x:.3f}' for x in steered)})")
    print(f"ratio steered / plain     : {s / p:.2f}x (target <= 1.5x)")

if __name__ == '__main__': main()
