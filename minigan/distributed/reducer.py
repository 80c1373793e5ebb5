"""The bucketed gradient all-reduce: what keeps data-parallel replicas identical. Chapter 16 (scaling out).

Every rank computes the gradient of the loss on its own shard of the batch. If the loss is a mean over
the batch and the shards are equal, the gradient of the whole batch is the mean of the ranks' gradients,

    g = (1/p) (g_0 + g_1 + ... + g_{p-1}),

so after one all-reduce of the gradients every rank takes the same optimizer step from the same
parameters, and the replicas stay equal without ever exchanging a weight.

One all-reduce per parameter would pay the network's latency once per tensor (a DCGAN has about 20), so
the gradients are packed into a few large flat buffers, *buckets* of at most ``bucket_cap_mb`` megabytes,
reduced one call each. Parameters are assigned to buckets once, in reverse registration order (the last
layers' gradients are the first a backward pass produces, as in PyTorch), grouped by dtype and device;
buckets are reduced strictly in index order, so every rank issues the same calls in the same order.

The trigger is each parameter's post-accumulate-grad hook (``autograd/hooks.py``): when the last
parameter of a bucket has its gradient, the bucket (and any complete buckets after it) is copied into its
buffer (times 1/p, on the way in), summed over ranks, and each ``.grad`` becomes a view of its slice of the
buffer (PyTorch's ``gradient_as_bucket_view``). A fresh gradient (``.grad`` None before the backward, as
after ``zero_grad()``) does not even need the copy in: the engine, which copies every leaf gradient into
storage of its own anyway, copies it (times 1/p) into the parameter's slice of the bucket (the leaf's
gradient sink), so the reduction costs the all-reduce and nothing else. As with PyTorch's bucket views, a
``.grad`` kept from an earlier step is overwritten by the next one.

minigan's engine writes the leaves' gradients at the end of backward, so unlike PyTorch's reducer nothing
overlaps the backward computation: the buckets save latency, not compute time. At the end of the
backward (a queued callback) any bucket left incomplete means some parameter that requires grad got no
gradient on this rank; with
``find_unused_parameters=False`` that is an error naming it (the replicas would otherwise drift apart), with
True its share is zero, and a parameter no rank used keeps ``grad`` None on every rank.

``.grad`` is reduced as accumulated: a second backward before ``zero_grad()`` reduces the running sum
again, which is harmless (the reduced part is already equal on every rank) but wasted; use
``no_sync()`` for gradient accumulation, as with PyTorch.

Cost per backward: ceil(total gradient bytes / bucket bytes) all-reduces; a ring all-reduce moves
2 (p - 1) / p of each buffer through every rank.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..autograd.hooks import queue_callback
from ..autograd.tensor import Tensor
from . import process_group as pg

DEFAULT_BUCKET_MB = 25.0  # PyTorch's bucket_cap_mb


class Bucket:
    """Parameters whose gradients travel together: one flat buffer, reduced in one call."""

    def __init__(self, index: int, params: list, names: list, xp, dtype, with_flags: bool):
        self.index, self.params, self.names, self.xp = index, params, names, xp
        self.sizes = [p.array.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        n = int(self.offsets[-1])
        # with find_unused_parameters one more slot per parameter: 1 where this rank used it
        self.buffer = xp.zeros(n + (len(params) if with_flags else 0), dtype=dtype)
        self.ready: set[int] = set()  # indices of the parameters whose gradient has arrived in this backward
        self.need = len(params)  # how many take part in this backward (set at its first hook)
        self.sunk: set[int] = set()  # those whose gradient the engine wrote into the buffer directly

    @property
    def nbytes(self) -> int:
        return self.buffer.nbytes


class Reducer:
    """Average the gradients of ``params`` (Tensors that require grad) over the ranks of ``group`` after
    every backward; ``names`` label them in messages. See the module docstring."""

    def __init__(self, params, names=None, group=None, bucket_cap_mb: float = DEFAULT_BUCKET_MB,
                 find_unused_parameters: bool = False):  # fmt: skip
        if not bucket_cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be > 0, got {bucket_cap_mb!r}")
        params = list(params)
        names = list(names) if names is not None else [f"parameter {i}" for i in range(len(params))]
        for name, p in zip(names, params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"Reducer: {name} is not a Tensor that requires grad")
        self.group = group or pg.group()
        self.find_unused = find_unused_parameters
        self.enabled = True
        self.buckets = self._assign(params, names, bucket_cap_mb * 2**20)
        self._where = {id(p): (b, i) for b in self.buckets for i, p in enumerate(b.params)}
        self._next = 0  # the bucket to reduce next in this backward
        self._queued = False
        self.calls = 0  # all-reduces issued (for tests and the benchmark)
        self.handles = [p.register_post_accumulate_grad_hook(self._hook) for p in params]
        for p in params:  # a fresh gradient is written straight into its bucket (module docstring)
            p.__dict__["_grad_sink"] = self._sink_for(p)

    def _assign(self, params, names, cap_bytes: float) -> list:
        """Buckets in reverse parameter order, a new one when the dtype / device changes or the cap is hit."""
        buckets, current, current_names, key, size = [], [], [], None, 0
        for name, p in reversed(list(zip(names, params))):
            k = (p.array.dtype, p.device)
            if current and (k != key or size + p.array.nbytes > cap_bytes):
                buckets.append((current, current_names, key))
                current, current_names, size = [], [], 0
            current.append(p)
            current_names.append(name)
            key, size = k, size + p.array.nbytes
        if current:
            buckets.append((current, current_names, key))
        return [
            Bucket(i, ps, ns, ps[0].xp, dtype, self.find_unused)
            for i, (ps, ns, (dtype, _)) in enumerate(buckets)
        ]

    # -- the backward hooks ---------------------------------------------------------------------------
    def _sink_for(self, p: Tensor):
        """Where the engine writes p's fresh gradient g: g / p into p's slice of its bucket (the copy the
        engine makes anyway), so the bucket needs no copy-in; outside a reduction, a plain copy."""
        bucket, i = self._where[id(p)]
        view = bucket.buffer[bucket.offsets[i] : bucket.offsets[i + 1]].reshape(p.shape)

        def sink(g):
            if not self.enabled or self.group.world_size == 1:
                return g.copy()
            bucket.xp.multiply(g, 1.0 / self.group.world_size, out=view)
            bucket.sunk.add(i)
            return view

        return sink

    def _hook(self, p: Tensor) -> None:
        if not self.enabled or self.group.world_size == 1:
            return
        if not self._queued:  # once per backward: check, at its end, that every bucket was reduced
            queue_callback(self._finish)
            self._queued = True
            for b in self.buckets:  # the parameters that take part in this backward (D is frozen in G's)
                b.need = sum(q.requires_grad for q in b.params)
        bucket, i = self._where[id(p)]
        bucket.ready.add(i)
        while (
            self._next < len(self.buckets)
            and len(self.buckets[self._next].ready) >= self.buckets[self._next].need
        ):
            self._reduce(self.buckets[self._next])
            self._next += 1

    def _finish(self) -> None:
        """End of a backward: the buckets not reduced yet hold parameters that got no gradient here."""
        self._queued = False
        try:
            missing = [
                b.names[i]
                for b in self.buckets[self._next :]
                for i, p in enumerate(b.params)
                if p.requires_grad and i not in b.ready
            ]
            if missing and not self.find_unused:
                # every rank must issue the same all-reduces; going on would leave the replicas different
                raise RuntimeError(
                    f"DistributedDataParallel: {len(missing)} parameter(s) that require grad got no gradient "
                    f"in this backward ({', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}): pass "
                    "find_unused_parameters=True, or set requires_grad=False on the parameters a step skips"
                )
            for b in self.buckets[self._next :]:
                self._reduce(b)
        finally:
            self._next = 0
            for b in self.buckets:
                b.ready.clear()
                b.sunk.clear()

    def _reduce(self, b: Bucket) -> None:
        """buffer <- this rank's gradients / p; sum over ranks; .grad <- views of the buffer."""
        buf, off, scale = b.buffer, b.offsets, 1.0 / self.group.world_size
        for i, p in enumerate(b.params):
            used = i in b.ready and p.grad is not None
            if used and i in b.sunk:
                pass  # the engine wrote g / p into the bucket already
            elif used:  # an accumulated gradient: scaled on the way in (for p = 2 the factor 1/2 is exact)
                b.xp.multiply(p.grad.array.reshape(-1), scale, out=buf[off[i] : off[i + 1]])
            else:
                buf[off[i] : off[i + 1]] = 0
            if self.find_unused:
                buf[off[-1] + i] = 1 if used else 0
        self.group.all_reduce(buf, "sum")
        self.calls += 1
        for i, p in enumerate(b.params):
            if self.find_unused and buf[off[-1] + i] == 0:
                continue  # no rank used it: grad stays as it is (None), as in PyTorch
            # the gradient becomes a view of the bucket (PyTorch's gradient_as_bucket_view): no copy back.
            # The next reduction refills the buffer only after backward has written new .grad arrays
            p.grad = Tensor._from_array(buf[off[i] : off[i + 1]].reshape(p.shape))

    # -- control ----------------------------------------------------------------------------------------
    @contextmanager
    def no_sync(self):
        """Inside the block backward() leaves gradients local (accumulate them; the first backward after
        the block reduces the sum)."""
        was, self.enabled = self.enabled, False
        try:
            yield
        finally:
            self.enabled = was

    def remove(self) -> None:
        """Unhook from the parameters."""
        for h in self.handles:
            h.remove()
        self.handles = []
        for b in self.buckets:
            for p in b.params:
                p.__dict__.pop("_grad_sink", None)

    @property
    def bucket_sizes(self) -> list:
        """Bytes of each bucket's buffer, in reduction order."""
        return [b.nbytes for b in self.buckets]
