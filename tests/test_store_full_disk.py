"""`writesae store` into a real, tiny tmpfs that fills up part way: a one-line error naming the folder and ENOSPC, nothing
half-written (no temporaries, the complete shards intact and listed, the manifest consistent), and the same command, rerun once
space is freed, finishes the store with the shards of a capture that never ran out of space. Mounting needs root (CAP_SYS_ADMIN);
where it is not permitted the test is skipped and says why."""
import hashlib, json, math, os, subprocess, sys
from pathlib import Path

import pytest

CMD = [sys.executable, '-c', 'import sys; from writesae.cli import main; sys.exit(main(sys.argv[1:]))', 'store',
       '--model', 'gdn-demo', '--cells', 'all', '--passages', '6', '--seq-len', '64', '--shard-passages', '1',
       '--checkpoint-every', '16', '--batch-size', '1']
ENV = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', OMP_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false')
PAGE = 4096  # tmpfs charges whole pages


def _store(out):
    return subprocess.run(CMD + ['--out', str(out)], env=ENV, capture_output=True, text=True, timeout=600)


def _mount(d, size):
    d.mkdir()
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(d)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs at {d} ({r.stderr.strip() or 'mount failed'}); this test needs root (CAP_SYS_ADMIN)")


def _sha(p): return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def test_full_tmpfs_then_resume(tmp_path):
    ref = _store(tmp_path / 'ref')  # the same capture on a disk with room
    assert ref.returncode == 0, ref.stderr[-2000:]
    man_ref = json.loads((tmp_path / 'ref' / 'manifest.json').read_text())
    shard_pages = math.ceil(max(s['bytes'] for s in man_ref['shards']) / PAGE)
    man_pages = math.ceil((tmp_path / 'ref' / 'manifest.json').stat().st_size / PAGE)
    # room for two shards and the manifest with its temporary (written beside it, then renamed), not for a third shard
    size = (2 * shard_pages + 2 * man_pages + 2) * PAGE
    assert size < 3 * shard_pages * PAGE and len(man_ref['shards']) == 6
    mnt = tmp_path / 'mnt'
    _mount(mnt, size)
    try:
        out = mnt / 'store'
        r = _store(out)
        assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
        assert 'Traceback' not in r.stderr, r.stderr[-3000:]
        errs = [l for l in r.stderr.splitlines() if 'error' in l]  # the rest of stderr is progress bars
        assert len(errs) == 1 and r.stderr.rstrip().endswith(errs[0]), r.stderr[-3000:]  # one line, the last
        msg = errs[0]
        assert msg.startswith('writesae store: error: writing shard 2 to ') and str(out) in msg, msg
        assert 'No space left on device, ENOSPC' in msg and 'the store keeps its 2 complete shards' in msg, msg
        # nothing half-written: the manifest and the two shards it lists, byte-identical to the reference's
        assert sorted(p.name for p in out.iterdir()) == ['manifest.json', 'shard-00000.safetensors', 'shard-00001.safetensors']
        from writesae.store import read_manifest, Store
        man = read_manifest(out)  # a valid manifest (its digest matches)
        assert not man['complete'] and man['shards'] == man_ref['shards'][:2]
        for s in man['shards']: assert _sha(out / s['file']) == s['sha256'] and (out / s['file']).stat().st_size == s['bytes']
        with pytest.raises(ValueError, match=r'is incomplete \(2 of 6 shards\)'): Store(out)
        # free space (grow the tmpfs) and rerun the same command: it continues after shard 1
        subprocess.run(['mount', '-o', 'remount,size=16m', str(mnt)], check=True)
        r = _store(out)
        assert r.returncode == 0, r.stderr[-2000:]
        done = read_manifest(out)
        assert done['complete'] and done['shards'] == man_ref['shards']  # every shard byte-identical (size and SHA-256)
        assert sorted(p.name for p in out.iterdir()) == ['manifest.json'] + [s['file'] for s in man_ref['shards']]
        Store(out).verify()
    finally:
        subprocess.run(['umount', str(mnt)], capture_output=True)
