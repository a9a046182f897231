/* The micro-batches of the preference stages, as LLaMA-Factory's trainers run them on TRL:
 * - rm (PairwiseTrainer.compute_loss): chosen rows then rejected rows in one batch, the value
 *   head read at each row's last token (right padding: length - 1), loss
 *   -log sigmoid(r_chosen - r_rejected) averaged over the pairs; accuracy r_chosen > r_rejected.
 * - dpo (CustomDPOTrainer.get_batch_loss_metrics): the same batch through the policy and the
 *   reference (the model with its adapters off, or a frozen copy; none for orpo and simpo),
 *   each row's answer log-prob summed over its tokens (averaged for ipo, orpo and simpo), the
 *   pair losses of pref_loss.c, plus pref_ftx x the chosen answer's mean token NLL.
 * - kto (CustomKTOTrainer.get_batch_loss_metrics, TRL's KTOTrainer.kto_loss): the examples
 *   and their KL pairs (another row's answer) through the reference, the KL pairs through the
 *   policy without gradient (and without LoRA dropout, which TRL's train-mode forward would
 *   apply), the examples through the policy; the reference point, the
 *   weighted per-example losses averaged, and pref_ftx x the desirable examples' mean NLL
 *   rescaled by batch size / desirable count (as upstream).
 * Each micro-batch's loss is divided by the micro-batches of its optimizer step (transformers'
 * Trainer: loss / current_gradient_accumulation_steps, TRL's trainers take no item count).
 * Metrics are averaged per micro-batch (dpo, rm) or per example (kto's rewards and log-probs,
 * as upstream sums them with their counts); the KL is averaged over micro-batches (upstream
 * sums it over the log interval). */
#include <math.h>
#include <string.h>

#include "pref_loss.h"
#include "trainer_internal.h"

const char *const HN_TRAIN_METRIC_NAMES[HN_METRIC_COUNT] = {
    [HN_METRIC_REWARDS_CHOSEN] = "rewards/chosen",
    [HN_METRIC_REWARDS_REJECTED] = "rewards/rejected",
    [HN_METRIC_REWARDS_ACCURACIES] = "rewards/accuracies",
    [HN_METRIC_REWARDS_MARGINS] = "rewards/margins",
    [HN_METRIC_LOGPS_CHOSEN] = "logps/chosen",
    [HN_METRIC_LOGPS_REJECTED] = "logps/rejected",
    [HN_METRIC_KL] = "kl",
    [HN_METRIC_ACCURACY] = "accuracy",
};

/* The answers' log-probs of one forward: per row the sum over its target tokens and their
 * count. */
typedef struct {
    double *sum;
    int *count;
} row_logps;

static void row_logps_init(row_logps *r, int rows)
{
    r->sum = g_new0(double, rows);
    r->count = g_new0(int, rows);
}

static void row_logps_clear(row_logps *r)
{
    g_free(r->sum);
    g_free(r->count);
}

/* A forward of batch on model with labels; evaluating: no dropout, no activations to keep
 * for a backward that will not come (the caller's choice). */
static hn_status forward_logps(hn_model *model, const hn_batch *batch, bool evaluating,
                               row_logps *out, hn_error *err)
{
    int B = batch->B, T = batch->T;
    hn_model_set_evaluating(model, evaluating);
    hn_status s = hn_model_forward(model, batch, NULL, NULL, err);
    float *tokens = g_new(float, (size_t)B * (size_t)T);
    if (s == HN_OK)
        s = hn_model_target_logprobs(model, tokens, err);
    for (int b = 0; s == HN_OK && b < B; b++) {
        out->sum[b] = 0;
        out->count[b] = 0;
        for (int t = 0; t + 1 < T; t++) {
            if (batch->labels[b * T + t + 1] == HN_IGNORE_INDEX)
                continue;
            out->sum[b] += tokens[b * T + t];
            out->count[b]++;
        }
    }
    g_free(tokens);
    hn_model_set_evaluating(model, false);
    return s;
}

