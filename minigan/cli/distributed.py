"""``minigan train --distributed`` and ``--nproc N``: one training run over several processes. Chapter 16.

    mpiexec -n 2 minigan train --data mnist --distributed      # 2 ranks, batch B / 2 each
    minigan train --data mnist --nproc 2                       # the same; minigan starts mpiexec

What changes against one process (``Ranks``):

* ``--batch-size B`` is the batch of the whole run: each of the p ranks trains on B / p samples (B must be
  a multiple of p), so a run's hyper-parameters mean the same at every world size;
* the models are made from the seed on every rank and rank 0's copy is broadcast; G's and D's gradients
  are averaged in buckets after every backward (``minigan.distributed.Reducer``); batch norm becomes
  SyncBatchNorm unless ``--set sync_bn=false``; each move's record is averaged over the ranks;
* each rank draws its shard's images and noise from streams of its own (``distributed/seeding.py``), so
  the run's world size is part of its configuration (``world_size`` in config.json), and ``--resume`` must
  use the same one;
* rank 0 alone writes the run directory (lock, config, metrics, pictures, checkpoints, evaluation), with the
  same atomic writes as a one-process run; a checkpoint holds every rank's random streams (gathered to rank
  0), so a resumed run continues bit-identically;
* a rank that dies stops the others within a second, with a line naming it: a rank that meets an error
  of its own prints it and aborts the job (MPI_Abort); one killed by a signal is named by ``--nproc`` from
  the launcher's report (``distributed/launch.py`` says why both are needed).

The handshake: rank 0 resolves the configuration (flags, or config.json on --resume), locks the run
directory and reads the checkpoint, then broadcasts either (config, checkpoint) or the exit code of the
error it met; the other ranks wait for that message, so every usage error is reported once, by rank 0, and
every rank exits with its code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from ..distributed import DistributedError, launched_by_mpi, process_group
from ..distributed.launch import RANK_DIR, THREAD_VARS, DeathReport, register_rank
from .common import CLIError

NOT_LAUNCHED = (
    "--distributed: this process was not started by an MPI launcher; run it as "
    "`mpiexec -n N minigan train ... --distributed`, or let minigan start the ranks: "
    "`minigan train ... --nproc N`"
)


def add_flags(p) -> None:
    p.add_argument(
        "--distributed", action="store_true",
        help="data-parallel training, one rank per process of an MPI launch (mpiexec -n N ...; chapter 16)",
    )  # fmt: skip
    p.add_argument(
        "--nproc", type=int, default=None, metavar="N",
        help="start N ranks with mpiexec and train with --distributed (needs the mpi extra)",
    )  # fmt: skip


class Ranks:
    """Who this process is in the run: ``rank`` of ``world`` (1 and no ``group`` without --distributed)."""

    def __init__(self, group=None):
        self.group = group
        self.rank = group.rank if group else 0
        self.world = group.world_size if group else 1
        self.training = False  # past the handshake: an error of one rank must now end them all
        self._sent = False

    @property
    def writer(self) -> bool:
        """Whether this process writes the run directory (rank 0 only)."""
        return self.rank == 0

    @classmethod
    def start(cls, args) -> Ranks:
        if not args.distributed:
            return cls()
        try:
            process_group.import_mpi()
        except DistributedError as err:
            raise CLIError(str(err), 2) from None
        if not launched_by_mpi():
            raise CLIError(NOT_LAUNCHED, 2)
        backend = "nccl" if str(args.device or "cpu").startswith("cuda") else "mpi"
        try:
            ranks = cls(process_group.init_process_group(backend))
        except Exception as err:  # a broken MPI / NCCL install: one line
            raise CLIError(f"--distributed: cannot start the {backend} process group: {err}") from None
        register_rank(ranks.rank)  # for --nproc's report of a rank that dies
        ranks._meet()
        return ranks

    def _meet(self) -> None:
        """Every rank's (host, pid), once: the ranks on one machine share its cores (at most cores /
        ranks-here threads each), and under a plain mpiexec rank 0 prints the pids, so that a launcher's
        report of a pid names a rank."""
        import socket

        me = (socket.gethostname(), os.getpid())
        everyone = self.group.all_gather_object(me)
        if self.rank == 0 and self.world > 1 and not os.environ.get(RANK_DIR):
            table = ", ".join(f"rank {r} pid {pid}" for r, (_, pid) in enumerate(everyone))
            print(f"minigan: {self.world} ranks: {table}", file=sys.stderr, flush=True)
        here = sum(host == me[0] for host, _ in everyone)
        n = max(1, (os.cpu_count() or 1) // here)
        try:
            import numba
            from threadpoolctl import threadpool_limits

            numba.set_num_threads(min(n, numba.get_num_threads()))
            threadpool_limits(n)
        except (ImportError, ValueError):
            pass

    # -- the handshake (module docstring) ---------------------------------------------------------------
    def send(self, message) -> None:
        """Rank 0: give the other ranks what they wait for (once)."""
        if self.group is not None and not self._sent:
            self._sent = True
            self.group.broadcast_object(message)
            self.training = message[0] == "train"

    def fail(self, code: int) -> None:
        """Rank 0 met an error before training: the other ranks exit with ``code``."""
        self.send(("error", code))

    def receive(self):
        message = self.group.broadcast_object(None)
        self.training = message[0] == "train"
        return message

    # -- what every rank must agree on ------------------------------------------------------------------
    def check_config(self, config: dict, resume: bool) -> None:
        saved = config.get("world_size", 1)
        if resume and saved != self.world:
            how = f"mpiexec -n {saved} ... --distributed, or --nproc {saved}" if saved > 1 else "1 process"
            raise CLIError(
                f"cannot resume: the run was trained on {saved} rank(s), this launch has {self.world}; each "
                f"rank's random streams belong to that world size (run it as {how})",
                2,
            )
        if config["batch_size"] % self.world:
            raise CLIError(
                f"--batch-size {config['batch_size']} is not a multiple of the {self.world} ranks: each rank "
                "trains on batch-size / ranks samples",
                2,
            )

    def gather(self, obj) -> list:
        """Every rank's ``obj``, in rank order, on every rank (one process: [obj])."""
        return self.group.all_gather_object(obj) if self.group else [obj]

    def stop(self, err: CLIError) -> None:
        """An error on this rank during training: every rank hit it (a NaN; they all stop by themselves),
        or only this one, which then prints it and ends the whole job (the others are inside a collective
        that would never finish, and finalising MPI would wait for them)."""
        if self.group is None or not self.training or err.every_rank:
            return
        print(f"minigan: error: {err.line()}; stopping every rank", file=sys.stderr, flush=True)
        self.group.abort(err.code or 1)


