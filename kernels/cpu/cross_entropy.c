/* The LM head and the cross-entropy loss fused, a chunk of the vocabulary at a time, so the
 * [N, V] logits never exist at once: the forward keeps a running max and sum per row (online
 * log-sum-exp, Milakov & Gimelshein, arXiv:1805.02867) and picks the target's logit from the
 * chunk that holds it; the backward recomputes each chunk's logits and turns them into
 * dlogits = (softmax - onehot(target)) * dloss before the two GEMMs of the LM head's backward
 * (torch.nn.functional.cross_entropy with ignore_index=-100, reduction="none"). Rows whose
 * target is ignored (prompt tokens) are left out before any GEMM. */
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

/* The rows that count (target not ignored), with their hidden states packed together. */
typedef struct {
    int count;
    int *rows;      /* [count] indices into the N rows */
    float *hidden;  /* [count, C] */
    int32_t *targets; /* [count] */
} counted_rows;

static counted_rows gather_counted(const float *hidden, const int32_t *targets, int N, int C)
{
    counted_rows packed = {0};
    packed.rows = g_new(int, N > 0 ? N : 1);
    for (int n = 0; n < N; n++)
        if (targets[n] != HN_IGNORE_INDEX)
            packed.rows[packed.count++] = n;
    packed.hidden = g_new(float, (size_t)(packed.count > 0 ? packed.count : 1) * C);
    packed.targets = g_new(int32_t, packed.count > 0 ? packed.count : 1);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < packed.count; i++) {
        memcpy(packed.hidden + (size_t)i * C, hidden + (size_t)packed.rows[i] * C,
               (size_t)C * sizeof(float));
        packed.targets[i] = targets[packed.rows[i]];
    }
    return packed;
}

static void free_counted(counted_rows *packed)
{
    g_free(packed->rows);
    g_free(packed->hidden);
    g_free(packed->targets);
}

void hn_cpu_cross_entropy_forward(float *losses, float *lse, const float *hidden,
                                  const void *weight, hn_weight_type weight_type,
                                  const int32_t *targets, int N, int C, int V)
{
    memset(losses, 0, (size_t)N * sizeof *losses);
    memset(lse, 0, (size_t)N * sizeof *lse);
    counted_rows packed = gather_counted(hidden, targets, N, C);
    int M = packed.count, chunk = vocab_chunk(M, V);
    float *logits = g_new(float, (size_t)(M > 0 ? M : 1) * chunk); /* [M, chunk] */
    float *running_max = g_new(float, M > 0 ? M : 1);
    /* of exp(logit - running_max), in double: a float sum over a 50k-word vocabulary loses the
     * small terms once a peaked row's sum is near 1 (1e-4 off in the log-probabilities) */
    double *running_sum = g_new0(double, M > 0 ? M : 1);
    float *target_logit = g_new0(float, M > 0 ? M : 1);
    for (int i = 0; i < M; i++)
        running_max[i] = -INFINITY;
    for (int first = 0; first < V && M > 0; first += chunk) {
        int count = first + chunk <= V ? chunk : V - first;
        hn_cpu_matmul_forward(logits, packed.hidden,
                              hn_cpu_weight_rows(weight, weight_type, first, C), weight_type,
                              NULL, M, C, count);
#pragma omp parallel for schedule(static)
        for (int i = 0; i < M; i++) {
            const float *row = logits + (size_t)i * count;
            float chunk_max = -INFINITY;
            for (int j = 0; j < count; j++)
                chunk_max = hn_cpu_max(chunk_max, row[j]);
            float new_max = hn_cpu_max(running_max[i], chunk_max);
            double sum = 0.0;
            for (int j = 0; j < count; j++)
                sum += (double)expf(row[j] - new_max);
            running_sum[i] = running_sum[i] * (double)expf(running_max[i] - new_max) + sum;
            running_max[i] = new_max;
            int target = packed.targets[i];
            if (target >= first && target < first + count)
                target_logit[i] = row[target - first];
        }
    }
    for (int i = 0; i < M; i++) {
        int n = packed.rows[i];
        lse[n] = (float)((double)running_max[i] + log(running_sum[i]));
        losses[n] = lse[n] - target_logit[i];
    }
    g_free(logits);
    g_free(running_max);
    g_free(running_sum);
    g_free(target_logit);
    free_counted(&packed);
}

void hn_cpu_cross_entropy_backward(float *dhidden, float *dweight, const float *dlosses,
                                   const float *hidden, const void *weight,
                                   hn_weight_type weight_type, const int32_t *targets,
                                   const float *lse, int N, int C, int V)
{
    counted_rows packed = gather_counted(hidden, targets, N, C);
    int M = packed.count, chunk = vocab_chunk(M, V);
    if (M == 0) {
        free_counted(&packed);
        return;
    }
    float *dlogits = g_new(float, (size_t)M * chunk); /* [M, chunk]: logits, then their grad */
    float *dpacked = g_new0(float, (size_t)M * C);    /* [M, C] */
    for (int first = 0; first < V; first += chunk) {
        int count = first + chunk <= V ? chunk : V - first;
        const void *rows = hn_cpu_weight_rows(weight, weight_type, first, C);
        hn_cpu_matmul_forward(dlogits, packed.hidden, rows, weight_type, NULL, M, C, count);
#pragma omp parallel for schedule(static)
        for (int i = 0; i < M; i++) {
            float *row = dlogits + (size_t)i * count;
            int n = packed.rows[i], target = packed.targets[i];
            for (int j = 0; j < count; j++)
                row[j] = expf(row[j] - lse[n]) * dlosses[n];
            if (target >= first && target < first + count)
                row[target - first] -= dlosses[n];
        }
        hn_cpu_matmul_backward(dpacked, dweight != NULL ? dweight + (size_t)first * C : NULL,
                               NULL, dlogits, packed.hidden, rows, weight_type, M, C, count);
    }
#pragma omp parallel for schedule(static)
    for (int i = 0; i < M; i++) {
        float *dst = dhidden + (size_t)packed.rows[i] * C;
        const float *src = dpacked + (size_t)i * C;
        for (int c = 0; c < C; c++)
            dst[c] += src[c];
    }
    g_free(dlogits);
    g_free(dpacked);
    free_counted(&packed);
}
