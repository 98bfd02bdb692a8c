"""`writesae store` killed with SIGKILL at random points and rerun gives the tensors of an uninterrupted capture, with no
temporaries left; this needs real processes, so it lives here rather than in nbs/09_store.ipynb."""
import os, random, signal, subprocess, sys, time
from pathlib import Path

import torch
from safetensors.torch import load_file

CMD = [sys.executable, '-c', 'import sys; from writesae.cli import main; sys.exit(main(sys.argv[1:]))', 'store',
       '--model', 'gdn-demo', '--cells', 'all', '--passages', '12', '--seq-len', '64', '--shard-passages', '1',
       '--checkpoint-every', '16', '--batch-size', '1']
ENV = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', OMP_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false')


def _run(out, kill_after=None):
    "Run the capture; with `kill_after`, SIGKILL it after that many seconds. Returns the exit status."
    p = subprocess.Popen(CMD + ['--out', str(out)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    if kill_after is None:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()[-2000:]
        return 0
    try:
        p.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    p.stdout.close(); p.stderr.close()
    return p.returncode


def _tensors(d):
    return {f.name: load_file(str(f)) for f in sorted(Path(d).glob('shard-*.safetensors'))}


def test_kill_and_rerun(tmp_path):
    t0 = time.time()
    _run(tmp_path / 'full')
    full_s = time.time() - t0
    rng = random.Random(int(os.environ.get('WRITESAE_KILL_SEED', '0')) or None)
    out, killed = tmp_path / 'killed', 0
    for _ in range(2):  # two kills at random moments (start-up, mid-shard, mid-write, between shards ...)
        if _run(out, kill_after=rng.uniform(0.3, full_s)) == -signal.SIGKILL: killed += 1
    _run(out)  # the same command continues and finishes
    a, b = _tensors(out), _tensors(tmp_path / 'full')
    assert sorted(a) == sorted(b) and len(a) == 12
    for name in a:
        assert sorted(a[name]) == sorted(b[name])
        for k in a[name]: assert torch.equal(a[name][k], b[name][k]), (name, k)
    from writesae.store import read_manifest
    assert read_manifest(out) == read_manifest(tmp_path / 'full')
    left = sorted(p.name for p in out.iterdir())
    assert left == ['manifest.json'] + sorted(b), left  # no temporaries
    assert killed >= 1 or full_s < 1, "no run was killed: the capture finished before the kill"
