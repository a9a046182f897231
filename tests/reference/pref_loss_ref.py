"""Reference side of tests/test_pref_loss.c: the preference losses as their papers write them,
in PyTorch float64, with autograd's gradients with respect to the policy's log-probs, on random
inputs. Writes OUT_JSON: {"pairs": [...], "kto": [...]}.

  pref_loss_ref.py OUT_JSON

sigmoid (DPO, arXiv:2305.18290 eq. 7, with conservative label smoothing), hinge (SLiC,
arXiv:2305.10425, on DPO's log-ratio), ipo (arXiv:2310.12036 eq. 17), orpo (arXiv:2403.07691
eqs. 6-7, mean log-probs, log odds through log1p(-exp)), simpo (arXiv:2405.14734 eq. 6), kto
(arXiv:2402.01306 eq. 8, the reference point the clamped mean KL of mismatched pairs, detached).
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(1234)


def dpo_family(kind, beta, eps, c, r, rc, rr):
    h = (c - r) - (rc - rr)
    if kind == "sigmoid":
        return -(1 - eps) * F.logsigmoid(beta * h) - eps * F.logsigmoid(-beta * h)
    if kind == "hinge":
        return torch.relu(1 - beta * h)
    if kind == "ipo":
        return (h - 1 / (2 * beta)) ** 2
    raise ValueError(kind)


def orpo(beta, c, r):
    log_odds = (c - r) - (torch.log1p(-torch.exp(c)) - torch.log1p(-torch.exp(r)))
    return -c - beta * F.logsigmoid(log_odds)


def simpo(beta, gamma, c, r):
    return -F.logsigmoid(beta * (c - r) - gamma)


def pair_cases():
    cases = []
    n = 48
    for kind, beta, eps, gamma in [("sigmoid", 0.1, 0.0, 0), ("sigmoid", 0.5, 0.2, 0),
                                   ("hinge", 0.1, 0, 0), ("hinge", 2.0, 0, 0),
                                   ("ipo", 0.1, 0, 0), ("ipo", 1.0, 0, 0),
                                   ("orpo", 0.1, 0, 0), ("orpo", 1.5, 0, 0),
                                   ("simpo", 2.0, 0, 0.5), ("simpo", 0.5, 0, 1.2)]:
        averaged = kind in ("ipo", "orpo", "simpo")
        lo, hi = (-4.0, -0.02) if averaged else (-90.0, -3.0)
        c = (torch.rand(n, dtype=torch.float64) * (hi - lo) + lo).requires_grad_()
        r = (torch.rand(n, dtype=torch.float64) * (hi - lo) + lo).requires_grad_()
        spread = 0.3 if averaged else 6.0
        rc = c.detach() + spread * torch.randn(n, dtype=torch.float64)
        rr = r.detach() + spread * torch.randn(n, dtype=torch.float64)
        if averaged:
            rc, rr = rc.clamp(max=-0.01), rr.clamp(max=-0.01)
        if kind == "orpo":
            loss = orpo(beta, c, r)
        elif kind == "simpo":
            loss = simpo(beta, gamma, c, r)
        else:
            loss = dpo_family(kind, beta, eps, c, r, rc, rr)
        loss.sum().backward()
        d_c, d_r = c.grad, r.grad
        c, r, loss = c.detach(), r.detach(), loss.detach()
        for i in range(n):
            if kind == "hinge" and abs(1 - beta * float(((c - r) - (rc - rr))[i])) < 1e-9:
                continue  # the kink: no gradient to compare
            no_ref = kind in ("orpo", "simpo")
            cases.append({
                "type": kind, "beta": beta, "label_smoothing": eps, "simpo_gamma": gamma,
                "chosen": float(c[i]), "rejected": float(r[i]),
                "ref_chosen": float(rc[i]), "ref_rejected": float(rr[i]),
                "loss": float(loss[i]), "d_chosen": float(d_c[i]),
                "d_rejected": float(d_r[i]),
                "reward_chosen": beta * float(c[i] if no_ref else c[i] - rc[i]),
                "reward_rejected": beta * float(r[i] if no_ref else r[i] - rr[i]),
            })
    return cases


def kto_cases():
    cases = []
    # offset: the reference model's KL log-probs above the policy's (the clamp at 0 holds) or
    # below them (a positive reference point)
    for beta, wd, wu, offset in [(0.1, 1.0, 1.0, 0.5), (0.5, 1.3, 0.7, -2.0)]:
        n, m = 32, 24
        policy = (torch.rand(n, dtype=torch.float64) * -60 - 2).requires_grad_()
        ref = policy.detach() + 4 * torch.randn(n, dtype=torch.float64)
        desirable = torch.rand(n) < 0.5
        policy_kl = torch.rand(m, dtype=torch.float64) * -60 - 2
        ref_kl = policy_kl + 3 * torch.randn(m, dtype=torch.float64) + offset
        z0 = (policy_kl - ref_kl).mean().clamp(min=0).detach()
        ratio = policy - ref
        loss = torch.where(desirable, wd * (1 - torch.sigmoid(beta * (ratio - z0))),
                           wu * (1 - torch.sigmoid(beta * (z0 - ratio))))
        loss.sum().backward()
        cases.append({"beta": beta, "desirable_weight": wd, "undesirable_weight": wu,
                      "policy": policy.detach().tolist(), "ref": ref.tolist(),
                      "desirable": desirable.tolist(), "policy_kl": policy_kl.tolist(),
                      "ref_kl": ref_kl.tolist(), "reference_point": float(z0),
                      "loss": loss.detach().tolist(), "d_policy": policy.grad.tolist()})
    return cases


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], "w") as fh:
        json.dump({"pairs": pair_cases(), "kto": kto_cases()}, fh)