def launch(args) -> int:
    """``--nproc N``: run this same command as N ranks under mpiexec; returns mpiexec's exit status."""
    from ..distributed.launch import launch_command

    if args.nproc < 1:
        raise CLIError(f"--nproc must be >= 1, got {args.nproc}", 2)
    if args.distributed:
        raise CLIError("--nproc starts the ranks itself: give --nproc or --distributed, not both", 2)
    try:
        process_group.import_mpi()
        argv = _without_nproc(args.argv) + ["--distributed"]
        cmd = launch_command(args.nproc, argv)
    except DistributedError as err:
        raise CLIError(str(err), 2) from None
    env = dict(os.environ)
    threads = str(max(1, (os.cpu_count() or 1) // args.nproc))
    for var in THREAD_VARS:
        env.setdefault(var, threads)
    with tempfile.TemporaryDirectory(prefix="minigan-ranks-") as folder:
        env[RANK_DIR] = folder
        report = DeathReport(folder)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True, bufsize=1)
        try:
            for line in proc.stdout:  # passed through, and read for the launcher's report of a dead rank
                sys.stdout.write(line)
                sys.stdout.flush()
                report.feed(line)
            code = proc.wait()
        except KeyboardInterrupt:
            proc.wait()
            return 130
        dead = report.message()
    if code != 0 and dead is not None:
        raise CLIError(f"{dead}; {_checkpoint_note(args)}", code)
    return code


def _checkpoint_note(args) -> str:
    """What the run directory holds after a rank died: its last checkpoint, or none."""
    from .. import io

    out = args.out or os.path.join("runs", args.data or "ring8")
    path = os.path.join(out, "checkpoint.npz")
    if not os.path.exists(path):
        return f"{out} has no checkpoint yet (the same command starts afresh)"
    try:
        step = io.load_checkpoint(path)["step"]
    except Exception as err:  # noqa: BLE001 - a report, not a reader: say what was found
        return f"its checkpoint {path} could not be read ({err})"
    return f"the last checkpoint ({path}, step {step}) is kept: continue with --resume --nproc {args.nproc}"


def _without_nproc(argv: list[str]) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            out.append(a)
    return out
