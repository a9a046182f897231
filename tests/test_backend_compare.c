/* Every op of every available backend against the CPU backend on the same random cases
 * (backend_cases.h): forward and backward (gradients start random, so += is checked), the
 * optimizer, dropout masks, every weight type an op takes. Outputs within a stated normalised
 * mean squared error per op and math mode, never NaN or Inf; inputs unchanged.
 *
 * Backends: the CUDA backend on GPU 0 in each hn_gpu_math mode when it runs here, and always
 * the offset test backend (offset_backend.h), which must equal the CPU bit for bit: the
 * comparison itself is proven on machines without a GPU. Without a GPU the test says so on
 * stderr and passes; HONE_REQUIRE_GPU=1 makes that a failure (for GPU machines). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "backend_compare.h"
#include "backend_targets.h"
#include "offset_backend.h"

static const hn_backend *cpu(void)
{
    return hn_cpu_backend();
}

/* ---- the interface's entries ----------------------------------------------------------- */

/* Every entry is there, or optional (reported either way). */
static void test_entries(gconstpointer data)
{
    const hn_backend *backend = target_backend(data);
    /* the name and one function pointer per entry: a new entry of backend.h must be listed */
    g_assert_cmpuint(sizeof(hn_backend), ==,
                     sizeof(const char *) + BACKEND_ENTRIES * sizeof(void (*)(void)));
    int missing = 0;
    for (size_t i = 0; i < BACKEND_ENTRIES; i++) {
        const backend_entry *e = &backend_entries[i];
        if (backend_has(backend, e))
            continue;
        g_test_message("%s: %s missing%s", backend->name, e->name,
                       e->optional ? " (optional)" : "");
        missing += !e->optional;
    }
    if (missing > 0)
        g_error("%s: %d entries of backend.h missing (see the messages)", backend->name, missing);
}

/* Fails the test when the backend lacks an entry the case needs (optional ones skip). */
static bool needs(const hn_backend *backend, const char *const *names)
{
    for (; *names != NULL; names++) {
        const backend_entry *e = backend_entry_named(*names);
        if (backend_has(backend, e))
            continue;
        if (e->optional) {
            g_test_skip_printf("%s has no %s (optional)", backend->name, *names);
            return false;
        }
        g_error("%s: %s missing", backend->name, *names);
    }
    return true;
}

/* ---- the ops --------------------------------------------------------------------------- */

typedef struct {
    const target *t;
    const void *params;
} test_data;

#define NEEDS(...)                                                                          \
    do {                                                                                    \
        const char *names_[] = {__VA_ARGS__, NULL};                                          \
        if (!needs(target_backend(td->t), names_))                                           \
            return;                                                                         \
    } while (0)

typedef struct {
    const matmul_params *p;
    const matmul_case *m;
} matmul_state;

static void run_matmul(const hn_backend *b, const device_case *d, const void *state)
{
    const matmul_params *p = ((const matmul_state *)state)->p;
    const matmul_case *m = ((const matmul_state *)state)->m;
    b->matmul_forward(on(d, m->out), on(d, m->inp), on(d, m->weight), p->weight_type,
                      on(d, m->bias), p->N, p->C, p->OC);
    b->matmul_backward(on(d, m->dinp), on(d, m->dweight), on(d, m->dbias), on(d, m->dout),
                       on(d, m->inp), on(d, m->weight), p->weight_type, p->N, p->C, p->OC);
}