/* The reference model's log-probs: the frozen copy, or the model with its adapters off. */
static hn_status reference_logps(hn_trainer *tr, const hn_batch *batch, row_logps *out,
                                 hn_error *err)
{
    if (tr->ref_model != NULL)
        return forward_logps(tr->ref_model, batch, true, out, err);
    hn_model_set_adapters_enabled(tr->model, false);
    hn_status s = forward_logps(tr->model, batch, true, out, err);
    hn_model_set_adapters_enabled(tr->model, true);
    return s;
}

/* The rows of a micro-batch's items: the first example of every item, then the second. */
static size_t *item_rows(const size_t *order, size_t first, size_t count)
{
    size_t *rows = g_new(size_t, 2 * count);
    for (size_t i = 0; i < count; i++) {
        rows[i] = 2 * order[first + i];
        rows[count + i] = 2 * order[first + i] + 1;
    }
    return rows;
}

/* dlosses of a row from d objective / d (its summed log-prob): every target token's loss is
 * -log p, so d objective / d token loss = -d_sum. */
static void spread(const hn_batch *batch, int row, double d_sum, float *dlosses)
{
    int T = batch->T;
    for (int t = 0; t + 1 < T; t++)
        dlosses[row * T + t] = batch->labels[row * T + t + 1] != HN_IGNORE_INDEX
                                   ? (float)-d_sum : 0.0f;
}

static void add_metric(hn_pref_batch *out, hn_train_metric m, double value, double weight)
{
    out->metric_sums[m] += value * weight;
    out->metric_weights[m] += weight;
}

static hn_pref_loss_type loss_type(const char *name)
{
    return strcmp(name, "hinge") == 0 ? HN_PREF_HINGE
           : strcmp(name, "ipo") == 0 ? HN_PREF_IPO
           : strcmp(name, "orpo") == 0 ? HN_PREF_ORPO
           : strcmp(name, "simpo") == 0 ? HN_PREF_SIMPO
                                        : HN_PREF_SIGMOID;
}

void hn_trainer_metrics_average(const double *sums, const double *weights, double *out)
{
    for (int m = 0; m < HN_METRIC_COUNT; m++)
        out[m] = weights[m] > 0 ? sums[m] / weights[m] : NAN;
    /* kto logs the margin of the two averages (CustomKTOTrainer.log) */
    if (isnan(out[HN_METRIC_REWARDS_MARGINS]) && !isnan(out[HN_METRIC_REWARDS_CHOSEN]) &&
        !isnan(out[HN_METRIC_REWARDS_REJECTED]) && !isnan(out[HN_METRIC_KL]))
        out[HN_METRIC_REWARDS_MARGINS] = out[HN_METRIC_REWARDS_CHOSEN] -
                                         out[HN_METRIC_REWARDS_REJECTED];
}

bool hn_trainer_uses_reference(const hn_train_args *args)
{
    return strcmp(args->stage, "kto") == 0 ||
           (strcmp(args->stage, "dpo") == 0 && strcmp(args->pref_loss, "orpo") != 0 &&
            strcmp(args->pref_loss, "simpo") != 0);
}

