/* The LM head and the cross-entropy loss fused, a chunk of the vocabulary at a time, so the
 * [N, V] logits never exist at once: the forward keeps a running max and sum per row (online
 * log-sum-exp, Milakov & Gimelshein, arXiv:1805.02867) and picks the target's logit from the
 * chunk that holds it; the backward recomputes each chunk's logits and turns them into
 * dlogits = (softmax - onehot(target)) * dloss before the two GEMMs of the LM head's backward
 * (torch.nn.functional.cross_entropy with ignore_index=-100, reduction="none"). */
#include <glib.h>
#include <math.h>

#include "cpu_ops.h"

/* Vocabulary rows per chunk: logits of about 16 MiB, at least 128 rows. */
static int vocab_chunk(int N, int V)
{
    int rows = (1 << 22) / (N > 0 ? N : 1);
    if (rows < 128)
        rows = 128;
    return rows < V ? rows : V;
}

void hn_cpu_cross_entropy_forward(float *losses, float *lse, const float *hidden,
                                  const void *weight, hn_weight_type weight_type,
                                  const int32_t *targets, int N, int C, int V)
{
    int chunk = vocab_chunk(N, V);
    float *logits = g_new(float, (size_t)N * chunk); /* [N, chunk] */
    float *running_max = g_new(float, N), *target_logit = g_new0(float, N);
    for (int n = 0; n < N; n++) {
        running_max[n] = -INFINITY;
        lse[n] = 0.0f; /* the running sum of exp(logit - running_max) until the end */
    }
    for (int first = 0; first < V; first += chunk) {
        int count = first + chunk <= V ? chunk : V - first;
        hn_cpu_matmul_forward(logits, hidden, hn_cpu_weight_rows(weight, weight_type, first, C),
                              weight_type, NULL, N, C, count);
#pragma omp parallel for schedule(static)
        for (int n = 0; n < N; n++) {
            const float *row = logits + (size_t)n * count;
            float chunk_max = -INFINITY;
            for (int j = 0; j < count; j++)
                chunk_max = fmaxf(chunk_max, row[j]);
            float new_max = fmaxf(running_max[n], chunk_max);
            float sum = 0.0f;
            for (int j = 0; j < count; j++)
                sum += expf(row[j] - new_max);
            lse[n] = lse[n] * expf(running_max[n] - new_max) + sum;
            running_max[n] = new_max;
            if (targets[n] >= first && targets[n] < first + count)
                target_logit[n] = row[targets[n] - first];
        }
    }
    for (int n = 0; n < N; n++) {
        lse[n] = running_max[n] + logf(lse[n]);
        losses[n] = targets[n] == HN_IGNORE_INDEX ? 0.0f : lse[n] - target_logit[n];
    }
    g_free(logits);
    g_free(running_max);
    g_free(target_logit);
}

void hn_cpu_cross_entropy_backward(float *dhidden, float *dweight, const float *dlosses,
                                   const float *hidden, const void *weight,
                                   hn_weight_type weight_type, const int32_t *targets,
                                   const float *lse, int N, int C, int V)
{
    int chunk = vocab_chunk(N, V);
    float *dlogits = g_new(float, (size_t)N * chunk); /* [N, chunk]: logits, then their grad */
    for (int first = 0; first < V; first += chunk) {
        int count = first + chunk <= V ? chunk : V - first;
        const void *rows = hn_cpu_weight_rows(weight, weight_type, first, C);
        hn_cpu_matmul_forward(dlogits, hidden, rows, weight_type, NULL, N, C, count);
#pragma omp parallel for schedule(static)
        for (int n = 0; n < N; n++) {
            float *row = dlogits + (size_t)n * count;
            float dloss = targets[n] == HN_IGNORE_INDEX ? 0.0f : dlosses[n];
            for (int j = 0; j < count; j++)
                row[j] = expf(row[j] - lse[n]) * dloss;
            if (targets[n] >= first && targets[n] < first + count)
                row[targets[n] - first] -= dloss;
        }
        hn_cpu_matmul_backward(dhidden, dweight != NULL ? dweight + (size_t)first * C : NULL,
                               NULL, dlogits, hidden, rows, weight_type, N, C, count);
    }
    g_free(dlogits);
}
