"""In-place safety: version counters, the error backward raises, and what every in-place writer bumps."""

import re

import numpy as np
import pytest

import minigan as mg
import minigan.nn as nn
from minigan.autograd.function import InplaceModifiedError

INPLACE_MSG = "modified by an inplace operation"


def _leaf(*shape):
    return mg.tensor(np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape), requires_grad=True)


def test_optimizer_step_before_backward_is_caught():
    """The reported bug: opt_D.step() between D's forward for G's loss and that loss' backward."""
    mg.manual_seed(0)
    G, D = nn.Linear(2, 3), nn.Linear(3, 1)
    opt_D = mg.optim.SGD(D.parameters(), lr=0.1)
    loss_G = D(G(mg.randn(4, 2))).sum()
    loss_D = D(mg.randn(4, 3)).sum()
    loss_D.backward()
    opt_D.step()
    with pytest.raises(InplaceModifiedError, match=INPLACE_MSG) as err:
        loss_G.backward()
    now, saved = map(int, re.search(r"is at version (\d+); expected version (\d+)", str(err.value)).groups())
    assert now == saved + 1 and "of MatMul" in str(err.value) or "of Linear" in str(err.value)


def test_correct_order_still_works_and_matches_a_fresh_graph():
    mg.manual_seed(0)
    D = nn.Linear(3, 1)
    opt = mg.optim.SGD(D.parameters(), lr=0.1)
    x = mg.randn(4, 3, requires_grad=True)
    D(x).sum().backward()
    opt.step()
    x.grad = None
    D(x).sum().backward()  # forward after the step: fine
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(D.weight.detach().numpy(), (4, 3)))


@pytest.mark.parametrize(
    "write",
    [
        lambda t: t.data.fill_(0.5),
        lambda t: t.data.zero_(),
        lambda t: t.data.normal_(0, 1),
        lambda t: t.data.uniform_(-1, 1),
        lambda t: t.data.copy_(np.ones(t.shape)),
        lambda t: t.data.add_(1.0),
        lambda t: t.data.mul_(2.0),
        lambda t: t.data.clamp_(0, 1),
        lambda t: t.data.__setitem__((0, 0), 7.0),
        lambda t: nn.init.normal_(t),
        lambda t: nn.init.zeros_(t),
    ],
    ids=[
        "fill_",
        "zero_",
        "normal_",
        "uniform_",
        "copy_",
        "add_",
        "mul_",
        "clamp_",
        "setitem",
        "init",
        "init0",
    ],
)
def test_every_inplace_writer_invalidates_saved_values(write):
    w = _leaf(2, 3)
    y = (w * w).sum()
    with mg.no_grad():
        write(w)
    with pytest.raises(InplaceModifiedError, match="input 0 of Mul"):
        y.backward()


def test_load_state_dict_and_batchnorm_stats_bump_versions():
    m = nn.Linear(2, 2)
    v = m.weight._version
    m.load_state_dict({k: t.detach().numpy() * 2 for k, t in m.state_dict().items()})
    assert m.weight._version == v + 1
    bn = nn.BatchNorm1d(3)
    before = (bn.running_mean._version, bn.running_var._version, bn.num_batches_tracked._version)
    bn(mg.randn(4, 3))
    after = (bn.running_mean._version, bn.running_var._version, bn.num_batches_tracked._version)
    assert all(a == b + 1 for a, b in zip(after, before))


def test_eval_mode_batchnorm_gradient_is_that_of_its_forward():
    """Eval-mode batch norm computes scale and shift from the running statistics in forward and saves
    only those, so a later statistics update cannot change the gradient of the graph already built."""
    bn = nn.BatchNorm1d(3)
    bn.train()
    bn(mg.randn(5, 3) * 3 + 1)
    bn.eval()
    x = mg.randn(5, 3, requires_grad=True)
    y = (bn(x) ** 2).sum()
    scale = 1 / np.sqrt(bn.running_var.numpy() + bn.eps) * bn.weight.detach().numpy()
    expected = 2 * bn(x).detach().numpy() * scale
    bn.train()
    bn(mg.randn(5, 3))  # updates the statistics in place
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5)


def test_views_share_the_version_counter():
    x = mg.zeros(4, 3)
    for view in (x.view(12), x[1], x.T, x.detach(), x.data, x.unsqueeze(0), x.expand(2, 4, 3)):
        before = x._version
        view._bump_version()
        assert x._version == before + 1
    y = x.clone()
    y.fill_(1.0)
    assert float(x.sum()) == 0.0  # clone has its own storage ...
    assert y._version_counter is not x._version_counter  # ... and its own counter


