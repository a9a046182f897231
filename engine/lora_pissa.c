/* PiSSA factors (see lora_pissa.h) with LAPACK's SVD (sgesdd) and QR (sgeqrf/sorgqr) and
 * BLAS's sgemm from OpenBLAS, on the host: it runs once per adapted layer when LoRA starts.
 * LAPACK is column-major; a row-major W [out, in] is the column-major matrix W^T [in x out],
 * so W's SVD W = V S U^T reads off the SVD of W^T = U S V^T. */
#include "lora_pissa.h"

#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <string.h>

/* LAPACK's Fortran entry points (OpenBLAS ships them; Debian's build has no LAPACKE). */
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s,
             float *u, const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork,
             int *iwork, int *info);
void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work,
             const int *lwork, int *info);
void sorgqr_(const int *m, const int *n, const int *k, float *a, const int *lda,
             const float *tau, float *work, const int *lwork, int *info);

/* The thin SVD of the column-major m x n matrix a (destroyed): s[k], u [m x k], vt [k x n],
 * k = min(m, n). */
static hn_status svd(int m, int n, float *a, float *s, float *u, float *vt, hn_error *err)
{
    int k = MIN(m, n), lwork = -1, info = 0;
    int *iwork = g_new(int, 8 * (size_t)k);
    float query = 0;
    sgesdd_("S", &m, &n, a, &m, s, u, &m, vt, &k, &query, &lwork, iwork, &info);
    lwork = (int)query + 1;
    float *work = g_try_new(float, (size_t)lwork);
    if (info == 0 && work != NULL)
        sgesdd_("S", &m, &n, a, &m, s, u, &m, vt, &k, work, &lwork, iwork, &info);
    g_free(work);
    g_free(iwork);
    if (work == NULL)
        return hn_fail(err, HN_ERR_NOMEM, "PiSSA: out of memory for the SVD of %d x %d", m, n);
    if (info != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "PiSSA: LAPACK's SVD failed on a %d x %d weight "
                       "(info %d)", n, m, info);
    return HN_OK;
}

/* Replaces the column-major m x n matrix a (m >= n) by the Q of its QR factorisation. */
static hn_status orthonormalize(int m, int n, float *a, hn_error *err)
{
    float *tau = g_new(float, (size_t)n), query = 0;
    int lwork = -1, info = 0;
    sgeqrf_(&m, &n, a, &m, tau, &query, &lwork, &info);
    lwork = MAX((int)query, n) + 1;
    float *work = g_new(float, (size_t)lwork);
    sgeqrf_(&m, &n, a, &m, tau, work, &lwork, &info);
    if (info == 0)
        sorgqr_(&m, &n, &n, a, &m, tau, work, &lwork, &info);
    g_free(work);
    g_free(tau);
    if (info != 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "PiSSA: LAPACK's QR failed (info %d)", info);
    return HN_OK;
}

/* SplitMix64 (Steele, Lea & Flood, OOPSLA 2014) and Box-Muller: standard normal numbers. */
static double next_uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) * 0x1.0p-53;
}

static void fill_normal(float *x, size_t n, uint64_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(sqrt(-2.0 * log(next_uniform(&state))) *
                       cos(2.0 * G_PI * next_uniform(&state)));
}

/* A basis Q [out x q] (column-major) of W's range by subspace iteration. */
static hn_status range_basis(const float *W, int out, int in, int q, int niter, uint64_t seed,
                             float *Q, hn_error *err)
{
    float *R = g_new(float, (size_t)in * (size_t)q), *Y = g_new(float, (size_t)in * (size_t)q);
    fill_normal(R, (size_t)in * (size_t)q, seed);
    /* W is the column-major W^T [in x out]: W x = Trans(W^T) x */
    cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, out, q, in, 1.0f, W, in, R, in, 0.0f, Q,
                out);
    hn_status s = orthonormalize(out, q, Q, err);
    for (int i = 0; i < niter && s == HN_OK; i++) {
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, in, q, out, 1.0f, W, in, Q, out,
                    0.0f, Y, in); /* Y = W^T Q */
        s = orthonormalize(in, q, Y, err);
        if (s == HN_OK) {
            cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, out, q, in, 1.0f, W, in, Y, in,
                        0.0f, Q, out); /* Q = W Y */
            s = orthonormalize(out, q, Q, err);
        }
    }
    g_free(R);
    g_free(Y);
    return s;
}

