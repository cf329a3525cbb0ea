"""nnlib against PyTorch in float64: same weights give the same numbers."""

import numpy as np
import pytest

from nnlib import MLP, optim

torch = pytest.importorskip("torch")
TOL = 1e-10


def torch_mlp(model):
    """A torch.nn.Sequential holding copies of an nnlib MLP's weights (float64)."""
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[model.activation]
    mods = []
    for i in range(1, model.num_layers + 1):
        lin = torch.nn.Linear(model.sizes[i - 1], model.sizes[i], bias=model.bias, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(model.params[f"W{i}"].T.copy()))  # torch stores (out, in)
            if model.bias:
                lin.bias.copy_(torch.from_numpy(model.params[f"b{i}"]))
        mods += [lin, act()]
    return torch.nn.Sequential(*mods[:-1])


def torch_grads(net):
    grads = {}
    for i, lin in enumerate((m for m in net if isinstance(m, torch.nn.Linear)), start=1):
        grads[f"W{i}"] = lin.weight.grad.numpy().T
        if lin.bias is not None:
            grads[f"b{i}"] = lin.bias.grad.numpy()
    return grads


@pytest.fixture
def batch():
    rng = np.random.default_rng(7)
    return rng.standard_normal((16, 20)), rng.integers(0, 5, size=16)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_logits_loss_and_gradients_match(activation, batch):
    X, y = batch
    model = MLP((20, 12, 8, 5), activation=activation, seed=3, dtype=np.float64)
    net = torch_mlp(model)
    logits_t = net(torch.from_numpy(X))
    loss_t = torch.nn.functional.cross_entropy(logits_t, torch.from_numpy(y))
    loss_t.backward()
    loss, grads = model.loss(X, y)
    assert np.max(np.abs(model.forward(X) - logits_t.detach().numpy())) <= TOL
    assert abs(loss - loss_t.item()) <= TOL
    for name, g in torch_grads(net).items():
        assert np.max(np.abs(grads[name] - g)) <= TOL, name


def test_bce_matches_torch(batch):
    X, _ = batch
    y = (X[:, :1] > 0).astype(np.float64)
    model = MLP((20, 6, 1), activation="tanh", loss="bce", seed=5, dtype=np.float64)
    net = torch_mlp(model)
    loss_t = torch.nn.functional.binary_cross_entropy_with_logits(net(torch.from_numpy(X)), torch.from_numpy(y))
    loss_t.backward()
    loss, grads = model.loss(X, y)
    assert abs(loss - loss_t.item()) <= TOL
    for name, g in torch_grads(net).items():
        assert np.max(np.abs(grads[name] - g)) <= TOL, name


OPTIMIZERS = [
    ("sgd", {}, lambda p: torch.optim.SGD(p, lr=0.1)),
    ("momentum", {"momentum": 0.9}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ("adam", {}, lambda p: torch.optim.Adam(p, lr=0.01)),
]


@pytest.mark.parametrize("name,kwargs,make_torch", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_trajectories_match_over_20_steps(name, kwargs, make_torch, batch):
    X, y = batch
    model = MLP((20, 10, 5), activation="tanh", seed=11, dtype=np.float64)
    net = torch_mlp(model)
    lr = 0.01 if name == "adam" else 0.1
    opt = optim.make_optimizer(name, model.params, lr=lr, **kwargs)
    topt = make_torch(net.parameters())
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    start = model.params["W1"].copy()
    for step in range(20):
        _, grads = model.loss(X, y)
        opt.step(grads)
        topt.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt), yt).backward()
        topt.step()
    assert np.max(np.abs(model.params["W1"] - start)) > 1e-3, "parameters barely moved: the comparison would be meaningless"
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    for i, layer in enumerate(lin, start=1):
        assert np.max(np.abs(model.params[f"W{i}"] - layer.weight.detach().numpy().T)) <= TOL
        assert np.max(np.abs(model.params[f"b{i}"] - layer.bias.detach().numpy())) <= TOL
