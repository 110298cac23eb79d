"""The round benchmark's measuring stick (tests/bench/round_bench.ts): one
round of local training of several clients and batched greedy generation,
with torch_llama.py's model at the engine's start parameters and data.

Reads a JSON job on stdin:
  {"threads", "rounds",
   "cases": [{"model", "config", "parameters", "lr", "n_accum", "sequences",
              "order"}],
   "generation": [{"model", "config", "parameters", "prompts", "new_tokens"}]}
where config is torch_llama.Llama's dict, parameters {HF name: base64 f32},
sequences[client][i] = [tokens, targets], order[client][step] = the indices
of the step's sequences (the engine's LocalTrainer order). Training runs two
ways: sequentially as the official Ferret code does (one client after
another, batch size 1, loss / n_accum, SGD every n_accum sequences) and
batched (the clients' weights stacked, one batched pass per micro-batch).
Prints one JSON object: seconds (best of `rounds` after a warm-up) and the
per-step mean losses of each way, the generated ids. Run with Debian's
/usr/bin/python3 (python3-torch 1.13).
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from torch_llama import Llama, blas_library


def best_seconds(rounds, run):
    """Runs once to warm up, then `rounds` times; the least seconds and the last result."""
    result = run()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def round_sequential(model, start, data, order, lr, n_accum):
    params = list(model.parameters())
    losses = []
    for client, steps in enumerate(order):
        with torch.no_grad():
            for p, s in zip(params, start):
                p.copy_(s)
        optimizer = torch.optim.SGD(params, lr=lr, momentum=0)
        optimizer.zero_grad()
        mine = []
        for step in steps:
            total = torch.zeros(())
            for i in step:
                ids, targets = data[client][i]
                logits, _ = model(ids)
                loss = F.cross_entropy(logits, targets) / n_accum
                loss.backward()
                total += loss.detach()
            optimizer.step()
            optimizer.zero_grad()
            mine.append(total)
        losses.append(torch.stack(mine).tolist())
    return losses


def round_batched(model, start, ids, targets, lr):
    """ids, targets [clients, steps, n_accum, T]."""
    B, steps, n_accum, T = ids.shape
    weights = {name: w.detach().clone().requires_grad_() for name, w in start.items()}
    losses = []
    for s in range(steps):
        total = torch.zeros(B)
        for j in range(n_accum):
            logits, _ = model(ids[:, s, j], weights=weights)
            per_token = F.cross_entropy(
                logits.flatten(0, 1), targets[:, s, j].flatten(), reduction="none")
            per_client = per_token.view(B, T).mean(1) / n_accum
            per_client.sum().backward()
            total += per_client.detach()
        with torch.no_grad():
            for w in weights.values():
                w -= lr * w.grad
                w.grad = None
        losses.append(total)
    return torch.stack(losses, 1).tolist()


def generate_batched(model, prompts, new_tokens):
    with torch.no_grad():
        logits, past = model(prompts)
        token = logits[:, -1].argmax(-1)
        out = [token]
        for i in range(new_tokens - 1):
            logits, past = model(token[:, None], past, start=prompts.shape[1] + i)
            token = logits[:, -1].argmax(-1)
            out.append(token)
        return torch.stack(out, 1).tolist()


def training(case, rounds):
    model = Llama(case["config"])
    model.load_f32_base64(case["parameters"])
    start = [p.detach().clone() for p in model.parameters()]
    stacked = model.stacked(len(case["order"]))
    data = [[(torch.tensor(t), torch.tensor(y)) for t, y in client] for client in case["sequences"]]
    order = case["order"]
    ids = torch.tensor([[[client[i][0] for i in step] for step in steps]
                        for client, steps in zip(case["sequences"], order)])
    targets = torch.tensor([[[client[i][1] for i in step] for step in steps]
                            for client, steps in zip(case["sequences"], order)])
    lr, n_accum = case["lr"], case["n_accum"]
    sequential, sequential_losses = best_seconds(
        rounds, lambda: round_sequential(model, start, data, order, lr, n_accum))
    batched, batched_losses = best_seconds(
        rounds, lambda: round_batched(model, stacked, ids, targets, lr))
    return {
        "sequential_seconds": sequential,
        "batched_seconds": batched,
        "sequential_losses": sequential_losses,
        "batched_losses": batched_losses,
    }


def generation(case, rounds):
    model = Llama(case["config"])
    model.load_f32_base64(case["parameters"])
    prompts = torch.tensor(case["prompts"])
    seconds, ids = best_seconds(rounds, lambda: generate_batched(model, prompts, case["new_tokens"]))
    return {"seconds": seconds, "ids": ids}


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job["threads"])
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_library(),
        "cases": {c["model"]: training(c, job["rounds"]) for c in job["cases"]},
        "generation": {c["model"]: generation(c, job["rounds"]) for c in job["generation"]},
    }
    print(json.dumps(out))


main()
