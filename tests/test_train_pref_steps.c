/* The first optimizer steps of `hone train --stage dpo|rm|kto` against the real TRL 0.24
 * DPOTrainer and LLaMA-Factory's CustomDPOTrainer, PairwiseTrainer and CustomKTOTrainer.
 * tests/reference/pref_steps_ref.py makes a tiny random fp32 Llama with SmolLM2's tokenizer,
 * encodes the first rows of dpo_en_demo / kto_en_demo with LLaMA-Factory's get_dataset, runs the
 * reference trainers (pref_train_ref.py: no dropout, file order, constant learning rate, AdamW
 * without weight decay) and gives the `hone train` arguments of the same runs (LoRA cases
 * continue the adapter PEFT initialised for the reference, rm also its value head). Here every
 * step's loss, grad_norm (before clipping) and metrics in trainer_state.json's log_history must
 * agree.
 *
 * Cases (pref_steps_ref.py CASES): dpo sigmoid LoRA with gradient accumulation 2 and both steps
 * clipped, sigmoid full fine-tuning (a frozen copy as reference), hinge and ipo as TRL computes
 * them, orpo, simpo and sigmoid + pref_ftx as LLaMA-Factory does, rm LoRA, kto LoRA with
 * accumulation 2 and pref_ftx.
 *
 * Metrics: dpo and rm as means over the micro-batches (TRL's stored metrics); rm only
 * "accuracy" (Hone logs no rm rewards); kto rewards/logps per example (upstream's sums over its
 * counts) and "kl": Hone logs the mean over the step's micro-batches where LLaMA-Factory's log()
 * sums them, so upstream's kl is divided by the micro-batches per step here. Hone logs no
 * logits metrics (nor orpo's sft_loss / odds_ratio_loss). */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "test_util.h"

/* Relative tolerances (fp32 both sides). Reached (worst of the plain and the sanitizer
 * builds): loss 3.5e-6, grad_norm 2.2e-6, logps 1.7e-7, rewards / margins / kl 2.8e-4 of
 * max(|value|, 0.01) (beta times the difference of two log-probs of about -200 each: their
 * fp32 rounding shows), accuracies exact. */
#define LOSS_TOL 2e-5
#define GRAD_NORM_TOL 2e-5
#define LOGPS_TOL 1e-6
#define REWARD_TOL 1e-3
#define REWARD_FLOOR 0.01

static const char *const DPO_METRICS[] = {"rewards/chosen", "rewards/rejected",
                                          "rewards/accuracies", "rewards/margins",
                                          "logps/chosen", "logps/rejected", NULL};
static const char *const RM_METRICS[] = {"accuracy", NULL};
static const char *const KTO_METRICS[] = {"rewards/chosen", "rewards/rejected", "rewards/margins",
                                          "logps/chosen", "logps/rejected", "kl", NULL};

static char *ref_dir;
static cJSON *expected;

static double relative(double got, double want, double floor)
{
    return fabs(got - want) / fmax(fabs(want), floor);
}

/* Hone's log_history entries that have a loss (the step logs). */
static cJSON *step_logs(const char *output)
{
    char *path = g_build_filename(output, "trainer_state.json", NULL);
    cJSON *state = test_load_json(path);
    cJSON *steps = cJSON_CreateArray();
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItem(state, "log_history"))
        if (cJSON_GetObjectItem(entry, "loss") != NULL)
            cJSON_AddItemToArray(steps, cJSON_Duplicate(entry, true));
    cJSON_Delete(state);
    g_free(path);
    return steps;
}

static double number(const cJSON *object, const char *key, const char *where)
{
    const cJSON *item = cJSON_GetObjectItem(object, key);
    if (!cJSON_IsNumber(item))
        g_error("%s: no number \"%s\"", where, key);
    return item->valuedouble;
}

static void run_hone(const cJSON *c, const char *output)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)g_getenv("HONE_BIN"));
    g_ptr_array_add(argv, "train");
    const cJSON *arg;
    cJSON_ArrayForEach(arg, cJSON_GetObjectItem(c, "hone_args"))
        g_ptr_array_add(argv, arg->valuestring);
    g_ptr_array_add(argv, "--output_dir");
    g_ptr_array_add(argv, (char *)output);
    g_ptr_array_add(argv, NULL);
    char *out = NULL, *err = NULL;
    if (test_run((char **)argv->pdata, &out, &err) != 0)
        g_error("hone train failed:\n%s%s", out, err);
    g_free(out);
    g_free(err);
    g_ptr_array_free(argv, TRUE);
}

