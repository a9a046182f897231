"""Reference side of the learning-rate schedule test: transformers' get_scheduler.

  lr_schedule_ref.py write DIR

DIR/expected.json is a list of {"type", "lr", "warmup", "total", "kwargs", "lrs"}: the
learning rate of every optimizer step 0 .. total + 2, read from the optimizer after each
scheduler step as the Trainer uses it. Also {"warmup_cases": [[warmup_steps, total,
expected]]} from TrainingArguments.get_warmup_steps."""
import json
import os
import sys

import torch
from transformers import TrainingArguments, get_scheduler

TYPES = ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
         "constant_with_warmup", "inverse_sqrt"]
SHAPES = [(0, 10), (3, 10), (10, 37), (1, 1), (5, 1000)]
KWARGS = {"cosine": [{"num_cycles": 1.5}, {"num_cycles": 0.25}],
          "cosine_with_restarts": [{"num_cycles": 3}, {"num_cycles": 2}],
          "polynomial": [{"power": 2.0, "lr_end": 1e-6}, {"power": 0.5}],
          "inverse_sqrt": [{"timescale": 7}]}


def run(kind, lr, warmup, total, kwargs):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = get_scheduler(kind, optimizer, num_warmup_steps=warmup,
                              num_training_steps=total, scheduler_specific_kwargs=kwargs)
    lrs = []
    for _ in range(total + 3):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def write(out):
    cases = []
    for kind in TYPES:
        for warmup, total in SHAPES:
            if kind == "polynomial" and total <= warmup:
                continue  # transformers divides by zero there; Hone refuses it
            for kwargs in [{}] + KWARGS.get(kind, []):
                lr = 3e-4 if len(cases) % 2 else 5e-5
                cases.append({"type": kind, "lr": lr, "warmup": warmup, "total": total,
                              "kwargs": kwargs, "lrs": run(kind, lr, warmup, total, kwargs)})
    warmups = []
    for warmup_steps, total in [(0, 100), (5, 100), (0.1, 100), (0.1, 7), (0.5, 3), (1, 9),
                                (2.0, 9), (0.33, 10)]:
        args = TrainingArguments(output_dir=os.path.join(out, "unused"), warmup_steps=warmup_steps,
                                 report_to=[])
        warmups.append([warmup_steps, total, args.get_warmup_steps(total)])
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"cases": cases, "warmup_cases": warmups}, f)
    print(f"{len(cases)} schedules")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2])