static void test_matmul(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("matmul_forward", "matmul_backward");
    op_case c;
    matmul_case m = make_matmul(&c, td->params);
    matmul_state s = {td->params, &m};
    compare_on_target(td->t, &c, "matmul", run_matmul, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const block_matvec_params *p;
    const block_matvec_case *m;
} block_matvec_state;

static void run_block_matvec_int8(const hn_backend *b, const device_case *d, const void *state)
{
    const block_matvec_params *p = ((const block_matvec_state *)state)->p;
    const block_matvec_case *m = ((const block_matvec_state *)state)->m;
    b->block_matvec_int8(on(d, m->int8_out[0]), on(d, m->inp), on(d, m->weight[0]),
                         HN_WEIGHT_Q8_0, on(d, m->bias0), p->C, p->OC0);
    b->block_matvec_int8(on(d, m->int8_out[1]), on(d, m->inp), on(d, m->weight[1]),
                         HN_WEIGHT_Q4_1, NULL, p->C, p->OC1);
}

/* Group products into `out` (group_out or group_int8_out). */
static void run_group(const hn_backend *b, const device_case *d, const block_matvec_params *p,
                      const block_matvec_case *m, float *const out[2], bool int8)
{
    hn_matvec_part parts[2] = {
        {on(d, out[0]), on(d, m->weight[0]), HN_WEIGHT_Q8_0, on(d, m->bias0), p->OC0},
        {on(d, out[1]), on(d, m->weight[1]), HN_WEIGHT_Q4_1, NULL, p->OC1},
    };
    b->block_matvec_group(parts, 2, on(d, m->inp), int8, p->C);
}

static void run_block_matvec_group(const hn_backend *b, const device_case *d, const void *state)
{
    const block_matvec_state *s = state;
    run_group(b, d, s->p, s->m, s->m->group_out, false);
}

static void run_block_matvec_group_int8(const hn_backend *b, const device_case *d,
                                        const void *state)
{
    const block_matvec_state *s = state;
    run_group(b, d, s->p, s->m, s->m->group_int8_out, true);
}

/* The optional one-row block products, each apart (the scratch arrays another part does not
 * write stay as they were on both sides). */
static void test_block_matvec_int8(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("block_matvec_int8");
    op_case c;
    block_matvec_case m = make_block_matvec(&c, td->params);
    block_matvec_state s = {td->params, &m};
    compare_on_target(td->t, &c, "block_matvec_int8", run_block_matvec_int8, &s, NULL);
    case_clear(&c);
}

static void test_block_matvec_group(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("block_matvec_group");
    op_case c;
    block_matvec_case m = make_block_matvec(&c, td->params);
    block_matvec_state s = {td->params, &m};
    compare_on_target(td->t, &c, "block_matvec", run_block_matvec_group, &s, NULL);
    case_clear(&c);
    m = make_block_matvec(&c, td->params);
    compare_on_target(td->t, &c, "block_matvec_int8", run_block_matvec_group_int8, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const embedding_params *p;
    const embedding_case *e;
} embedding_state;

static void run_embedding(const hn_backend *b, const device_case *d, const void *state)
{
    const embedding_params *p = ((const embedding_state *)state)->p;
    const embedding_case *e = ((const embedding_state *)state)->e;
    b->embedding_forward(on(d, e->out), on(d, e->ids), on(d, e->table), p->table_type, p->N,
                         p->C);
    b->embedding_backward(on(d, e->dtable), on(d, e->dout), on(d, e->ids), p->N, p->C);
}

static void test_embedding(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("embedding_forward", "embedding_backward");
    op_case c;
    embedding_case e = make_embedding(&c, td->params);
    embedding_state s = {td->params, &e};
    compare_on_target(td->t, &c, "embedding", run_embedding, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const rmsnorm_params *p;
    const rmsnorm_case *r;
} rmsnorm_state;

static void run_rmsnorm(const hn_backend *b, const device_case *d, const void *state)
{
    const rmsnorm_params *p = ((const rmsnorm_state *)state)->p;
    const rmsnorm_case *r = ((const rmsnorm_state *)state)->r;
    b->rmsnorm_forward(on(d, r->out), on(d, r->rstd), on(d, r->inp), on(d, r->weight),
                       (float)p->eps, p->N, p->C);
    b->rmsnorm_backward(on(d, r->dinp), on(d, r->dweight), on(d, r->dout), on(d, r->inp),
                        on(d, r->weight), on(d, r->rstd), p->N, p->C);
}

static void test_rmsnorm(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("rmsnorm_forward", "rmsnorm_backward");
    op_case c;
    rmsnorm_case r = make_rmsnorm(&c, td->params);
    rmsnorm_state s = {td->params, &r};
    compare_on_target(td->t, &c, "rmsnorm", run_rmsnorm, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const swiglu_params *p;
    const swiglu_case *g;
} swiglu_state;

static void run_swiglu(const hn_backend *b, const device_case *d, const void *state)
{
    const swiglu_params *p = ((const swiglu_state *)state)->p;
    const swiglu_case *g = ((const swiglu_state *)state)->g;
    b->swiglu_forward(on(d, g->out), on(d, g->gate), on(d, g->up), p->N, p->H);
    b->swiglu_backward(on(d, g->dgate), on(d, g->dup), on(d, g->dout), on(d, g->gate),
                       on(d, g->up), p->N, p->H);
}

static void test_swiglu(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("swiglu_forward", "swiglu_backward");
    op_case c;
    swiglu_case g = make_swiglu(&c, td->params);
    swiglu_state s = {td->params, &g};
    compare_on_target(td->t, &c, "swiglu", run_swiglu, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const rope_params *p;
    const rope_case *r;
    float *in_place; /* a copy of inp rotated in place */
} rope_state;

static void run_rope(const hn_backend *b, const device_case *d, const void *state)
{
    const rope_state *s = state;
    const rope_params *p = s->p;
    const rope_case *r = s->r;
    float factor = (float)p->attention_factor;
    b->rope_forward(on(d, r->out), on(d, r->inp), on(d, r->positions), on(d, r->inv_freq),
                    factor, p->B, p->T, p->NH, p->HD);
    b->rope_forward(on(d, s->in_place), on(d, s->in_place), on(d, r->positions),
                    on(d, r->inv_freq), factor, p->B, p->T, p->NH, p->HD);
    b->rope_backward(on(d, r->dinp), on(d, r->dout), on(d, r->positions), on(d, r->inv_freq),
                     factor, p->B, p->T, p->NH, p->HD);
}

static void test_rope(gconstpointer data)
{
    const test_data *td = data;
    const rope_params *p = td->params;
    NEEDS("rope_forward", "rope_backward");
    op_case c;
    rope_case r = make_rope(&c, p);
    size_t numel = (size_t)p->B * p->T * p->NH * p->HD;
    rope_state s = {p, &r, case_scratch(&c, "in_place", numel)};
    memcpy(s.in_place, r.inp, numel * sizeof(float));
    compare_on_target(td->t, &c, "rope", run_rope, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const attention_params *p;
    const attention_case *a;
} attention_state;

static void run_attention(const hn_backend *b, const device_case *d, const void *state)
{
    const attention_params *p = ((const attention_state *)state)->p;
    const attention_case *a = ((const attention_state *)state)->a;
    float scale = (float)p->scale;
    b->attention_forward(on(d, a->out), on(d, a->lse), on(d, a->q), on(d, a->k), on(d, a->v),
                         on(d, a->doc_start), scale, p->window, p->B, p->T, p->NH, p->NKV,
                         p->HD);
    b->attention_backward(on(d, a->dq), on(d, a->dk), on(d, a->dv), on(d, a->dout), on(d, a->q),
                          on(d, a->k), on(d, a->v), on(d, a->out), on(d, a->lse),
                          on(d, a->doc_start), scale, p->window, p->B, p->T, p->NH, p->NKV,
                          p->HD);
}

static void test_attention(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("attention_forward", "attention_backward");
    op_case c;
    attention_case a = make_attention(&c, td->params);
    attention_state s = {td->params, &a};
    compare_on_target(td->t, &c, "attention", run_attention, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const attention_cached_params *p;
    const attention_cached_case *a;
} attention_cached_state;

static void run_attention_cached(const hn_backend *b, const device_case *d, const void *state)
{
    const attention_cached_params *p = ((const attention_cached_state *)state)->p;
    const attention_cached_case *a = ((const attention_cached_state *)state)->a;
    b->attention_cached_forward(on(d, a->out), on(d, a->q), on(d, a->k), on(d, a->v),
                                (float)p->scale, p->window, p->past, p->T, p->NH, p->NKV, p->HD);
}

static void test_attention_cached(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("attention_cached_forward");
    op_case c;
    attention_cached_case a = make_attention_cached(&c, td->params);
    attention_cached_state s = {td->params, &a};
    compare_on_target(td->t, &c, "attention_cached", run_attention_cached, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const cross_entropy_params *p;
    const cross_entropy_case *e;
} cross_entropy_state;

static void run_cross_entropy(const hn_backend *b, const device_case *d, const void *state)
{
    const cross_entropy_params *p = ((const cross_entropy_state *)state)->p;
    const cross_entropy_case *e = ((const cross_entropy_state *)state)->e;
    b->cross_entropy_forward(on(d, e->losses), on(d, e->lse), on(d, e->hidden), on(d, e->weight),
                             p->weight_type, on(d, e->targets), p->N, p->C, p->V);
    b->cross_entropy_backward(on(d, e->dhidden), on(d, e->dweight), on(d, e->dlosses),
                              on(d, e->hidden), on(d, e->weight), p->weight_type,
                              on(d, e->targets), on(d, e->lse), p->N, p->C, p->V);
}

static void test_cross_entropy(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("cross_entropy_forward", "cross_entropy_backward");
    op_case c;
    cross_entropy_case e = make_cross_entropy(&c, td->params);
    cross_entropy_state s = {td->params, &e};
    compare_on_target(td->t, &c, "cross_entropy", run_cross_entropy, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const dora_params *p;
    const dora_case *x;
    float *in_place; /* a copy of inp scaled in place */
} dora_state;

static void run_dora(const hn_backend *b, const device_case *d, const void *state)
{
    const dora_state *s = state;
    const dora_params *p = s->p;
    const dora_case *x = s->x;
    b->dora_norm_forward(on(d, x->norm), on(d, x->weight), p->weight_type, on(d, x->lora_a),
                         on(d, x->lora_b), (float)p->scaling, p->C, p->OC, p->r);
    b->dora_scale_forward(on(d, x->out), on(d, x->inp), on(d, x->magnitude), on(d, x->norm),
                          on(d, x->bias), p->N, p->OC);
    b->dora_scale_forward(on(d, s->in_place), on(d, s->in_place), on(d, x->magnitude),
                          on(d, x->norm), on(d, x->bias), p->N, p->OC);
    b->dora_scale_backward(on(d, x->dinp), on(d, x->dmagnitude), on(d, x->dbias), on(d, x->dout),
                           on(d, x->inp), on(d, x->magnitude), on(d, x->norm), p->N, p->OC);
}

static void test_dora(gconstpointer data)
{
    const test_data *td = data;
    const dora_params *p = td->params;
    NEEDS("dora_norm_forward", "dora_scale_forward", "dora_scale_backward");
    op_case c;
    dora_case x = make_dora(&c, p);
    size_t n = (size_t)p->N * p->OC;
    dora_state s = {p, &x, case_scratch(&c, "in_place", n)};
    memcpy(s.in_place, x.inp, n * sizeof(float));
    compare_on_target(td->t, &c, "dora", run_dora, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const adamw_params *p;
    const adamw_case *a;
    float *sums; /* [steps] the squared gradient norm of each step */
} adamw_state;

/* The trainer's step: the norm on the backend, the clipping factor on the host, AdamW. */
static void run_adamw(const hn_backend *b, const device_case *d, const void *state)
{
    const adamw_state *s = state;
    const adamw_params *p = s->p;
    const adamw_case *a = s->a;
    for (int step = 0; step < p->steps; step++) {
        for (int i = 0; i < ADAMW_TENSORS; i++)
            b->norm_squared_accumulate(on(d, &s->sums[step]), on(d, a->grad[step][i]),
                                       (size_t)adamw_sizes[i]);
        float sum = s->sums[step];
        if (d != NULL)
            b->copy_to_host(&sum, on(d, &s->sums[step]), sizeof sum);
        float scale = hn_clip_coefficient(sqrt(sum), p->max_norm);
        for (int i = 0; i < ADAMW_TENSORS; i++)
            b->adamw_step(on(d, a->param[i]), on(d, a->m[i]), on(d, a->v[i]),
                          on(d, a->grad[step][i]), (size_t)adamw_sizes[i], p->lr, p->beta1,
                          p->beta2, p->eps, p->weight_decay, scale, step + 1);
    }
}

static void test_adamw(gconstpointer data)
{
    const test_data *td = data;
    const adamw_params *p = td->params;
    NEEDS("norm_squared_accumulate", "adamw_step");
    op_case c;
    adamw_case a = make_adamw(&c, p);
    adamw_state s = {p, &a, case_scratch(&c, "sums", (size_t)p->steps)};
    memset(s.sums, 0, (size_t)p->steps * sizeof(float));
    static const char *const params[] = {"param0", "param1", NULL};
    compare_on_target(td->t, &c, "adamw", run_adamw, &s, params);
    case_clear(&c);
}

typedef struct {
    const norm_squared_params *p;
    const norm_squared_case *n;
} norm_squared_state;

static void run_norm_squared(const hn_backend *b, const device_case *d, const void *state)
{
    const norm_squared_params *p = ((const norm_squared_state *)state)->p;
    const norm_squared_case *n = ((const norm_squared_state *)state)->n;
    b->norm_squared_accumulate(on(d, n->sum), on(d, n->x0), (size_t)p->n0);
    b->norm_squared_accumulate(on(d, n->sum), on(d, n->x1), (size_t)p->n1);
}

static void test_norm_squared(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("norm_squared_accumulate");
    op_case c;
    norm_squared_case n = make_norm_squared(&c, td->params);
    norm_squared_state s = {td->params, &n};
    compare_on_target(td->t, &c, "norm_squared", run_norm_squared, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const axpy_params *p;
    const axpy_case *a;
} axpy_state;

static void run_axpy(const hn_backend *b, const device_case *d, const void *state)
{
    const axpy_params *p = ((const axpy_state *)state)->p;
    const axpy_case *a = ((const axpy_state *)state)->a;
    b->axpy(on(d, a->y), on(d, a->x), (float)p->alpha, (size_t)p->n);
}

static void test_axpy(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("axpy");
    op_case c;
    axpy_case a = make_axpy(&c, td->params);
    axpy_state s = {td->params, &a};
    compare_on_target(td->t, &c, "axpy", run_axpy, &s, NULL);
    case_clear(&c);
}

typedef struct {
    const dropout_params *p;
    const dropout_case *x;
} dropout_state;

static void run_dropout(const hn_backend *b, const device_case *d, const void *state)
{
    const dropout_params *p = ((const dropout_state *)state)->p;
    const dropout_case *x = ((const dropout_state *)state)->x;
    size_t n = (size_t)p->n;
    b->dropout_forward(on(d, x->out), on(d, x->inp), (float)p->p, p->seed, n);
    b->dropout_forward(on(d, x->in_place), on(d, x->in_place), (float)p->p, p->seed, n);
    b->dropout_backward(on(d, x->dinp), on(d, x->dout), (float)p->p, p->seed, n);
}

/* Values within the tolerance, and the masks equal exactly: the same elements dropped (a
 * dropped output is 0, a kept one never is: inputs are never 0) and the same gradient
 * elements left exactly as they started. */
static void test_dropout(gconstpointer data)
{
    const test_data *td = data;
    const dropout_params *p = td->params;
    NEEDS("dropout_forward", "dropout_backward");
    const hn_backend *backend = target_backend(td->t);
    op_case c;
    dropout_case x = make_dropout(&c, p);
    const float *dinp_init = c.arrays[4].data; /* case_grad's NAME_init, before dinp */
    g_assert_cmpstr(c.arrays[4].name, ==, "dinp_init");
    dropout_state s = {p, &x};
    device_case d;
    device_case_upload(&d, backend, &c);
    run_dropout(cpu(), NULL, &s);
    run_dropout(backend, &d, &s);
    device_case_compare(&d, !td->t->cuda, tolerance_of(td->t, "dropout"), NULL);
    float *out = device_case_download(&d, "out"), *in_place = device_case_download(&d, "in_place");
    float *dinp = device_case_download(&d, "dinp");
    size_t dropped = 0;
    for (size_t i = 0; i < (size_t)p->n; i++) {
        bool cpu_keep = x.out[i] != 0.0f;
        dropped += !cpu_keep;
        g_assert_cmpint(cpu_keep, ==, hn_dropout_keep(p->seed, i, (float)p->p));
        if ((out[i] != 0.0f) != cpu_keep || (in_place[i] != 0.0f) != cpu_keep ||
            (dinp[i] == dinp_init[i]) == cpu_keep)
            g_error("%s on %s: element %zu's mask differs from the CPU's (kept there: %d)",
                    c.name, backend->name, i, cpu_keep);
    }
    g_test_message("%s on %s: the same %zu of %d elements dropped", c.name, backend->name,
                   dropped, p->n);
    g_free(out);
    g_free(in_place);
    g_free(dinp);
    device_case_free(&d);
    case_clear(&c);
}

/* The memory functions: copies there and back, device to device (at an offset into a
 * buffer: pointer arithmetic on device pointers), zeroing a part. */
static void test_memory(gconstpointer data)
{
    const test_data *td = data;
    NEEDS("alloc", "free", "zero", "copy_to_device", "copy_to_host", "copy", "synchronize");
    const hn_backend *b = target_backend(td->t);
    enum { N = 100003 };
    op_case c;
    case_init(&c, "memory", "memory");
    const float *x = case_floats(&c, "x", N, 1.0);
    float *back = g_new(float, N);
    float *first = b->alloc(N * sizeof(float)), *second = b->alloc(N * sizeof(float));
    g_assert_nonnull(first);
    g_assert_nonnull(second);
    b->copy_to_device(first, x, N * sizeof(float));
    b->copy(second, first, N * sizeof(float));
    b->zero(second + 1000, 3 * sizeof(float) + 2); /* not a whole number of floats */
    b->copy(second + 5, first + 7, 11 * sizeof(float));
    char message[256] = "";
    g_assert_true(b->synchronize(message, sizeof message));
    b->copy_to_host(back, second, N * sizeof(float));
    float *want = g_memdup2(x, N * sizeof(float));
    memset(want + 1000, 0, 3 * sizeof(float) + 2);
    memcpy(want + 5, x + 7, 11 * sizeof(float));
    g_assert_cmpmem(back, N * sizeof(float), want, N * sizeof(float));
    b->free(first);
    b->free(second);
    b->free(NULL);
    g_free(want);
    g_free(back);
    case_clear(&c);
}

/* The comparison fails when it should, on an axpy run wrong on purpose on the offset backend:
 * alpha one fp32 ulp off (bit for bit expected), alpha 1e-4 relative off judged by the CUDA
 * fp32 tolerance, and an output left unwritten. */
static void run_axpy_wrong(const hn_backend *b, const device_case *d, const void *state)
{
    const axpy_params *p = ((const axpy_state *)state)->p;
    const axpy_case *a = ((const axpy_state *)state)->a;
    const char *mode = g_getenv("HONE_TEST_MODE");
    float alpha = (float)p->alpha;
    if (d != NULL && strcmp(mode, "unwritten") == 0)
        return;
    if (d != NULL)
        alpha = strcmp(mode, "ulp") == 0 ? nextafterf(alpha, 1.0f) : alpha * 1.0001f;
    b->axpy(on(d, a->y), on(d, a->x), alpha, (size_t)p->n);
}

static void test_detects_differences(void)
{
    static const target exact = {"offset", false, HN_GPU_MATH_FP32};
    static const target fp32 = {"as_cuda_fp32", true, HN_GPU_MATH_FP32};
    if (g_test_subprocess()) {
        op_case c;
        axpy_case a = make_axpy(&c, &axpy_cases[0]);
        axpy_state s = {&axpy_cases[0], &a};
        device_case d;
        device_case_upload(&d, test_offset_backend(), &c);
        run_axpy_wrong(cpu(), NULL, &s);
        run_axpy_wrong(test_offset_backend(), &d, &s);
        const target *t = strcmp(g_getenv("HONE_TEST_MODE"), "relative") == 0 ? &fp32 : &exact;
        device_case_compare(&d, !t->cuda, tolerance_of(t, "axpy"), NULL);
        return; /* not reached: the comparison fails */
    }
    static const char *const modes[][2] = {{"ulp", "*expected bit for bit*"},
                                           {"relative", "*nmse*at most 1e-10*"},
                                           {"unwritten", "*expected bit for bit*"}};
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        g_setenv("HONE_TEST_MODE", modes[i][0], TRUE);
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_failed();
        g_test_trap_assert_stderr(modes[i][1]);
    }
    g_unsetenv("HONE_TEST_MODE");
}

/* ---- registration ---------------------------------------------------------------------- */

static GPtrArray *test_datas;

static void add(const target *t, const char *name, const void *params, GTestDataFunc func)
{
    test_data *td = g_new(test_data, 1);
    *td = (test_data){t, params};
    g_ptr_array_add(test_datas, td);
    char *path = g_strdup_printf("/backend_compare/%s/%s", t->label, name);
    g_test_add_data_func(path, td, func);
    g_free(path);
}

static void add_target(const target *t)
{
    char *path = g_strdup_printf("/backend_compare/%s/entries", t->label);
    g_test_add_data_func(path, t, test_entries);
    g_free(path);
    add(t, "memory", NULL, test_memory);
#define ADD(TABLE, FUNC)                                                                     \
    for (size_t i = 0; i < G_N_ELEMENTS(TABLE); i++)                                        \
        add(t, TABLE[i].name, &TABLE[i], FUNC);
    ADD(axpy_cases, test_axpy)
    ADD(matmul_cases, test_matmul)
    ADD(matmul_block_cases, test_matmul)
    for (size_t i = 0; i < G_N_ELEMENTS(block_matvec_cases); i++) {
        char *name = g_strdup_printf("%s_int8", block_matvec_cases[i].name);
        add(t, name, &block_matvec_cases[i], test_block_matvec_int8);
        g_free(name);
        name = g_strdup_printf("%s_group", block_matvec_cases[i].name);
        add(t, name, &block_matvec_cases[i], test_block_matvec_group);
        g_free(name);
    }
    ADD(embedding_cases, test_embedding)
    ADD(embedding_block_cases, test_embedding)
    ADD(rmsnorm_cases, test_rmsnorm)
    ADD(swiglu_cases, test_swiglu)
    ADD(rope_cases, test_rope)
    ADD(attention_cases, test_attention)
    ADD(attention_cached_cases, test_attention_cached)
    ADD(cross_entropy_cases, test_cross_entropy)
    ADD(cross_entropy_block_cases, test_cross_entropy)
    ADD(dropout_cases, test_dropout)
    ADD(dora_cases, test_dora)
    ADD(norm_squared_cases, test_norm_squared)
    ADD(adamw_cases, test_adamw)
#undef ADD
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_datas = g_ptr_array_new_with_free_func(g_free);
    bool require_gpu = g_strcmp0(g_getenv("HONE_REQUIRE_GPU"), "1") == 0;
    char error[512] = "";
    bool have_cuda = hn_cuda_backend(0, HN_GPU_MATH_FP32, error, sizeof error) != NULL;
    if (!have_cuda) {
        fprintf(stderr, "NO GPU: the CUDA backend was NOT checked: %s\n", error);
        if (require_gpu)
            g_error("HONE_REQUIRE_GPU=1 but the CUDA backend cannot run here: %s", error);
    }
    g_test_add_func("/backend_compare/detects_differences", test_detects_differences);
    for (size_t i = 0; i < G_N_ELEMENTS(targets); i++)
        if (!targets[i].cuda || have_cuda)
            add_target(&targets[i]);
    int status = g_test_run();
    if (!have_cuda)
        fprintf(stderr, "NO GPU: the CUDA backend was NOT checked (only the CPU against the "
                        "offset test backend): %s\n", error);
    g_ptr_array_free(test_datas, TRUE);
    return status;
}
