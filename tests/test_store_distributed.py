"""2-process `torchrun` training of 4 cells from one store (gloo on CPU) gives every cell the same weights as 1-process training."""
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
