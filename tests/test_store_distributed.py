"""2-process `torchrun` training (gloo on CPU) against 1 process: 4 cells split over the ranks give every cell the same weights; one
cell trained by both ranks together (DDP) equals the 1-process run to 1e-5."""
import os, subprocess, sys
from pathlib import Path

import torch
from safetensors.torch import load_file

ENV = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', OMP_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false')
TRAIN = ['train', '--cells', '0,0;0,3;2,1;2,2', '--n-features', '32', '--k', '4', '--steps', '8', '--batch-size', '32',
         '--fraction', '0.5']
SCRIPT = 'import sys; from writesae.cli import main; sys.exit(main(sys.argv[1:]))'


def _store(d):
    from writesae.hosts import tiny_host_model
    from writesae.store import capture_store
    torch.manual_seed(0)
    ids = torch.randint(0, 101, (8, 80))
    return capture_store(d, tiny_host_model('gated_deltanet'), ids, checkpoint_every=32, shard_passages=3, progress=False)


def test_two_processes_equal_one(tmp_path):
    st = _store(tmp_path / 'store')
    script = tmp_path / 'train.py'; script.write_text(SCRIPT)
    args = TRAIN + ['--store', str(st.path)]
    one = subprocess.run([sys.executable, str(script)] + args + ['--out', str(tmp_path / 'one')], env=ENV, capture_output=True, text=True)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(script)]
                         + args + ['--out', str(tmp_path / 'two')], env=ENV, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    assert 'rank 0/2: trained 2 of 4 cells' in two.stdout and 'rank 1/2: trained 2 of 4 cells' in two.stdout, two.stdout
    cells = sorted(p.name for p in (tmp_path / 'one').iterdir())
    assert cells == ['L0_H0', 'L0_H3', 'L2_H1', 'L2_H2'] and cells == sorted(p.name for p in (tmp_path / 'two').iterdir())
    for c in cells:
        a, b = load_file(str(tmp_path / 'one' / c / 'final' / 'model.safetensors')), load_file(str(tmp_path / 'two' / c / 'final' / 'model.safetensors'))
        assert sorted(a) == sorted(b)
        for k in a: assert torch.equal(a[k], b[k]), (c, k)


DDP_SCRIPT = '''
import sys, torch
from writesae.store import Store, StoreBatches, init_distributed
from writesae.sae import WriteSAEConfig, build_sae
from writesae.train import TrainConfig, train_sae
rank, world = init_distributed()
st = Store(sys.argv[1])
d_k, d_v = st.dims((0, 0))
for name, kw, seg, dead in (('topk', {}, None, 3), ('batchtopk', dict(sparsity='batchtopk', n_features=64), None, 2), ('recurrent', {}, 8, 3)):
    torch.manual_seed(0)
    sae = build_sae(WriteSAEConfig(**dict(dict(d_k=d_k, d_v=d_v, n_features=32, k=4), **kw))).double()
    src = StoreBatches(st, (0, 0), batch_size=32, seed=0, segment_len=seg, rank=rank, world=world)
    train_sae(sae, src, config=TrainConfig(steps=12, batch_size=32, log_every=4, lr=3e-3, ddp=True, recurrent=seg is not None,
                                           progress=False, out_dir=f"{sys.argv[2]}/{name}", dead_steps=dead))
# float32, uninterrupted, and stopped after step 5 then resumed: the same weights
for name, stop in (('whole', None), ('resumed', 5), ('resumed', None)):
    torch.manual_seed(0)
    train_sae(WriteSAEConfig(d_k=d_k, d_v=d_v, n_features=32, k=4), StoreBatches(st, (0, 0), batch_size=32, seed=0, rank=rank, world=world),
              config=TrainConfig(steps=12, batch_size=32, log_every=4, lr=3e-3, ddp=True, progress=False, save_every=5, stop_after=stop, dead_steps=3,
                                 out_dir=f"{sys.argv[2]}/{name}"), resume=name == 'resumed' and stop is None)
print(f"RANK {rank}/{world} done", flush=True)
'''