def test_write_through_a_view_is_caught():
    w = _leaf(2, 3)
    y = (w.exp()).sum()
    with mg.no_grad():
        w.data[0].fill_(0.0)  # a view of w's storage
    with pytest.raises(InplaceModifiedError):
        y.backward()


def test_ops_that_need_no_values_do_not_refuse():
    """add / reshape / sum backward read only shapes: a later write is harmless, as in PyTorch."""
    a, b = _leaf(2, 3), _leaf(2, 3)
    y = (a + b).reshape(6).sum()
    with mg.no_grad():
        a.add_(1.0)
    y.backward()
    assert np.all(a.grad.numpy() == 1.0) and np.all(b.grad.numpy() == 1.0)


def test_overwritten_activation_output_is_recomputed():
    """tanh's backward uses its output; after y.mul_(0) it recomputes from the (unchanged) input."""
    x = mg.tensor([0.3, -0.7], dtype=mg.float64, requires_grad=True)
    y = mg.tanh(x)
    z = y.detach()  # shares y's storage and counter
    (y * 1.0).sum().backward(retain_graph=True)
    g_ref = x.grad.numpy().copy()
    x.grad = None
    h = mg.tanh(x)
    s = h.sum()
    h.data.mul_(0.0)
    s.backward()
    np.testing.assert_allclose(x.grad.numpy(), g_ref)
    assert z.shape == (2,)


def test_leaf_requiring_grad_refuses_inplace_while_recording():
    w = _leaf(3)
    for write in (lambda: w.fill_(0), lambda: w.add_(1), lambda: w.__setitem__(0, 1.0), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            write()
    with mg.no_grad():
        w.fill_(2.0)
    assert w.tolist() == [2.0, 2.0, 2.0]


def test_inplace_on_graph_tensor_is_refused_but_augmented_assignment_works():
    x = _leaf(3)
    y = x * 2
    with pytest.raises(RuntimeError, match="does not differentiate through in-place ops"):
        y.mul_(3)
    y += x  # falls back to y = y + x, gradients stay right
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0]


def test_augmented_assignment_is_inplace_for_plain_tensors():
    a = mg.zeros(3)
    alias = a
    a += 1
    a *= 3
    assert alias is a and alias.tolist() == [3.0, 3.0, 3.0] and a._version == 2


def test_inplace_dtype_rules():
    i = mg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(0.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.div_(2)
    i.add_(2)
    assert i.tolist() == [3, 4, 5] and i.dtype == np.int64
    with pytest.raises(RuntimeError, match=r"shape \(4, 3\) cannot be broadcast to \(2, 3\)"):
        mg.zeros(2, 3).copy_(np.ones((4, 3)))
    with pytest.raises(RuntimeError, match="cannot be written into shape"):
        mg.zeros(2, 3).add_(np.ones((4, 3)))
    with pytest.raises(RuntimeError, match="0-dimension value"):
        mg.zeros(3).fill_(mg.ones(2))


def test_fill_normal_uniform_values_and_seed():
    mg.manual_seed(3)
    a = mg.zeros(1000).normal_(2.0, 0.5)
    mg.manual_seed(3)
    b = mg.zeros(1000).normal_(2.0, 0.5)
    assert np.array_equal(a.numpy(), b.numpy())
    assert abs(a.numpy().mean() - 2.0) < 0.1 and abs(a.numpy().std() - 0.5) < 0.05
    u = mg.zeros(1000).uniform_(-1.0, 3.0)
    assert u.numpy().min() >= -1.0 and u.numpy().max() < 3.0 and u.dtype == np.float32
    with pytest.raises(ValueError, match="std >= 0"):
        mg.zeros(2).normal_(0, -1)
    with pytest.raises(ValueError, match="a <= b"):
        mg.zeros(2).uniform_(1, 0)


def test_data_assignment_replaces_values():
    x = mg.zeros(2, requires_grad=True)
    x.data = mg.ones(3)
    assert x.shape == (3,) and x.requires_grad and x._version == 1


def test_an_op_that_reads_its_output_refuses_a_written_output():
    """A user's op declaring ``saves_outputs = True`` (backward reads its output as saved)."""
    from minigan.autograd import Function

    class Exp(Function):
        saves_outputs = True

        def forward(self, x):
            return np.exp(x)

        def backward(self, gy):
            return gy * self.output_tensors()[0]

    x = mg.tensor([0.5, 1.0], dtype=mg.float64, requires_grad=True)
    y = Exp()(x)
    s = y.sum()
    y.data.mul_(0.0)
    with pytest.raises(InplaceModifiedError, match="output 0 of Exp"):
        s.backward()
