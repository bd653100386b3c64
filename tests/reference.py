"""The straightforward implementation of one round, as a user would write it.

A Python loop over tasks, one small model per task (its head) on the shared first layer, and
autograd for every gradient. It is the reference that the unit tests hold the batched round
against (float64), and the peer that the benchmark times.
"""

import torch

import mtrl


def reference_round(net: mtrl.Network, batch: mtrl.Batches, *, loss, algorithm, eta_a, eta_w, lam):
    """Return ``(W, A)`` after one round of ``algorithm`` on ``batch``, task by task."""
    lossf = mtrl.get_loss(loss)
    T = net.A.shape[0]

    def task_loss(W, a, X, y):
        return lossf.value(y * (torch.relu(X @ W.T + net.b) @ a)).mean()

    W = net.W.detach().clone().requires_grad_(True)
    heads = []
    for t in range(T):
        a = net.A[t].clone().requires_grad_(True)
        (grad_a,) = torch.autograd.grad(task_loss(net.W, a, batch.X1[t], batch.y1[t]), a)
        stepped = (a - eta_a * grad_a).detach()
        heads.append(net.A[t] if algorithm == "random_heads" else stepped)
        used = stepped if algorithm == "heads_first" else net.A[t]
        # Backpropagate task by task; the gradients accumulate in W.grad.
        (task_loss(W, used, batch.X2[t], batch.y2[t]) / T).backward()
    W_next = (1 - eta_w * lam) * net.W - eta_w * W.grad
    return W_next, torch.stack(heads)


class _TaskModel(torch.nn.Module):
    """One task's model: the shared first layer and its own linear head, started at zero."""

    def __init__(self, layer: torch.nn.Linear):
        super().__init__()
        self.layer = layer
        self.head = torch.nn.Linear(layer.out_features, 1, bias=False, dtype=layer.weight.dtype)
        torch.nn.init.zeros_(self.head.weight)

    def forward(self, x):
        return self.head(torch.relu(self.layer(x))).squeeze(-1)


def module_round(net: mtrl.Network, batch: mtrl.Batches, *, loss, eta_a, eta_w, lam):
    """Return ``W`` after one heads-first round written with ``torch.nn`` and ``torch.optim``.

    One model per task on a shared ``nn.Linear``; each heads step is ``loss.backward()`` and an
    SGD step on the head (``backward`` also computes the gradient of the shared layer, which
    is then discarded); the representation step accumulates ``backward`` over tasks.
    """
    lossf = mtrl.get_loss(loss)
    m, d = net.W.shape
    layer = torch.nn.Linear(d, m, dtype=net.W.dtype)
    layer.weight = torch.nn.Parameter(net.W.clone())
    layer.bias = torch.nn.Parameter(net.b.clone(), requires_grad=False)
    models = [_TaskModel(layer) for _ in range(net.A.shape[0])]
    for t, model in enumerate(models):
        optimizer = torch.optim.SGD(model.head.parameters(), lr=eta_a)
        optimizer.zero_grad()
        lossf.value(batch.y1[t] * model(batch.X1[t])).mean().backward()
        optimizer.step()
    layer.weight.grad = None
    for t, model in enumerate(models):
        (lossf.value(batch.y2[t] * model(batch.X2[t])).mean() / len(models)).backward()
    return (1 - eta_w * lam) * net.W - eta_w * layer.weight.grad
