/* Properties of the CPU backend's ops that need no reference: every backward against central
 * finite differences of its own forward, dropout's promises, and results that do not depend
 * on the thread count. */
#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#include <string.h>

#include "backend.h"
#include "backend_cases.h"

static const hn_backend *cpu(void)
{
    return hn_cpu_backend();
}

/* ---- finite differences: each backward against central differences of its own forward -- */

/* The scalar whose gradient a backward computes: sum(out * dout), in double. */
static double weighted_sum(const float *out, const float *dout, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)out[i] * dout[i];
    return sum;
}

typedef double (*forward_loss)(const void *state); /* runs the forward, returns the scalar */

/* grad[i] against (loss(x[i] + h) - loss(x[i] - h)) / (2h) at 16 elements spread over x:
 * |difference - grad| <= tol * (|grad| + rms(grad)) (the fp32 forward's rounding divided by
 * 2h sets the floor). */
static void check_finite_differences(const char *what, float *x, const float *grad, size_t n,
                                     forward_loss loss, const void *state, double h, double tol)
{
    double squared = 0.0;
    for (size_t i = 0; i < n; i++)
        squared += (double)grad[i] * grad[i];
    double rms = sqrt(squared / (double)n), worst = 0.0;
    for (size_t k = 0; k < 16; k++) {
        size_t i = (k * 7919 + 13) % n;
        float saved = x[i];
        x[i] = (float)(saved + h);
        double plus = loss(state), step = x[i];
        x[i] = (float)(saved - h);
        double minus = loss(state);
        step -= x[i]; /* the step fp32 could represent */
        x[i] = saved;
        double difference = (plus - minus) / step;
        if (!isfinite(difference) || !isfinite(grad[i]))
            g_error("%s[%zu]: not finite (finite difference %g, backward %g)", what, i,
                    difference, grad[i]);
        double error = fabs(difference - grad[i]) / (fabs(grad[i]) + rms);
        worst = fmax(worst, error);
        if (error > tol)
            g_error("%s[%zu]: finite difference %.6g, backward %.6g (error %.2e of |grad| + rms "
                    "%.3g, at most %.0e)", what, i, difference, grad[i], error, rms, tol);
    }
    g_test_message("%s: finite differences (h %.0e) within %.2e of |grad| + rms (at most %.0e)",
                   what, h, worst, tol);
}

static void zero_floats(float *x, size_t n)
{
    memset(x, 0, n * sizeof *x);
}

/* Step and tolerance: the largest error measured is 1.1e-4 (rmsnorm dinp). */
static const double fd_step = 1e-2, fd_tol = 1e-3;

typedef struct {
    const matmul_params *p;
    matmul_case *m;
} matmul_state;

static double matmul_loss(const void *state)
{
    const matmul_state *s = state;
    const matmul_params *p = s->p;
    cpu()->matmul_forward(s->m->out, s->m->inp, s->m->weight, p->weight_type, s->m->bias, p->N,
                          p->C, p->OC);
    return weighted_sum(s->m->out, s->m->dout, (size_t)p->N * p->OC);
}

typedef struct {
    const rmsnorm_params *p;
    rmsnorm_case *r;
} rmsnorm_state;

static double rmsnorm_loss(const void *state)
{
    const rmsnorm_state *s = state;
    cpu()->rmsnorm_forward(s->r->out, NULL, s->r->inp, s->r->weight, (float)s->p->eps, s->p->N,
                           s->p->C);
    return weighted_sum(s->r->out, s->r->dout, (size_t)s->p->N * s->p->C);
}

typedef struct {
    const swiglu_params *p;
    swiglu_case *g;
} swiglu_state;

static double swiglu_loss(const void *state)
{
    const swiglu_state *s = state;
    cpu()->swiglu_forward(s->g->out, s->g->gate, s->g->up, s->p->N, s->p->H);
    return weighted_sum(s->g->out, s->g->dout, (size_t)s->p->N * s->p->H);
}

typedef struct {
    const rope_params *p;
    rope_case *r;
} rope_state;

static double rope_loss(const void *state)
{
    const rope_state *s = state;
    const rope_params *p = s->p;
    cpu()->rope_forward(s->r->out, s->r->inp, s->r->positions, s->r->inv_freq,
                        (float)p->attention_factor, p->B, p->T, p->NH, p->HD);
    return weighted_sum(s->r->out, s->r->dout, (size_t)p->B * p->T * p->NH * p->HD);
}