static hn_status dpo_batch(hn_trainer *tr, const hn_batch *batch, bool train, double scale,
                           hn_pref_batch *out, hn_error *err)
{
    const hn_train_args *args = tr->args;
    int k = batch->B / 2;
    hn_pref_loss_options o = {loss_type(args->pref_loss), args->pref_beta,
                              args->dpo_label_smoothing, args->simpo_gamma};
    bool average = o.type == HN_PREF_IPO || o.type == HN_PREF_ORPO || o.type == HN_PREF_SIMPO;
    row_logps ref = {0}, pol;
    row_logps_init(&pol, batch->B);
    hn_status s = HN_OK;
    if (hn_trainer_uses_reference(args)) {
        row_logps_init(&ref, batch->B);
        s = reference_logps(tr, batch, &ref, err);
    }
    if (s == HN_OK)
        s = forward_logps(tr->model, batch, !train, &pol, err);
    float *dlosses = g_new0(float, (size_t)batch->B * (size_t)batch->T);
    for (int i = 0; s == HN_OK && i < k; i++) {
        int c = i, r = k + i;
        double nc = MAX(pol.count[c], 1), nr = MAX(pol.count[r], 1);
        double pc = pol.sum[c] / (average ? nc : 1), pr = pol.sum[r] / (average ? nr : 1);
        double rc = ref.sum != NULL ? ref.sum[c] / (average ? nc : 1) : 0,
               rr = ref.sum != NULL ? ref.sum[r] / (average ? nr : 1) : 0;
        hn_pref_pair pair;
        hn_pref_loss_pair(&o, pc, pr, rc, rr, &pair);
        double loss = pair.loss, d_c = pair.d_chosen;
        if (args->pref_ftx > 1e-6) { /* sft_loss = -(the chosen answer's mean log-prob) */
            loss += args->pref_ftx * -(pol.sum[c] / nc);
            d_c += -args->pref_ftx * (average ? 1 : 1 / nc);
        }
        out->loss += loss * scale / k;
        /* d objective / d summed log-prob: through the mean when the loss reads means */
        spread(batch, c, d_c * scale / k / (average ? nc : 1), dlosses);
        spread(batch, r, pair.d_rejected * scale / k / (average ? nr : 1), dlosses);
        double w = 1.0 / k;
        add_metric(out, HN_METRIC_REWARDS_CHOSEN, pair.reward_chosen, w);
        add_metric(out, HN_METRIC_REWARDS_REJECTED, pair.reward_rejected, w);
        add_metric(out, HN_METRIC_REWARDS_ACCURACIES,
                   pair.reward_chosen > pair.reward_rejected ? 1 : 0, w);
        add_metric(out, HN_METRIC_REWARDS_MARGINS, pair.reward_chosen - pair.reward_rejected, w);
        add_metric(out, HN_METRIC_LOGPS_CHOSEN, pc, w);
        add_metric(out, HN_METRIC_LOGPS_REJECTED, pr, w);
    }
    if (s == HN_OK && train)
        s = hn_model_backward_tokens(tr->model, dlosses, err);
    g_free(dlosses);
    row_logps_clear(&pol);
    row_logps_clear(&ref);
    return s;
}