hn_status hn_pissa_factor(const float *W, int out, int in, int r, float scaling, int niter,
                          uint64_t seed, float *A, float *B, float *W_res, hn_error *err)
{
    int k = MIN(out, in);
    if (r <= 0 || r > k)
        return hn_fail(err, HN_ERR_ARGUMENT, "PiSSA: rank %d must be 1 to %d for a %d x %d weight",
                       r, k, out, in);
    float *s = NULL, *left = NULL, *right = NULL; /* W ~ left diag(s) right^T */
    hn_status status;
    int ld_left = out, ld_right = 0;               /* left [out x r'], right^T rows */
    if (niter < 0) {                               /* full SVD of W^T = U S V^T */
        float *a = g_memdup2(W, (size_t)out * (size_t)in * sizeof(float));
        s = g_new(float, (size_t)k);
        float *u = g_new(float, (size_t)in * (size_t)k), *vt = g_new(float, (size_t)k * (size_t)out);
        status = svd(in, out, a, s, u, vt, err);
        g_free(a);
        /* W = V S U^T: left singular vectors of W are V (vt's rows), right ones U's columns */
        left = g_new(float, (size_t)out * (size_t)r);
        for (int i = 0; i < r; i++)
            for (int o = 0; o < out; o++)
                left[o + (size_t)i * out] = vt[i + (size_t)o * k];
        right = u; /* column i of U (length in) at u + i * in */
        ld_right = in;
        g_free(vt);
    } else { /* randomized: basis Q of range(W), SVD of the small Q^T W [q x in] */
        float *Q = g_new(float, (size_t)out * (size_t)r);
        status = range_basis(W, out, in, r, niter, seed, Q, err);
        float *small = g_new(float, (size_t)r * (size_t)in), *ub = g_new(float, (size_t)r * r);
        float *vbt = g_new(float, (size_t)r * (size_t)in);
        s = g_new(float, (size_t)r);
        if (status == HN_OK) {
            cblas_sgemm(CblasColMajor, CblasTrans, CblasTrans, r, in, out, 1.0f, Q, out, W, in,
                        0.0f, small, r); /* Q^T W */
            status = svd(r, in, small, s, ub, vbt, err);
        }
        left = g_new(float, (size_t)out * (size_t)r);
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, out, r, r, 1.0f, Q, out, ub, r,
                    0.0f, left, out); /* W's left vectors Q Ub */
        right = g_new(float, (size_t)in * (size_t)r); /* Vb's columns = vbt's rows */
        for (int i = 0; i < r; i++)
            for (int j = 0; j < in; j++)
                right[j + (size_t)i * in] = vbt[i + (size_t)j * r];
        ld_right = in;
        g_free(Q);
        g_free(small);
        g_free(ub);
        g_free(vbt);
    }
    if (status == HN_OK) {
        for (int i = 0; i < r; i++) {
            float root = sqrtf(s[i] / scaling);
            for (int j = 0; j < in; j++)
                A[(size_t)i * in + j] = root * right[j + (size_t)i * ld_right];
            for (int o = 0; o < out; o++)
                B[(size_t)o * r + i] = root * left[o + (size_t)i * ld_left];
        }
        if (W_res != W)
            memcpy(W_res, W, (size_t)out * (size_t)in * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, in, r, -scaling, B, r, A, in,
                    1.0f, W_res, in);
    }
    g_free(s);
    g_free(left);
    g_free(right);
    return status;
}