typedef struct {
    const attention_params *p;
    attention_case *a;
} attention_state;

static double attention_loss(const void *state)
{
    const attention_state *s = state;
    const attention_params *p = s->p;
    cpu()->attention_forward(s->a->out, s->a->lse, s->a->q, s->a->k, s->a->v, s->a->doc_start,
                             (float)p->scale, p->window, p->B, p->T, p->NH, p->NKV, p->HD);
    return weighted_sum(s->a->out, s->a->dout, (size_t)p->B * p->T * p->NH * p->HD);
}

typedef struct {
    const cross_entropy_params *p;
    cross_entropy_case *e;
} cross_entropy_state;

static double cross_entropy_loss(const void *state)
{
    const cross_entropy_state *s = state;
    const cross_entropy_params *p = s->p;
    cpu()->cross_entropy_forward(s->e->losses, s->e->lse, s->e->hidden, s->e->weight,
                                 p->weight_type, s->e->targets, p->N, p->C, p->V);
    return weighted_sum(s->e->losses, s->e->dlosses, (size_t)p->N);
}

typedef struct {
    const dora_params *p;
    dora_case *d;
} dora_state;

/* The norm stays what dora_norm_forward gave: it is a constant to the backward. */
static double dora_loss(const void *state)
{
    const dora_state *s = state;
    const dora_params *p = s->p;
    cpu()->dora_scale_forward(s->d->out, s->d->inp, s->d->magnitude, s->d->norm, s->d->bias,
                              p->N, p->OC);
    return weighted_sum(s->d->out, s->d->dout, (size_t)p->N * p->OC);
}

