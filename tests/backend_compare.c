/* Comparing an op case's results on two backends (backend_compare.h). */
#include "backend_compare.h"

#include <math.h>
#include <string.h>

void device_case_upload(device_case *d, const hn_backend *backend, const op_case *c)
{
    memset(d, 0, sizeof *d);
    d->backend = backend;
    d->c = c;
    for (int i = 0; i < c->n_arrays; i++) {
        size_t bytes = c->arrays[i].bytes > 0 ? c->arrays[i].bytes : 1;
        d->device[i] = backend->alloc(bytes);
        if (d->device[i] == NULL)
            g_error("%s: %s cannot allocate %zu bytes for %s", c->name, backend->name, bytes,
                    c->arrays[i].name);
        backend->copy_to_device(d->device[i], c->arrays[i].data, c->arrays[i].bytes);
    }
}

void device_case_free(device_case *d)
{
    for (int i = 0; i < d->c->n_arrays; i++)
        d->backend->free(d->device[i]);
}

void *on(const device_case *d, const void *host)
{
    if (d == NULL || host == NULL)
        return (void *)host;
    uintptr_t address = (uintptr_t)host;
    for (int i = 0; i < d->c->n_arrays; i++) {
        uintptr_t start = (uintptr_t)d->c->arrays[i].data;
        if (address >= start && address < start + d->c->arrays[i].bytes)
            return (char *)d->device[i] + (address - start);
    }
    g_error("%s: a pointer into none of the case's arrays", d->c->name);
}

static int array_index(const op_case *c, const char *name)
{
    for (int i = 0; i < c->n_arrays; i++)
        if (strcmp(c->arrays[i].name, name) == 0)
            return i;
    g_error("%s: no array %s", c->name, name);
}

static void synchronize(const device_case *d)
{
    char message[512] = "";
    if (!d->backend->synchronize(message, sizeof message))
        g_error("%s on %s: the backend reported an error: %s", d->c->name, d->backend->name,
                message);
}

void *device_case_download(const device_case *d, const char *name)
{
    synchronize(d);
    int i = array_index(d->c, name);
    void *copy = g_malloc(d->c->arrays[i].bytes > 0 ? d->c->arrays[i].bytes : 1);
    d->backend->copy_to_host(copy, d->device[i], d->c->arrays[i].bytes);
    return copy;
}

static bool listed(const char *const *names, const char *name)
{
    for (; names != NULL && *names != NULL; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

static array_difference difference(const char *what, const float *got, const float *want,
                                   size_t n)
{
    array_difference diff = {0, 0, true};
    double squared_want = 0, squared_error = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]) || !isfinite(want[i]))
            g_error("%s[%zu]: not finite (backend %g, cpu %g)", what, i, got[i], want[i]);
        double error = (double)got[i] - want[i];
        squared_error += error * error;
        squared_want += (double)want[i] * want[i];
        diff.max_abs = fmax(diff.max_abs, fabs(error));
    }
    diff.nmse = squared_want > 0 ? squared_error / squared_want : squared_error;
    diff.bit_equal = memcmp(got, want, n * sizeof *got) == 0;
    return diff;
}

double device_case_compare(const device_case *d, bool exact, double nmse,
                           const char *const *written)
{
    synchronize(d);
    const op_case *c = d->c;
    double worst = 0;
    for (int i = 0; i < c->n_arrays; i++) {
        size_t bytes = c->arrays[i].bytes;
        void *got = g_malloc(bytes > 0 ? bytes : 1);
        d->backend->copy_to_host(got, d->device[i], bytes);
        const char *name = c->arrays[i].name;
        char *what = g_strdup_printf("%s on %s: %s", c->name, d->backend->name, name);
        if (c->arrays[i].scratch || listed(written, name)) {
            array_difference diff = difference(what, got, c->arrays[i].data, bytes / sizeof(float));
            worst = fmax(worst, diff.nmse);
            g_test_message("%s [%zu]: nmse %.2e, max abs err %.2e%s (at most %s%.0e)", what,
                           bytes / sizeof(float), diff.nmse, diff.max_abs,
                           diff.bit_equal ? ", bit for bit" : "", exact ? "exact, " : "",
                           exact ? 0.0 : nmse);
            if (exact && !diff.bit_equal)
                g_error("%s: differs from the CPU's (nmse %.3e), expected bit for bit", what,
                        diff.nmse);
            if (diff.nmse > nmse)
                g_error("%s: nmse %.3e against the CPU, at most %.0e", what, diff.nmse, nmse);
        } else if (memcmp(got, c->arrays[i].data, bytes) != 0) {
            g_error("%s: an input the op changed", what);
        }
        g_free(what);
        g_free(got);
    }
    return worst;
}
