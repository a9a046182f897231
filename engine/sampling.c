/* The logits processors and the token choice of transformers' generate (sampling.h), each
 * following its transformers class (generation/logits_process.py): RepetitionPenaltyLogits-
 * Processor, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper, then softmax and a
 * multinomial draw (our own random numbers: GLib's Mersenne Twister, not torch's). */
#include <math.h>
#include <stdlib.h>

#include "sampling.h"

void hn_logits_repetition_penalty(float *logits, int V, const int32_t *seen, size_t n_seen,
                                  double penalty)
{
    /* each distinct id once: gather the original scores, then scatter the penalised ones */
    guint8 *done = g_new0(guint8, V);
    for (size_t i = 0; i < n_seen; i++) {
        int32_t id = seen[i];
        if (id < 0 || id >= V || done[id])
            continue;
        done[id] = 1;
        float score = logits[id];
        logits[id] = score < 0 ? score * (float)penalty : score / (float)penalty;
    }
    g_free(done);
}

void hn_logits_temperature(float *logits, int V, double temperature)
{
    for (int i = 0; i < V; i++)
        logits[i] = logits[i] / (float)temperature;
}

static int compare_descending(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

void hn_logits_top_k(float *logits, int V, int k)
{
    if (k <= 0 || k >= V)
        return;
    float *sorted = g_memdup2(logits, (size_t)V * sizeof *logits);
    qsort(sorted, (size_t)V, sizeof *sorted, compare_descending);
    float kth = sorted[k - 1];
    for (int i = 0; i < V; i++)
        if (logits[i] < kth)
            logits[i] = -INFINITY;
    g_free(sorted);
}

typedef struct {
    float value;
    int index;
} ranked;

static int compare_ranked_ascending(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return x->value < y->value ? -1 : x->value > y->value ? 1 : x->index - y->index;
}

void hn_logits_top_p(float *logits, int V, double top_p)
{
    if (top_p >= 1.0)
        return;
    ranked *order = g_new(ranked, V);
    for (int i = 0; i < V; i++)
        order[i] = (ranked){logits[i], i};
    qsort(order, (size_t)V, sizeof *order, compare_ranked_ascending);
    double max = order[V - 1].value, sum = 0;
    for (int i = 0; i < V; i++)
        sum += exp((double)logits[i] - max);
    /* ascending: remove while the cumulative probability stays <= 1 - top_p */
    double cumulative = 0, threshold = 1.0 - top_p;
    for (int j = 0; j < V - 1; j++) { /* the last (most probable) always stays */
        cumulative += exp((double)order[j].value - max) / sum;
        if (cumulative > threshold)
            break;
        logits[order[j].index] = -INFINITY;
    }
    g_free(order);
}

static int32_t argmax(const float *logits, int V)
{
    int32_t best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best])
            best = i;
    return best;
}

int32_t hn_sample_token(float *logits, int V, const hn_sampling *s, const int32_t *seen,
                        size_t n_seen, GRand *rng)
{
    if (s->repetition_penalty != 1.0)
        hn_logits_repetition_penalty(logits, V, seen, n_seen, s->repetition_penalty);
    if (!s->do_sample)
        return argmax(logits, V);
    if (s->temperature != 1.0)
        hn_logits_temperature(logits, V, s->temperature);
    if (s->top_k != 0)
        hn_logits_top_k(logits, V, s->top_k);
    if (s->top_p < 1.0)
        hn_logits_top_p(logits, V, s->top_p);
    int32_t best = argmax(logits, V);
    double max = logits[best], sum = 0;
    for (int i = 0; i < V; i++)
        sum += exp((double)logits[i] - max); /* exp(-inf) = 0 */
    double target = g_rand_double(rng) * sum, cumulative = 0;
    for (int i = 0; i < V; i++) {
        cumulative += exp((double)logits[i] - max);
        if (cumulative > target)
            return i;
    }
    return best; /* rounding left the draw past the end */
}