/* Every backward with fp32 inputs against its forward (gradients start at zero here). */
static void test_finite_differences(void)
{
    op_case c;
    const matmul_params *mp = &matmul_cases[0];
    matmul_case m = make_matmul(&c, mp);
    zero_floats(m.dinp, (size_t)mp->N * mp->C);
    zero_floats(m.dweight, (size_t)mp->OC * mp->C);
    zero_floats(m.dbias, (size_t)mp->OC);
    cpu()->matmul_backward(m.dinp, m.dweight, m.dbias, m.dout, m.inp, m.weight, mp->weight_type,
                           mp->N, mp->C, mp->OC);
    matmul_state ms = {mp, &m};
    check_finite_differences("matmul dinp", m.inp, m.dinp, (size_t)mp->N * mp->C, matmul_loss,
                             &ms, fd_step, fd_tol);
    check_finite_differences("matmul dweight", m.weight, m.dweight, (size_t)mp->OC * mp->C,
                             matmul_loss, &ms, fd_step, fd_tol);
    check_finite_differences("matmul dbias", m.bias, m.dbias, (size_t)mp->OC, matmul_loss, &ms,
                             fd_step, fd_tol);
    case_clear(&c);

    const rmsnorm_params *rp = &rmsnorm_cases[0];
    rmsnorm_case r = make_rmsnorm(&c, rp);
    zero_floats(r.dinp, (size_t)rp->N * rp->C);
    zero_floats(r.dweight, (size_t)rp->C);
    cpu()->rmsnorm_forward(r.out, r.rstd, r.inp, r.weight, (float)rp->eps, rp->N, rp->C);
    cpu()->rmsnorm_backward(r.dinp, r.dweight, r.dout, r.inp, r.weight, r.rstd, rp->N, rp->C);
    rmsnorm_state rs = {rp, &r};
    check_finite_differences("rmsnorm dinp", r.inp, r.dinp, (size_t)rp->N * rp->C, rmsnorm_loss,
                             &rs, fd_step, fd_tol);
    check_finite_differences("rmsnorm dweight", r.weight, r.dweight, (size_t)rp->C,
                             rmsnorm_loss, &rs, fd_step, fd_tol);
    case_clear(&c);

    const swiglu_params *sp = &swiglu_cases[0];
    swiglu_case g = make_swiglu(&c, sp);
    size_t hidden = (size_t)sp->N * sp->H;
    zero_floats(g.dgate, hidden);
    zero_floats(g.dup, hidden);
    cpu()->swiglu_backward(g.dgate, g.dup, g.dout, g.gate, g.up, sp->N, sp->H);
    swiglu_state ss = {sp, &g};
    check_finite_differences("swiglu dgate", g.gate, g.dgate, hidden, swiglu_loss, &ss, fd_step,
                             fd_tol);
    check_finite_differences("swiglu dup", g.up, g.dup, hidden, swiglu_loss, &ss, fd_step,
                             fd_tol);
    case_clear(&c);

    const rope_params *pp = &rope_cases[0];
    rope_case o = make_rope(&c, pp);
    size_t numel = (size_t)pp->B * pp->T * pp->NH * pp->HD;
    zero_floats(o.dinp, numel);
    cpu()->rope_backward(o.dinp, o.dout, o.positions, o.inv_freq, (float)pp->attention_factor,
                         pp->B, pp->T, pp->NH, pp->HD);
    rope_state os = {pp, &o};
    check_finite_differences("rope dinp", o.inp, o.dinp, numel, rope_loss, &os, fd_step, fd_tol);
    case_clear(&c);

    for (size_t i = 2; i < G_N_ELEMENTS(attention_cases); i++) { /* packed, window, MHA + window */
        const attention_params *ap = &attention_cases[i];
        attention_case a = make_attention(&c, ap);
        size_t q_size = (size_t)ap->B * ap->T * ap->NH * ap->HD;
        size_t kv_size = (size_t)ap->B * ap->T * ap->NKV * ap->HD;
        zero_floats(a.dq, q_size);
        zero_floats(a.dk, kv_size);
        zero_floats(a.dv, kv_size);
        attention_state as = {ap, &a};
        attention_loss(&as);
        cpu()->attention_backward(a.dq, a.dk, a.dv, a.dout, a.q, a.k, a.v, a.out, a.lse,
                                  a.doc_start, (float)ap->scale, ap->window, ap->B, ap->T,
                                  ap->NH, ap->NKV, ap->HD);
        char what[64];
        g_snprintf(what, sizeof what, "%s dq", ap->name);
        check_finite_differences(what, a.q, a.dq, q_size, attention_loss, &as, fd_step, fd_tol);
        g_snprintf(what, sizeof what, "%s dk", ap->name);
        check_finite_differences(what, a.k, a.dk, kv_size, attention_loss, &as, fd_step, fd_tol);
        g_snprintf(what, sizeof what, "%s dv", ap->name);
        check_finite_differences(what, a.v, a.dv, kv_size, attention_loss, &as, fd_step, fd_tol);
        case_clear(&c);
    }

    const dora_params *dp = &dora_cases[0];
    dora_case d = make_dora(&c, dp);
    zero_floats(d.dinp, (size_t)dp->N * dp->OC);
    zero_floats(d.dmagnitude, (size_t)dp->OC);
    zero_floats(d.dbias, (size_t)dp->OC);
    cpu()->dora_norm_forward(d.norm, d.weight, dp->weight_type, d.lora_a, d.lora_b,
                             (float)dp->scaling, dp->C, dp->OC, dp->r);
    cpu()->dora_scale_backward(d.dinp, d.dmagnitude, d.dbias, d.dout, d.inp, d.magnitude, d.norm,
                               dp->N, dp->OC);
    dora_state ds = {dp, &d};
    check_finite_differences("dora_scale dinp", d.inp, d.dinp, (size_t)dp->N * dp->OC, dora_loss,
                             &ds, fd_step, fd_tol);
    check_finite_differences("dora_scale dmagnitude", d.magnitude, d.dmagnitude, (size_t)dp->OC,
                             dora_loss, &ds, fd_step, fd_tol);
    check_finite_differences("dora_scale dbias", d.bias, d.dbias, (size_t)dp->OC, dora_loss, &ds,
                             fd_step, fd_tol);
    case_clear(&c);

    const cross_entropy_params *ep = &cross_entropy_cases[0];
    cross_entropy_case e = make_cross_entropy(&c, ep);
    zero_floats(e.dhidden, (size_t)ep->N * ep->C);
    zero_floats(e.dweight, (size_t)ep->V * ep->C);
    cross_entropy_state es = {ep, &e};
    cross_entropy_loss(&es);
    cpu()->cross_entropy_backward(e.dhidden, e.dweight, e.dlosses, e.hidden, e.weight,
                                  ep->weight_type, e.targets, e.lse, ep->N, ep->C, ep->V);
    check_finite_differences("cross_entropy dhidden", e.hidden, e.dhidden, (size_t)ep->N * ep->C,
                             cross_entropy_loss, &es, fd_step, fd_tol);
    check_finite_differences("cross_entropy dweight", e.weight, e.dweight, (size_t)ep->V * ep->C,
                             cross_entropy_loss, &es, fd_step, fd_tol);
    case_clear(&c);
}

