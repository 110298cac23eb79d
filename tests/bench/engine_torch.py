"""The engine benchmark's measuring stick: the same LLaMA-style model in
PyTorch (CPU), timed the same way as tests/bench/engine_bench.ts.

Reads a JSON job on stdin: {"threads", "configs": [{name, hidden, layers, heads,
kv_heads, intermediate, vocab, max_positions, rope_theta, eps, tokens, steps,
new_tokens}]}; prints one JSON object with tokens/s per config and the 1024³
matmul GFLOP/s. The model is torch_llama.py's (shared with round_torch.py).
Run with Debian's /usr/bin/python3 (python3-torch 1.13).
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from torch_llama import Llama, blas_library


def train_rate(model, c):
    T = c["tokens"]
    ids = torch.arange(T) * 7 % 256
    targets = (torch.arange(T) * 7 + 1) % 256
    params = list(model.parameters())

    def step():
        logits, _ = model(ids)
        loss = F.cross_entropy(logits, targets)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.01 * p.grad
        return loss.item()

    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(c["steps"]):
        step()
    return T * c["steps"] / (time.perf_counter() - start)


def generation_rate(model, c):
    prompt = torch.arange(8)
    n = c["new_tokens"]
    with torch.no_grad():
        start = time.perf_counter()
        logits, past = model(prompt)
        token = logits[-1].argmax()
        for i in range(n - 1):
            logits, past = model(token.view(1), past, start=8 + i)
            token = logits[-1].argmax()
        return n / (time.perf_counter() - start)


def matmul_rate():
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ b
    start = time.perf_counter()
    for _ in range(10):
        a @ b
    return 10 * 2 * 1024**3 / (time.perf_counter() - start) / 1e9


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job["threads"])
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(),
           "blas": blas_library(),
           "matmul1024_gflops": matmul_rate(), "configs": {}}
    for c in job["configs"]:
        model = Llama(c)
        out["configs"][c["name"]] = {
            "train_tokens_per_s": train_rate(model, c),
            "generate_tokens_per_s": generation_rate(model, c),
        }
    print(json.dumps(out))


main()