static void run_case(gconstpointer data)
{
    const cJSON *c = data;
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    const char *stage = cJSON_GetObjectItem(c, "stage")->valuestring;
    int accum = cJSON_GetObjectItem(c, "grad_accum")->valueint;
    const char *const *metrics = strcmp(stage, "rm") == 0    ? RM_METRICS
                                 : strcmp(stage, "kto") == 0 ? KTO_METRICS
                                                             : DPO_METRICS;
    char *output = g_build_filename(ref_dir, name, "hone", NULL);
    run_hone(c, output);
    cJSON *got_steps = step_logs(output);
    const cJSON *want_steps = cJSON_GetObjectItem(c, "steps");
    g_assert_cmpint(cJSON_GetArraySize(got_steps), ==, cJSON_GetArraySize(want_steps));
    double worst_loss = 0, worst_norm = 0, worst_logps = 0, worst_reward = 0;
    for (int i = 0; i < cJSON_GetArraySize(want_steps); i++) {
        const cJSON *got = cJSON_GetArrayItem(got_steps, i);
        const cJSON *want = cJSON_GetArrayItem(want_steps, i);
        const cJSON *want_metrics = cJSON_GetObjectItem(want, "metrics");
        char *where = g_strdup_printf("%s step %d", name, i + 1);
        g_assert_cmpint((int)number(got, "step", where), ==, i + 1);
        double loss = number(got, "loss", where), want_loss = number(want, "loss", where);
        double norm = number(got, "grad_norm", where), want_norm = number(want, "grad_norm", where);
        g_test_message("%s: loss %.7f (reference %.7f), grad_norm %.6f (%.6f)", where, loss,
                       want_loss, norm, want_norm);
        worst_loss = fmax(worst_loss, relative(loss, want_loss, 1e-12));
        worst_norm = fmax(worst_norm, relative(norm, want_norm, 1e-12));
        for (const char *const *m = metrics; *m != NULL; m++) {
            double value = number(got, *m, where), reference = number(want_metrics, *m, where);
            if (strcmp(*m, "kl") == 0)
                reference /= accum; /* upstream sums the micro-batches' kl, Hone averages */
            g_test_message("%s: %s %.7g (reference %.7g)", where, *m, value, reference);
            if (strstr(*m, "accurac") != NULL)
                g_assert_cmpfloat(fabs(value - reference), <=, 1e-9);
            else if (g_str_has_prefix(*m, "logps/"))
                worst_logps = fmax(worst_logps, relative(value, reference, 1e-12));
            else
                worst_reward = fmax(worst_reward, relative(value, reference, REWARD_FLOOR));
        }
        g_free(where);
    }
    g_test_message("%s: worst relative error: loss %.3g, grad_norm %.3g, logps %.3g, "
                   "rewards/margins/kl %.3g (of max(|value|, %g))", name, worst_loss, worst_norm,
                   worst_logps, worst_reward, REWARD_FLOOR);
    g_assert_cmpfloat(worst_loss, <=, LOSS_TOL);
    g_assert_cmpfloat(worst_norm, <=, GRAD_NORM_TOL);
    g_assert_cmpfloat(worst_logps, <=, LOGPS_TOL);
    g_assert_cmpfloat(worst_reward, <=, REWARD_TOL);
    cJSON_Delete(got_steps);
    g_free(output);
}

/* The clipping case clips (else it would not test clipping), and the steps moved the policy:
 * the last step's loss differs from the first's in every case. */
static void test_cases_exercise(void)
{
    int clipped = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(expected, "cases")) {
        clipped += cJSON_GetObjectItem(c, "clipped")->valueint;
        const cJSON *steps = cJSON_GetObjectItem(c, "steps");
        double first = cJSON_GetObjectItem(cJSON_GetArrayItem(steps, 0), "loss")->valuedouble;
        double last = cJSON_GetObjectItem(cJSON_GetArrayItem(steps, cJSON_GetArraySize(steps) - 1),
                                          "loss")->valuedouble;
        g_assert_cmpfloat(fabs(last - first), >, 1e-4);
    }
    g_assert_cmpint(clipped, >, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ref_dir = test_make_tmpdir();
    const char *args[] = {"write", g_getenv("HONE_MODELS"), ref_dir, NULL};
    test_run_reference_args("pref_steps_ref.py", args);
    char *path = g_build_filename(ref_dir, "expected.json", NULL);
    expected = test_load_json(path);
    g_free(path);
    g_test_add_func("/reference/train-pref-steps/cases-exercise", test_cases_exercise);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(expected, "cases")) {
        char *test = g_strconcat("/reference/train-pref-steps/",
                                 cJSON_GetObjectItem(c, "name")->valuestring, NULL);
        g_test_add_data_func(test, c, run_case);
        g_free(test);
    }
    int status = g_test_run();
    cJSON_Delete(expected);
    test_remove_tree(ref_dir);
    g_free(ref_dir);
    return status;
}