/* Dropout cannot match torch's generator, so it is checked for what it promises: the keep
 * rate, kept values scaled by exactly 1 / (1 - p), the backward on the same mask, a mask that
 * depends on the seed, and p = 0 as the identity. */
static void test_dropout(void)
{
    op_case c;
    case_init(&c, "dropout", "dropout");
    const size_t n = 200003;
    const float p = 0.1f, scale = 1.0f / (1.0f - p);
    const float *inp = case_floats(&c, "inp", n, 1.0);
    const float *dout = case_floats(&c, "dout", n, 1.0);
    const float *dinp_init = case_floats(&c, "dinp_init", n, 1.0);
    float *out = case_scratch(&c, "out", n), *dinp = case_scratch(&c, "dinp", n);
    memcpy(dinp, dinp_init, n * sizeof *dinp);
    cpu()->dropout_forward(out, inp, p, 1234, n);
    cpu()->dropout_backward(dinp, dout, p, 1234, n);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool keep = out[i] != 0.0f;
        kept += keep;
        g_assert_cmpfloat(out[i], ==, keep ? inp[i] * scale : 0.0f);
        g_assert_cmpfloat(dinp[i], ==, keep ? dinp_init[i] + dout[i] * scale : dinp_init[i]);
    }
    double rate = (double)kept / (double)n, sigma = sqrt(p * (1.0 - p) / (double)n);
    g_test_message("dropout p %.2f: kept %.5f (expected %.5f +- %.5f)", p, rate, 1.0 - p, sigma);
    g_assert_cmpfloat(fabs(rate - (1.0 - p)), <, 5 * sigma);

    float *other = case_scratch(&c, "other", n);
    cpu()->dropout_forward(other, inp, p, 1235, n);
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        differ += (other[i] != 0.0f) != (out[i] != 0.0f);
    /* two independent masks differ in 2 p (1 - p) of the elements */
    g_assert_cmpfloat(fabs((double)differ / (double)n - 2 * p * (1 - p)), <, 0.01);

    cpu()->dropout_forward(other, inp, 0.0f, 1234, n);
    g_assert_cmpmem(other, n * sizeof(float), inp, n * sizeof(float));
    case_clear(&c);
}

/* A copy of an op's result, to compare runs. */
typedef struct {
    float *data;
    size_t n;
} snapshot;

static snapshot snap(const float *x, size_t n)
{
    snapshot copy = {g_memdup2(x, n * sizeof *x), n};
    return copy;
}

/* The ops with reductions of their own give the same bits on 1 thread and on 3. */
static void test_thread_count_independence(void)
{
    enum { RESULTS = 11 };
    int threads[2] = {1, 3}, before = omp_get_max_threads();
    snapshot results[2][RESULTS];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(threads[run]);
        op_case c;
        const rmsnorm_params *rp = &rmsnorm_cases[1];
        rmsnorm_case r = make_rmsnorm(&c, rp);
        cpu()->rmsnorm_forward(r.out, r.rstd, r.inp, r.weight, (float)rp->eps, rp->N, rp->C);
        cpu()->rmsnorm_backward(r.dinp, r.dweight, r.dout, r.inp, r.weight, r.rstd, rp->N, rp->C);
        results[run][0] = snap(r.dinp, (size_t)rp->N * rp->C);
        results[run][1] = snap(r.dweight, (size_t)rp->C);
        case_clear(&c);

        const embedding_params *ep = &embedding_cases[0];
        embedding_case e = make_embedding(&c, ep);
        cpu()->embedding_backward(e.dtable, e.dout, e.ids, ep->N, ep->C);
        results[run][2] = snap(e.dtable, (size_t)ep->V * ep->C);
        float sum_squares = 0.0f;
        cpu()->norm_squared_accumulate(&sum_squares, e.dtable, (size_t)ep->V * ep->C);
        results[run][3] = snap(&sum_squares, 1);
        case_clear(&c);

        const attention_params *ap = &attention_cases[2];
        attention_case a = make_attention(&c, ap);
        size_t tokens = (size_t)ap->B * ap->T;
        cpu()->attention_forward(a.out, a.lse, a.q, a.k, a.v, a.doc_start, (float)ap->scale,
                                 ap->window, ap->B, ap->T, ap->NH, ap->NKV, ap->HD);
        cpu()->attention_backward(a.dq, a.dk, a.dv, a.dout, a.q, a.k, a.v, a.out, a.lse,
                                  a.doc_start, (float)ap->scale, ap->window, ap->B, ap->T,
                                  ap->NH, ap->NKV, ap->HD);
        results[run][4] = snap(a.out, tokens * ap->NH * ap->HD);
        results[run][5] = snap(a.dq, tokens * ap->NH * ap->HD);
        results[run][6] = snap(a.dk, tokens * ap->NKV * ap->HD);
        results[run][7] = snap(a.dv, tokens * ap->NKV * ap->HD);
        results[run][8] = snap(a.lse, tokens * ap->NH);
        case_clear(&c);

        const dora_params *dp = &dora_cases[1];
        dora_case d = make_dora(&c, dp);
        cpu()->dora_norm_forward(d.norm, d.weight, dp->weight_type, d.lora_a, d.lora_b,
                                 (float)dp->scaling, dp->C, dp->OC, dp->r);
        cpu()->dora_scale_backward(d.dinp, d.dmagnitude, d.dbias, d.dout, d.inp, d.magnitude,
                                   d.norm, dp->N, dp->OC);
        results[run][9] = snap(d.norm, (size_t)dp->OC);
        results[run][10] = snap(d.dmagnitude, (size_t)dp->OC);
        case_clear(&c);
    }
    omp_set_num_threads(before);
    for (int i = 0; i < RESULTS; i++) {
        g_assert_cmpmem(results[0][i].data, results[0][i].n * sizeof(float), results[1][i].data,
                        results[1][i].n * sizeof(float));
        g_free(results[0][i].data);
        g_free(results[1][i].data);
    }
}

