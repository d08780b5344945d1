#!/usr/bin/env python3
"""Write a docker-archive of a 3-layer image of about 50 MB (compressed) for bench/pull.sh: files
mixing random bytes (incompressible, like binaries) and text (compressible), deterministic."""
import hashlib
import io
import json
import random
import sys
import tarfile

out = sys.argv[1]
rng = random.Random(42)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(5000)]


def layer(idx, nfiles, rand_mb, text_mb):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo(f"layer{idx}")
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        t.addfile(d)
        per_rand = rand_mb * 1024 * 1024 // nfiles
        per_text = text_mb * 1024 * 1024 // nfiles
        for i in range(nfiles):
            data = rng.randbytes(per_rand) + b" ".join(rng.choice(words) for _ in range(per_text // 6))[:per_text]
            ti = tarfile.TarInfo(f"layer{idx}/f{i:05d}")
            ti.size, ti.mode = len(data), 0o644
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


layers = [layer(0, 400, 9, 10), layer(1, 200, 12, 8), layer(2, 50, 14, 6)]
diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids},
                     "config": {"Cmd": ["sh"]}}).encode()
cname = hashlib.sha256(config).hexdigest() + ".json"
with tarfile.open(out, "w") as t:
    def add(name, data):
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    for d, l in zip(diff_ids, layers):
        add(d[7:] + "/layer.tar", l)
    add(cname, config)
    add("manifest.json", json.dumps([{"Config": cname, "RepoTags": ["bench/app:1"],
                                      "Layers": [d[7:] + "/layer.tar" for d in diff_ids]}]).encode())
