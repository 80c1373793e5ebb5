"""Worker of the 2-rank equivalence tests (``test_equivalence.py``); chapter 16 shows its numbers.

    mpiexec -n P python equivalence_worker.py DATA SYNC STEPS BATCH OUT     P ranks, batch B / P each
    python equivalence_worker.py DATA SYNC STEPS BATCH OUT --shards P       one process, batch B

DATA: ring8 (the toy default: MLPs, non-saturating + R1) or mnist (DCGAN, batch norm in G and D; the real
MNIST test split from MINIGAN_MNIST_DIR). SYNC: 1 converts every BatchNorm to SyncBatchNorm.
Both forms draw the same samples: rank r's shard comes from its own streams
(``minigan.distributed.shard_stream``), and the one-process form concatenates the P shards' draws, so the
batch of B it sees is exactly the union of the P ranks' batches. Writes OUT (.npz): G's and D's parameters
after STEPS steps (rank 0), and ``ranks_equal`` (1 when every rank ended with the same parameters).
"""

from __future__ import annotations

import argparse
import hashlib
import os

import numpy as np

import minigan as mg
from minigan import distributed as dist
from minigan import nn, optim
from minigan.cli.common import known_settings
from minigan.gan import Trainer, registry
from minigan.nn.normalization import _BatchNorm
from minigan.nn.parallel import replicate

SEED = 0


def build(data: str, sync: bool, batch: int):
    spec = registry.get(data)
    model = spec.model(None)
    config = {**known_settings(data, spec), "batch_size": batch}
    if data == "mnist":  # a small DCGAN on the real test split: the test is about equivalence, not quality
        config.update(width=8, split="test", data_dir=os.environ["MINIGAN_MNIST_DIR"])
    mg.manual_seed(SEED)
    samples = spec.make_data(config)
    G, D = model.make_models(config)
    if sync:
        G, D = nn.SyncBatchNorm.convert_sync_batchnorm(G), nn.SyncBatchNorm.convert_sync_batchnorm(D)
    batches = model.batches(samples, config)
    betas = tuple(config["betas"])
    opts = (
        optim.Adam(G.parameters(), lr=config["lr"], betas=betas),
        optim.Adam(D.parameters(), lr=config["lr"], betas=betas),
    )
    return config, model.make_variant(config), G, D, opts, batches


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("sync", type=int)
    ap.add_argument("steps", type=int)
    ap.add_argument("batch", type=int)
    ap.add_argument("out")
    ap.add_argument("--shards", type=int, default=0)
    a = ap.parse_args()
    config, variant, G, D, (opt_G, opt_D), batches = build(a.data, bool(a.sync), a.batch)
    z_dim = config["z_dim"]
    if a.shards:  # one process emulating the P shards' draws
        p = a.shards
        data_rngs = [dist.shard_stream(SEED, dist.seeding.DATA, r, p) for r in range(p)]
        z_gens = [dist.shard_stream(SEED, dist.seeding.DEFAULT, r, p) for r in range(p)]
        sample_real = lambda n: np.concatenate([batches.sample(n // p, g) for g in data_rngs])
        sample_z = lambda n: mg.cat([mg.randn(n // p, z_dim, generator=g) for g in z_gens])
        trainer = Trainer(G, D, opt_G, opt_D, sample_real, z_dim=z_dim, batch_size=a.batch, k=config["k"],
                          variant=variant, sample_z=sample_z)  # fmt: skip
        group = None
    else:
        group = dist.init_process_group("mpi")
        r, p = group.rank, group.world_size
        reducers = [replicate(m, group) for m in (G, D)]
        dist.seed_ranks(SEED, r, p)
        data_rng = dist.shard_stream(SEED, dist.seeding.DATA, r, p)
        trainer = Trainer(G, D, opt_G, opt_D, lambda n: batches.sample(n, data_rng), z_dim=z_dim,
                          batch_size=a.batch // p, k=config["k"], variant=variant, group=group)  # fmt: skip
    for _ in range(a.steps):
        trainer.step()
    params = {
        f"{name}.{k}": v.detach().numpy() for name, m in (("G", G), ("D", D)) for k, v in m.named_parameters()
    }
    digest = hashlib.sha256(
        b"".join(np.ascontiguousarray(v).tobytes() for _, v in sorted(params.items()))
    ).hexdigest()
    digests = group.all_gather_object(digest) if group else [digest]
    if group is None or group.rank == 0:
        equal = int(len(set(digests)) == 1)
        buckets = sum(len(rd.buckets) for rd in reducers) if group else 0
        np.savez(a.out, ranks_equal=equal, buckets=buckets, **params, **outputs(a.data, G, D, batches, z_dim),
                 before_bn=np.array(before_batch_norm(G, "G") + before_batch_norm(D, "D")))  # fmt: skip


def before_batch_norm(m, prefix: str) -> list:
    """Names of the biases that feed a batch norm directly: BN subtracts them again, so their exact
    gradient is 0 and what they get is rounding noise (Adam turns it into full-size steps); the test
    compares the networks' outputs instead of these."""
    names, children = [], list(m.named_children()) if isinstance(m, nn.Sequential) else []
    for (name, layer), (_, after) in zip(children, children[1:]):
        if isinstance(after, _BatchNorm) and getattr(layer, "bias", None) is not None:
            names.append(f"{prefix}.{name}.bias")
    return names


def outputs(data: str, G, D, batches, z_dim: int) -> dict:
    """G(z) and D(x) in training mode (batch statistics) on a fixed batch, computed on this process alone
    by plain copies of the trained networks."""
    _, _, G1, D1, _, _ = build(data, False, 32)
    G1.load_state_dict(G.state_dict())
    D1.load_state_dict(D.state_dict())
    gen = np.random.default_rng(99)
    z = mg.tensor(gen.standard_normal((32, z_dim)).astype(np.float32))
    x = mg.tensor(batches.sample(32, gen))
    with mg.no_grad():
        return {"out.G": G1(z).numpy(), "out.D": D1(x).numpy()}


if __name__ == "__main__":
    main()
