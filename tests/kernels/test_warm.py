"""``python -m minigan.kernels.warm``: every task is dealt to exactly one job, jobs get about equal
compile cost, a task compiles the signature the library calls, bad arguments get one line."""

import numpy as np
import pytest
from minigan.kernels import warm
from minigan.kernels.cpu import matmul as cpu_matmul


@pytest.mark.parametrize("jobs", [1, 2, 3, 20])
def test_deal_gives_every_task_to_one_job_with_balanced_costs(jobs):
    shares = warm.deal(warm.TASKS, jobs)
    dealt = [t for share in shares for t in share]
    assert sorted(dealt) == sorted(warm.TASKS) and len(dealt) == len(set(dealt))
    assert len(shares) == min(jobs, len(warm.TASKS))
    loads = [sum(warm.cost(t) for t in share) for share in shares]
    assert max(loads) - min(loads) <= max(warm.COST.values())


def test_a_task_compiles_the_signature_the_library_calls():
    warm.run_task("matmul:float64")  # cheap where the cache is warm: it loads what it compiled before
    kinds = {(sig[0].dtype.name, sig[0].ndim, sig[0].layout) for sig in cpu_matmul.matmul_blocked.signatures}
    assert ("float64", 2, "C") in kinds, kinds
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(cpu_matmul.matmul(x, x.T), x @ x.T)


BAD = [
    (["--tasks", "conv-fft:float32"], "unknown task(s) ['conv-fft:float32']"),
    (["--jobs", "0"], "--jobs must be at least 1, got 0"),
]


@pytest.mark.parametrize("argv, message", BAD)
def test_bad_arguments_get_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        warm.main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_list_prints_every_task(capsys):
    assert warm.main(["--list"]) == 0
    assert capsys.readouterr().out.count("\n") == len(warm.TASKS)
