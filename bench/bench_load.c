/* Benchmark helper: open a model folder's safetensors (all shards, every header validated)
 * and convert every tensor to fp32 into one parameter buffer, as the engine loads weights.
 * The buffer is allocated once (huge pages advised) and its first touch is timed too.
 * Prints one JSON line: {"seconds": ..., "values": ..., "checksum": ...}. Driven by
 * bench/load.py. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "tensor_store.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_load MODEL_DIR\n");
        return 2;
    }
    double start = now();
    hn_tensor_store *store = NULL;
    hn_error err;
    if (hn_tensor_store_open(argv[1], &store, &err) != HN_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    long long values = 0;
    for (size_t i = 0; i < hn_tensor_store_count(store); i++)
        values += hn_tensor_store_get(store, i, NULL)->numel;
    size_t bytes = (size_t)values * sizeof(float);
    float *params = mmap(NULL, bytes + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (params == MAP_FAILED)
        return 1;
    madvise(params, bytes, MADV_HUGEPAGE);
    double checksum = 0;
    float *out = params;
    for (size_t i = 0; i < hn_tensor_store_count(store); i++) {
        const hn_st_tensor *t = hn_tensor_store_get(store, i, NULL);
        hn_convert_to_f32(out, t->data, t->dtype, (size_t)t->numel);
        checksum += out[t->numel / 2]; /* keeps the work observable */
        out += t->numel;
    }
    double seconds = now() - start;
    hn_tensor_store_close(store);
    munmap(params, bytes + 1);
    printf("{\"seconds\": %.6f, \"values\": %lld, \"checksum\": %.9g}\n", seconds, values, checksum);
    return 0;
}
