"""The straightforward implementation of one round, as a user would write it.

A Python loop over tasks, one small model per task (its head) on the shared first layer, and
autograd for every gradient. It is the reference that the unit tests hold the batched round
against (float64), and the peer that the benchmark times.
"""

import torch

import mtrl


def reference_round(
    net: mtrl.Network, batch: mtrl.Batches, *, loss, algorithm, eta_a, eta_w, lam, head_steps=1
):
    """Return ``(W, A)`` after one round of ``algorithm`` on ``batch``, task by task."""
    lossf = mtrl.get_loss(loss)
    T = net.A.shape[0]

    def task_loss(W, a, X, y):
        return lossf.value(y * (torch.relu(X @ W.T + net.b) @ a)).mean()

    W = net.W.detach().clone().requires_grad_(True)
    heads = []
    for t in range(T):
        stepped = net.A[t]
        for _ in range(head_steps):
            a = stepped.clone().requires_grad_(True)
            (grad_a,) = torch.autograd.grad(task_loss(net.W, a, batch.X1[t], batch.y1[t]), a)
            stepped = (a - eta_a * grad_a).detach()
        heads.append(net.A[t] if algorithm == "random_heads" else stepped)
        used = stepped if algorithm == "heads_first" else net.A[t]
        # Backpropagate task by task; the gradients accumulate in W.grad.
        (task_loss(W, used, batch.X2[t], batch.y2[t]) / T).backward()
    W_next = (1 - eta_w * lam) * net.W - eta_w * W.grad
    return W_next, torch.stack(heads)


def reference_training(net: mtrl.Network, tasks: mtrl.TaskSet, *, n1, n2, rounds, seed, loss,
                       **steps):  # fmt: skip
    """Return ``(W, A, losses, accuracies)`` after ``rounds`` rounds of :func:`reference_round`
    on the data of :func:`mtrl.pretrain` (``seed`` its data seed), with the held-out loss and
    accuracy of each round on its representation batch."""
    lossf, losses, accuracies = mtrl.get_loss(loss), [], []
    for k in range(rounds):
        batch = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=seed, data_round=k)
        W, A = reference_round(net, batch, loss=loss, **steps)
        used = A if steps["algorithm"] == "heads_first" else net.A
        u = batch.y2 * torch.einsum("tnm,tm->tn", torch.relu(batch.X2 @ net.W.T + net.b), used)
        losses.append(lossf.value(u).mean().item())
        accuracies.append((u > 0).double().mean().item())
        net = net.replace(W=W, A=A)
    return net.W, net.A, losses, accuracies


class _TaskModel(torch.nn.Module):
    """One task's model: the shared first layer and its own linear head, started at zero."""

    def __init__(self, layer: torch.nn.Linear):
        super().__init__()
        self.layer = layer
        self.head = torch.nn.Linear(layer.out_features, 1, bias=False, dtype=layer.weight.dtype)
        torch.nn.init.zeros_(self.head.weight)

    def forward(self, x):
        return self.head(torch.relu(self.layer(x))).squeeze(-1)


def _task_models(net: mtrl.Network) -> tuple[torch.nn.Linear, list[_TaskModel]]:
    """Return a shared ``nn.Linear`` holding ``W`` (trainable) and ``b`` (frozen), and one
    :class:`_TaskModel` per task on it."""
    m, d = net.W.shape
    layer = torch.nn.Linear(d, m, dtype=net.W.dtype)
    layer.weight = torch.nn.Parameter(net.W.clone())
    layer.bias = torch.nn.Parameter(net.b.clone(), requires_grad=False)
    return layer, [_TaskModel(layer) for _ in range(net.A.shape[0])]


def module_round(net: mtrl.Network, batch: mtrl.Batches, *, loss, eta_a, eta_w, lam):
    """Return ``W`` after one heads-first round written with ``torch.nn`` and ``torch.optim``.

    One model per task on a shared ``nn.Linear``; each heads step is ``loss.backward()`` and an
    SGD step on the head (``backward`` also computes the gradient of the shared layer, which
    is then discarded); the representation step accumulates ``backward`` over tasks.
    """
    lossf = mtrl.get_loss(loss)
    layer, models = _task_models(net)
    for t, model in enumerate(models):
        optimizer = torch.optim.SGD(model.head.parameters(), lr=eta_a)
        optimizer.zero_grad()
        lossf.value(batch.y1[t] * model(batch.X1[t])).mean().backward()
        optimizer.step()
    layer.weight.grad = None
    for t, model in enumerate(models):
        (lossf.value(batch.y2[t] * model(batch.X2[t])).mean() / len(models)).backward()
    return (1 - eta_w * lam) * net.W - eta_w * layer.weight.grad


def module_training(net: mtrl.Network, tasks: mtrl.TaskSet, *, n1, n2, rounds, seed, loss, eta_a,
                    eta_w, lam):  # fmt: skip
    """Return ``W`` after ``rounds`` heads-first rounds as a user would write the training loop:
    one ``torch.nn`` model per task on a shared ``nn.Linear``, an ``torch.optim.SGD`` per head
    and one for the shared layer (its ``weight_decay`` is the decay ``lam``), a Python loop over
    tasks, and the data of :func:`mtrl.pretrain` (``seed`` its data seed)."""
    lossf = mtrl.get_loss(loss)
    layer, models = _task_models(net)
    heads = [torch.optim.SGD(model.head.parameters(), lr=eta_a) for model in models]
    shared = torch.optim.SGD([layer.weight], lr=eta_w, weight_decay=lam)
    for k in range(rounds):
        batch = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=seed, data_round=k)
        for t, (model, optimizer) in enumerate(zip(models, heads, strict=True)):
            optimizer.zero_grad()
            lossf.value(batch.y1[t] * model(batch.X1[t])).mean().backward()
            optimizer.step()
        shared.zero_grad()
        for t, model in enumerate(models):
            (lossf.value(batch.y2[t] * model(batch.X2[t])).mean() / len(models)).backward()
        shared.step()
    return layer.weight.detach()


def batched_autograd_training(net: mtrl.Network, tasks: mtrl.TaskSet, *, n1, n2, rounds, seed,
                              loss, eta_a, eta_w, lam):  # fmt: skip
    """Return ``W`` after ``rounds`` heads-first rounds written with autograd but batched over
    tasks: every task's features in one batched product, the heads' and the layer's gradients
    from ``torch.autograd.grad`` of the summed losses, the data of :func:`mtrl.pretrain`."""
    lossf = mtrl.get_loss(loss)
    W, A, T = net.W.clone(), net.A.clone(), net.A.shape[0]

    def losses(W, A, X, y):  # (T,): each task's mean loss
        return lossf.value(y * torch.einsum("tnm,tm->tn", torch.relu(X @ W.T + net.b), A)).mean(1)

    for k in range(rounds):
        batch = mtrl.pretraining_batches(tasks, n1=n1, n2=n2, seed=seed, data_round=k)
        A.requires_grad_(True)
        (grad_A,) = torch.autograd.grad(losses(W, A, batch.X1, batch.y1).sum(), A)
        A = (A - eta_a * grad_A).detach()
        W.requires_grad_(True)
        (grad_W,) = torch.autograd.grad(losses(W, A, batch.X2, batch.y2).sum() / T, W)
        W = ((1 - eta_w * lam) * W - eta_w * grad_W).detach()
    return W