/* log sigmoid(x) without overflow. */
static double log_sigmoid(double x)
{
    return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

static hn_status rm_batch(hn_trainer *tr, const hn_sft_data *data, const hn_batch *batch,
                          const size_t *rows, bool train, double scale, hn_pref_batch *out,
                          hn_error *err)
{
    int k = batch->B / 2, T = batch->T;
    int32_t *last = g_new(int32_t, batch->B);
    for (int b = 0; b < batch->B; b++) /* the last non-pad token of a right-padded row */
        last[b] = b * T + (int32_t)data->examples[rows[b]].n - 1;
    hn_batch no_labels = *batch;
    no_labels.labels = NULL; /* the value head reads the hidden states; no LM head */
    hn_model_set_evaluating(tr->model, !train);
    hn_status s = hn_model_forward(tr->model, &no_labels, NULL, NULL, err);
    hn_model_set_evaluating(tr->model, false);
    float *values = g_new(float, batch->B), *dvalues = g_new0(float, batch->B);
    if (s == HN_OK)
        s = hn_model_values(tr->model, last, batch->B, values, err);
    for (int i = 0; s == HN_OK && i < k; i++) {
        double margin = (double)values[i] - values[k + i];
        out->loss += -log_sigmoid(margin) * scale / k;
        double d = -(1 - 1 / (1 + exp(-margin))) * scale / k; /* d(-log sigmoid(m)) / dm */
        dvalues[i] = (float)d;
        dvalues[k + i] = (float)-d;
        add_metric(out, HN_METRIC_ACCURACY, values[i] > values[k + i] ? 1 : 0, 1);
    }
    if (s == HN_OK && train)
        s = hn_model_backward_values(tr->model, last, dvalues, batch->B, err);
    g_free(dvalues);
    g_free(values);
    g_free(last);
    return s;
}

static hn_status kto_batch(hn_trainer *tr, const hn_sft_data *data, const size_t *order,
                           size_t first, size_t k, bool train, double scale,
                           hn_pref_batch *out, hn_error *err)
{
    const hn_train_args *args = tr->args;
    size_t *rows = item_rows(order, first, k); /* examples, then their KL pairs */
    hn_batch all, kl, target;
    hn_batch_buffers kl_buf = {0}, target_buf = {0};
    hn_trainer_make_batch(data, rows, 0, 2 * k, tr->pad_id, &tr->batch_buffers, &all);
    hn_trainer_make_batch(data, rows, k, k, tr->pad_id, &kl_buf, &kl);
    hn_trainer_make_batch(data, rows, 0, k, tr->pad_id, &target_buf, &target);
    out->tokens += (int64_t)all.B * all.T;
    row_logps ref, pol_kl, pol;
    row_logps_init(&ref, (int)(2 * k));
    row_logps_init(&pol_kl, (int)k);
    row_logps_init(&pol, (int)k);
    hn_status s = reference_logps(tr, &all, &ref, err);
    if (s == HN_OK) /* the KL pairs: no gradient (TRL computes them under no_grad) */
        s = forward_logps(tr->model, &kl, true, &pol_kl, err);
    if (s == HN_OK)
        s = forward_logps(tr->model, &target, !train, &pol, err);
    float *dlosses = g_new0(float, (size_t)target.B * (size_t)target.T);
    if (s == HN_OK) {
        hn_kto_options o = {args->pref_beta, args->kto_chosen_weight, args->kto_rejected_weight};
        double z = hn_kto_reference_point(pol_kl.sum, ref.sum + k, k);
        size_t n_desirable = 0;
        for (size_t i = 0; i < k; i++)
            n_desirable += data->desirable[order[first + i]] != 0;
        for (size_t i = 0; i < k; i++) {
            bool desirable = data->desirable[order[first + i]] != 0;
            double loss, d;
            hn_kto_loss(&o, desirable, pol.sum[i], ref.sum[i], z, &loss, &d);
            double n_tokens = MAX(pol.count[i], 1);
            if (desirable && args->pref_ftx > 1e-6) {
                /* upstream (CustomKTOTrainer.get_batch_loss_metrics) adds
                 * ftx * (mean over desirable of -(mean log-prob)) / n_desirable * k to the
                 * micro-batch's already averaged loss: per desirable example
                 * ftx * k / n_desirable^2 * -(mean log-prob), times k against the 1 / k the
                 * sum below divides by */
                double w = args->pref_ftx * (double)k * (double)k / (double)n_desirable /
                           (double)n_desirable;
                loss += w * -(pol.sum[i] / n_tokens);
                d += w * -1.0 / n_tokens;
            }
            out->loss += loss * scale / (double)k;
            spread(&target, (int)i, d * scale / (double)k, dlosses);
            double reward = args->pref_beta * (pol.sum[i] - ref.sum[i]);
            add_metric(out, desirable ? HN_METRIC_REWARDS_CHOSEN : HN_METRIC_REWARDS_REJECTED,
                       reward, 1);
            add_metric(out, desirable ? HN_METRIC_LOGPS_CHOSEN : HN_METRIC_LOGPS_REJECTED,
                       pol.sum[i], 1);
        }
        add_metric(out, HN_METRIC_KL, z, 1);
    }
    if (s == HN_OK && train)
        s = hn_model_backward_tokens(tr->model, dlosses, err);
    g_free(dlosses);
    row_logps_clear(&ref);
    row_logps_clear(&pol_kl);
    row_logps_clear(&pol);
    hn_batch_buffers_clear(&kl_buf);
    hn_batch_buffers_clear(&target_buf);
    g_free(rows);
    return s;
}

hn_status hn_trainer_pref_batch(hn_trainer *tr, const hn_sft_data *data, const size_t *order,
                                size_t first, size_t count, bool train, double scale,
                                hn_pref_batch *out, hn_error *err)
{
    const char *stage = tr->args->stage;
    if (strcmp(stage, "kto") == 0)
        return kto_batch(tr, data, order, first, count, train, scale, out, err);
    size_t *rows = item_rows(order, first, count);
    hn_batch batch;
    hn_trainer_make_batch(data, rows, 0, 2 * count, tr->pad_id, &tr->batch_buffers, &batch);
    out->tokens += (int64_t)batch.B * batch.T;
    hn_status s = strcmp(stage, "rm") == 0
                      ? rm_batch(tr, data, &batch, rows, train, scale, out, err)
                      : dpo_batch(tr, &batch, train, scale, out, err);
    g_free(rows);
    return s;
}