def _rel(a, b): return float((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30))


def test_ddp_one_cell_equals_one_process(tmp_path):
    """DDP over 2 processes, global batch 32 (16 states or 2 segments per rank), equals 1 process with batch 32 to 1e-5 (float64 SAEs);
    dead counters, resampling (dead_steps 2-3) and the BatchTopK threshold agree, and only rank 0 writes."""
    import json
    st = _store(tmp_path / 'store')
    script = tmp_path / 'ddp.py'; script.write_text(DDP_SCRIPT)
    one = subprocess.run([sys.executable, str(script), str(st.path), str(tmp_path / 'one')], env=ENV, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(script), str(st.path),
                          str(tmp_path / 'two')], env=ENV, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    assert 'RANK 0/2 done' in two.stdout and 'RANK 1/2 done' in two.stdout, two.stdout
    for name in ('topk', 'batchtopk', 'recurrent'):
        a, b = (load_file(str(tmp_path / w / name / 'final' / 'model.safetensors')) for w in ('one', 'two'))
        assert sorted(a) == sorted(b)
        for k in a:
            if a[k].is_floating_point(): assert _rel(b[k], a[k]) < 1e-5, (name, k, _rel(b[k], a[k]))
            else: assert torch.equal(a[k], b[k]), (name, k)  # dead counters, BatchTopK threshold updates: identical
        if name == 'batchtopk': assert float(a['threshold']) > 0 and _rel(b['threshold'], a['threshold']) < 1e-5
        ma, mb = ([json.loads(l) for l in open(tmp_path / w / name / 'metrics.jsonl')] for w in ('one', 'two'))
        assert len(ma) == len(mb)  # written once (by rank 0), not once per rank
        la, lb = [r['loss'] for r in ma if 'loss' in r], [r['loss'] for r in mb if 'loss' in r]
        assert len(la) == 3 and all(abs(x - y) <= 1e-5 * abs(x) for x, y in zip(la, lb)), (la, lb)
        assert max(r['dead_fraction'] for r in ma if 'loss' in r) > 0, name  # dead features were counted and resampled
        meta = json.loads((tmp_path / 'two' / name / 'final' / 'config.json').read_text())['meta']
        assert meta['ddp'] == {'world': 2}
    for w in ('one', 'two'):  # a DDP run stopped after step 5 and resumed ends with the uninterrupted run's weights, bit for bit
        a, b = (load_file(str(tmp_path / w / n / 'final' / 'model.safetensors')) for n in ('whole', 'resumed'))
        for k in a: assert torch.equal(a[k], b[k]), (w, k)


def test_cli_ddp(tmp_path):
    "`writesae train --store DIR --cell L,H --ddp` under torchrun equals the 1-process run (float32, to 1e-5)."
    st = _store(tmp_path / 'store')
    script = tmp_path / 'train.py'; script.write_text(SCRIPT)
    args = ['train', '--store', str(st.path), '--cell', '0,0', '--n-features', '32', '--k', '4', '--steps', '8', '--batch-size', '32']
    one = subprocess.run([sys.executable, str(script)] + args + ['--out', str(tmp_path / 'one')], env=ENV, capture_output=True, text=True)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(script)]
                         + args + ['--ddp', '--out', str(tmp_path / 'two')], env=ENV, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    assert 'rank 1/2: trained 1 of 1 cells together (ddp; rank 0 writes)' in two.stdout, two.stdout
    a, b = (load_file(str(tmp_path / w / 'final' / 'model.safetensors')) for w in ('one', 'two'))
    for k in a:
        assert (torch.equal(a[k], b[k]) if not a[k].is_floating_point() else _rel(b[k], a[k]) < 1e-5), (k, _rel(b[k], a[k]))
