"""Learning-rate schedulers: lr sequences vs their closed forms, the bookkeeping PyTorch defines (initial_lr,
last_epoch, get_last_lr, _step_count), state_dict round trips through JSON, resuming, errors."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan.nn as nn
from minigan import optim
from minigan.optim import lr_scheduler as S
from minigan.optim.schedule import lr_factor

STEPS = 60


def make_opt(lrs=(0.1, 0.5)):
    return optim.SGD([{"params": [nn.Parameter(np.zeros(1))], "lr": lr} for lr in lrs], lr=1.0)


def sequence(sched, steps=STEPS):
    """The lr of every group at epochs 0 .. steps (an optimizer step before each scheduler step)."""
    out = [sched.get_last_lr()]
    for _ in range(steps):
        sched.optimizer.step()
        sched.step()
        out.append(sched.get_last_lr())
    return np.array(out)


def closed_form(factor, lrs=(0.1, 0.5), steps=STEPS):
    return np.array([[lr * factor(e) for lr in lrs] for e in range(steps + 1)])


gammas = st.floats(0.05, 1.2)


@given(step_size=st.integers(1, 15), gamma=gammas)
def test_step_lr(step_size, gamma):
    got = sequence(S.StepLR(make_opt(), step_size, gamma))
    np.testing.assert_allclose(got, closed_form(lambda e: gamma ** (e // step_size)), rtol=1e-12)


@given(milestones=st.lists(st.integers(0, STEPS + 5), max_size=6), gamma=gammas)
def test_multi_step_lr(milestones, gamma):
    got = sequence(S.MultiStepLR(make_opt(), milestones, gamma))
    passed = lambda e: sum(m <= e for m in milestones)  # a milestone listed twice counts twice
    np.testing.assert_allclose(got, closed_form(lambda e: gamma ** passed(e)), rtol=1e-12)


@given(gamma=st.floats(0.8, 1.05))
def test_exponential_lr(gamma):
    got = sequence(S.ExponentialLR(make_opt(), gamma))
    np.testing.assert_allclose(got, closed_form(lambda e: gamma**e), rtol=1e-12)


@given(start=st.floats(0.01, 1.0), end=st.floats(0.0, 1.0), total=st.integers(1, STEPS + 5))
def test_linear_lr(start, end, total):
    got = sequence(S.LinearLR(make_opt(), start, end, total))
    want = closed_form(lambda e: start + (end - start) * min(e, total) / total)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)


def test_linear_lr_defaults_are_pytorchs():
    sched = S.LinearLR(make_opt([0.3]))
    assert (sched.start_factor, sched.end_factor, sched.total_iters) == (1.0 / 3, 1.0, 5)
    np.testing.assert_allclose(sequence(sched, 7)[:, 0], 0.3 * np.array([5, 7, 9, 11, 13, 15, 15, 15]) / 15)


def test_lambda_lr_one_function_or_one_per_group():
    got = sequence(S.LambdaLR(make_opt(), lambda e: 1.0 / (1 + e)))
    np.testing.assert_array_equal(got, closed_form(lambda e: 1.0 / (1 + e)))
    got = sequence(S.LambdaLR(make_opt(), [lambda e: 0.5**e, lambda e: e + 1.0]), 4)
    np.testing.assert_array_equal(got, [[0.1 * 0.5**e, 0.5 * (e + 1.0)] for e in range(5)])


def test_lambda_lr_reproduces_the_cli_schedule_bit_for_bit():
    lr, decay_steps = 2e-4, 37
    got = sequence(S.LambdaLR(make_opt([lr]), lambda s: lr_factor(s, decay_steps)))[:, 0]
    np.testing.assert_array_equal(got, [lr * lr_factor(s, decay_steps) for s in range(STEPS + 1)])
    got = sequence(S.LinearLR(make_opt([lr]), 1.0, 0.1, decay_steps))[:, 0]
    np.testing.assert_allclose(got, [lr * lr_factor(s, decay_steps) for s in range(STEPS + 1)], rtol=1e-12)


def test_construction_sets_initial_lr_and_takes_the_first_step():
    opt = make_opt()
    sched = S.StepLR(opt, 2, 0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == sched.base_lrs == [0.1, 0.5]
    assert (sched.last_epoch, sched._step_count, sched.get_last_lr()) == (0, 1, [0.1, 0.5])
    assert S.LinearLR(make_opt(), 0.25).get_last_lr() == [0.025, 0.125]  # epoch 0 is already scaled
    assert S.MultiStepLR(make_opt(), [0, 0], 0.5).get_last_lr() == [0.025, 0.125]
    # a second scheduler shares initial_lr (kept, not overwritten by the first one's scaled lr)
    second = S.ExponentialLR(opt, 0.9)
    assert second.base_lrs == [0.1, 0.5]
    # get_last_lr is a copy
    sched.get_last_lr().append(7.0)
    assert sched.get_last_lr() == [0.1, 0.5]
    assert opt.state_dict()["param_groups"][0]["initial_lr"] == 0.1


def test_schedulers_compose_on_one_optimizer():
    opt = make_opt([1.0])
    warmup, decay = S.LinearLR(opt, 0.5, 1.0, 4), S.ExponentialLR(opt, 0.5)
    lrs = []
    for _ in range(6):
        warmup.step()
        decay.step()
        lrs.append(decay.get_last_lr()[0])
    want = [(0.5 + 0.5 * min(e, 4) / 4) * 0.5**e for e in range(1, 7)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda o: S.StepLR(o, 3, 0.5),
        lambda o: S.MultiStepLR(o, [2, 5, 5, 9], 0.3),
        lambda o: S.ExponentialLR(o, 0.9),
        lambda o: S.LinearLR(o, 0.2, 0.9, 8),
        lambda o: S.LambdaLR(o, lambda e: 0.95**e),
    ],
)
def test_state_dict_round_trip_through_json_continues_exactly(make):
    opt = make_opt()
    sched = make(opt)
    first = sequence(sched, 6)
    saved_opt = json.loads(json.dumps(opt.state_dict()))
    saved = json.loads(json.dumps(sched.state_dict()))  # plain numbers, lists and dicts only
    rest = sequence(sched, 10)

    opt2 = make_opt([9.0, 9.0])
    sched2 = make(opt2)  # PyTorch's order: the scheduler first, then both states
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert (
        sched2.last_epoch == 6 and sched2.get_last_lr() == list(first[-1]) and sched2.base_lrs == [0.1, 0.5]
    )
    np.testing.assert_array_equal(sequence(sched2, 10), rest)


def test_state_dict_keys_are_pytorchs():
    keys = ["base_lrs", "last_epoch", "_step_count", "_is_initial", "_get_lr_called_within_step", "_last_lr"]
    assert list(S.StepLR(make_opt(), 2).state_dict()) == ["step_size", "gamma", *keys]
    assert list(S.LambdaLR(make_opt(), lambda e: 1.0).state_dict()) == [*keys, "lr_lambdas"]
    assert S.MultiStepLR(make_opt(), [4, 2, 4]).state_dict()["milestones"] == {4: 2, 2: 1}


def test_lambda_lr_saves_no_functions_but_a_callable_objects_attributes():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, e):
            return min(1.0, (e + 1) / self.n)

    sched = S.LambdaLR(make_opt(), [lambda e: 1.0, Warmup(4)])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"n": 4}]
    other = S.LambdaLR(make_opt(), [lambda e: 1.0, Warmup(99)])
    other.load_state_dict(json.loads(json.dumps(state)))
    assert other.lr_lambdas[1].n == 4


def test_resuming_with_last_epoch():
    with pytest.raises(KeyError, match=r"initial_lr.*param_groups\[0\]"):
        S.StepLR(make_opt(), 3, last_epoch=4)
    opt = make_opt([0.8])
    opt.param_groups[0]["initial_lr"] = 0.8
    sched = S.ExponentialLR(opt, 0.5, last_epoch=4)  # the first step goes to epoch 5
    assert sched.last_epoch == 5 and sched.base_lrs == [0.8]


def test_step_with_epoch_warns_and_uses_the_closed_form():
    sched = S.StepLR(make_opt([1.0]), 3, 0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(7)
    assert sched.last_epoch == 7 and sched.get_last_lr() == [0.25]


def test_get_lr_outside_step_warns():
    sched = S.ExponentialLR(make_opt(), 0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda o: S.StepLR("opt", 2), TypeError, "str is not an Optimizer"),
        (lambda o: S.StepLR(o, 0), ValueError, "step_size=0"),
        (lambda o: S.StepLR(o, 2.5), TypeError, "step_size=2.5"),
        (lambda o: S.StepLR(o, 2, gamma=math.nan), ValueError, "gamma=nan"),
        (lambda o: S.StepLR(o, 2, gamma=-0.5), ValueError, "gamma=-0.5"),
        (lambda o: S.StepLR(o, 2, gamma="0.1"), TypeError, "gamma='0.1'"),
        (lambda o: S.ExponentialLR(o, None), TypeError, "gamma=None"),
        (lambda o: S.ExponentialLR(o, math.inf), ValueError, "gamma=inf"),
        (lambda o: S.MultiStepLR(o, [3, -1]), ValueError, "milestone=-1"),
        (lambda o: S.MultiStepLR(o, 5), TypeError, "milestones=5"),
        (lambda o: S.LinearLR(o, start_factor=0.0), ValueError, "start_factor=0.0"),
        (lambda o: S.LinearLR(o, end_factor=1.5), ValueError, "end_factor=1.5"),
        (lambda o: S.LinearLR(o, total_iters=0), ValueError, "total_iters=0"),
        (lambda o: S.StepLR(o, 2, last_epoch=-2), ValueError, "last_epoch=-2"),
        (lambda o: S.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
        (lambda o: S.LambdaLR(o, 0.5), TypeError, "not callable"),
        (lambda o: S.LambdaLR(o, lambda e: math.nan), ValueError, r"lr_lambda\[0\]\(0\)=nan"),
    ],
)
def test_bad_arguments_raise_one_line_naming_them(make, exc, match):
    with pytest.raises(exc, match=match):
        make(make_opt())


def test_an_lr_that_overflows_is_refused_before_it_is_written():
    sched = S.ExponentialLR(make_opt([1e300, 1.0]), 1e10)
    with pytest.raises(ValueError, match=r"epoch 1: param_groups\[0\]\['lr'\]=inf"):
        sched.step()
    assert sched.optimizer.param_groups[1]["lr"] == 1.0  # no group was changed, no step counted
    assert (sched.last_epoch, sched._step_count) == (0, 1)


def test_load_state_dict_refuses_another_schedulers_state():
    sched = S.StepLR(make_opt(), 2)
    with pytest.raises(ValueError, match=r"missing keys \['step_size'\].*unexpected keys \['total_iters'\]"):
        sched.load_state_dict({**S.ExponentialLR(make_opt(), 0.5).state_dict(), "total_iters": 3})
    state = sched.state_dict()
    with pytest.raises(ValueError, match="gamma=nan"):
        sched.load_state_dict({**state, "gamma": math.nan})
    assert sched.gamma == 0.1  # unchanged after the refusal
    with pytest.raises(ValueError, match="base_lrs has 1 entries"):
        sched.load_state_dict({**state, "base_lrs": [0.1]})