/* ---- memory: big buffers on transparent huge pages ----------------------------------- */

/* Whether the kernel offers transparent huge pages to a region that asks (mode "always" or
 * "madvise"). */
static bool huge_pages_offered(void)
{
    char *mode = NULL;
    bool offered = g_file_get_contents("/sys/kernel/mm/transparent_hugepage/enabled", &mode,
                                       NULL, NULL) &&
                   (strstr(mode, "[always]") != NULL || strstr(mode, "[madvise]") != NULL);
    g_free(mode);
    return offered;
}

/* The THPeligible line of the mapping that holds address, from /proc/self/smaps: 1, 0, or -1
 * when the file or the line is missing. */
static int thp_eligible(const void *address)
{
    char *smaps = NULL;
    if (!g_file_get_contents("/proc/self/smaps", &smaps, NULL, NULL))
        return -1;
    int eligible = -1;
    bool inside = false;
    char **lines = g_strsplit(smaps, "\n", -1);
    for (char **line = lines; *line != NULL; line++) {
        unsigned long lo, hi;
        if (sscanf(*line, "%lx-%lx ", &lo, &hi) == 2 && strchr(*line, ':') != NULL &&
            strchr(*line, '-') < strchr(*line, ' '))
            inside = (uintptr_t)address >= lo && (uintptr_t)address < hi;
        else if (inside && g_str_has_prefix(*line, "THPeligible:"))
            eligible = atoi(*line + strlen("THPeligible:"));
    }
    g_strfreev(lines);
    g_free(smaps);
    return eligible;
}

/* A buffer of 2 MiB or more starts on a 2 MiB boundary and, where the kernel offers THP, is
 * eligible for huge pages (cpu_backend.c asks with madvise); a small one is cache-line
 * aligned only. */
static void test_huge_pages(void)
{
    const hn_backend *be = cpu();
    size_t huge = 2u << 20, bytes = 5u << 20;
    char *big = be->alloc(bytes), *small = be->alloc(1000);
    g_assert_nonnull(big);
    g_assert_nonnull(small);
    g_assert_cmpuint((uintptr_t)big % huge, ==, 0);
    g_assert_cmpuint((uintptr_t)small % 64, ==, 0);
    memset(big, 1, bytes);
    int eligible = thp_eligible(big);
    g_test_message("THP offered: %d, the buffer's THPeligible: %d", huge_pages_offered(),
                   eligible);
    if (huge_pages_offered() && eligible >= 0)
        g_assert_cmpint(eligible, ==, 1);
    be->free(small);
    be->free(big);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kernels/cpu/finite_differences", test_finite_differences);
    g_test_add_func("/kernels/cpu/dropout", test_dropout);
    g_test_add_func("/kernels/cpu/thread_count_independence", test_thread_count_independence);
    g_test_add_func("/kernels/cpu/huge_pages", test_huge_pages);
    return g_test_run();
}
