/* The preference losses of engine/pref_loss.c against the papers' formulas in PyTorch float64
 * with autograd's gradients (tests/reference/pref_loss_ref.py), on random log-probs: DPO's
 * sigmoid (with label smoothing), hinge and ipo as themselves, orpo, simpo, and KTO with its
 * clamped reference point. Loss, both gradients and the logged rewards agree to 1e-12
 * relative (plus 1e-14 absolute for values near zero). */
#include <math.h>
#include <string.h>

#include "pref_loss.h"
#include "test_util.h"

static char *reference_json;

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    g_assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void assert_close(const char *what, double got, double want)
{
    if (fabs(got - want) > 1e-12 * fabs(want) + 1e-14)
        g_error("%s: %.17g, PyTorch %.17g", what, got, want);
}

static hn_pref_loss_type type_of(const char *name)
{
    static const struct {
        const char *name;
        hn_pref_loss_type type;
    } types[] = {{"sigmoid", HN_PREF_SIGMOID}, {"hinge", HN_PREF_HINGE}, {"ipo", HN_PREF_IPO},
                 {"orpo", HN_PREF_ORPO},       {"simpo", HN_PREF_SIMPO}};
    for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
        if (strcmp(types[i].name, name) == 0)
            return types[i].type;
    g_error("unknown loss %s", name);
}

static void test_pairs(void)
{
    cJSON *root = test_load_json(reference_json);
    const cJSON *c;
    int seen[5] = {0};
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "pairs"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "type"));
        hn_pref_loss_options o = {type_of(name), num(c, "beta"), num(c, "label_smoothing"),
                                  num(c, "simpo_gamma")};
        hn_pref_pair p;
        hn_pref_loss_pair(&o, num(c, "chosen"), num(c, "rejected"), num(c, "ref_chosen"),
                          num(c, "ref_rejected"), &p);
        assert_close(name, p.loss, num(c, "loss"));
        assert_close(name, p.d_chosen, num(c, "d_chosen"));
        assert_close(name, p.d_rejected, num(c, "d_rejected"));
        assert_close(name, p.reward_chosen, num(c, "reward_chosen"));
        assert_close(name, p.reward_rejected, num(c, "reward_rejected"));
        seen[o.type]++;
    }
    for (int t = 0; t < 5; t++)
        g_assert_cmpint(seen[t], >=, 90); /* every loss, both parameter sets */
    cJSON_Delete(root);
}

static double *doubles(const cJSON *array, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(array);
    double *v = g_new(double, *n);
    for (size_t i = 0; i < *n; i++)
        v[i] = cJSON_GetArrayItem(array, (int)i)->valuedouble;
    return v;
}

static void test_kto(void)
{
    cJSON *root = test_load_json(reference_json);
    const cJSON *c;
    int positive = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "kto"))
    {
        hn_kto_options o = {num(c, "beta"), num(c, "desirable_weight"),
                            num(c, "undesirable_weight")};
        size_t n = 0, m = 0, k = 0;
        double *policy = doubles(cJSON_GetObjectItem(c, "policy"), &n);
        double *ref = doubles(cJSON_GetObjectItem(c, "ref"), &k);
        double *policy_kl = doubles(cJSON_GetObjectItem(c, "policy_kl"), &m);
        double *ref_kl = doubles(cJSON_GetObjectItem(c, "ref_kl"), &k);
        double z0 = hn_kto_reference_point(policy_kl, ref_kl, m);
        assert_close("kto reference point", z0, num(c, "reference_point"));
        positive += z0 > 0;
        const cJSON *desirable = cJSON_GetObjectItem(c, "desirable");
        for (size_t i = 0; i < n; i++) {
            double loss = 0, d = 0;
            hn_kto_loss(&o, cJSON_IsTrue(cJSON_GetArrayItem(desirable, (int)i)), policy[i],
                        ref[i], z0, &loss, &d);
            assert_close("kto loss", loss,
                         cJSON_GetArrayItem(cJSON_GetObjectItem(c, "loss"), (int)i)->valuedouble);
            assert_close("kto gradient", d,
                         cJSON_GetArrayItem(cJSON_GetObjectItem(c, "d_policy"), (int)i)->valuedouble);
        }
        g_free(policy);
        g_free(ref);
        g_free(policy_kl);
        g_free(ref_kl);
    }
    g_assert_cmpint(positive, ==, 1); /* one case clamped at 0, one above it */
    cJSON_Delete(root);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    char *dir = test_make_tmpdir();
    reference_json = g_build_filename(dir, "pref_loss.json", NULL);
    const char *args[] = {reference_json, NULL};
    test_run_reference_args("pref_loss_ref.py", args);
    g_test_add_func("/engine/pref_loss/pairs", test_pairs);
    g_test_add_func("/engine/pref_loss/kto", test_kto);
    int status = g_test_run();
    test_remove_tree(dir);
    g_free(dir);
    g_free(reference_json);
    return status;
}
