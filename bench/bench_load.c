/* Benchmark helper: open a model folder's safetensors (all shards, every header validated)
 * and convert every tensor to fp32, as the engine will when it loads weights. Prints one
 * JSON line: {"seconds": ..., "values": ..., "checksum": ...}. Driven by bench/load.py. */
#include <stdio.h>
#include <stdlib.h>
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
    double checksum = 0;
    long long values = 0;
    for (size_t i = 0; i < hn_tensor_store_count(store); i++) {
        const hn_st_tensor *t = hn_tensor_store_get(store, i, NULL);
        float *out = malloc((size_t)t->numel * sizeof(float) + 1);
        hn_convert_to_f32(out, t->data, t->dtype, (size_t)t->numel);
        checksum += out[t->numel / 2]; /* keeps the work observable */
        values += t->numel;
        free(out);
    }
    double seconds = now() - start;
    hn_tensor_store_close(store);
    printf("{\"seconds\": %.6f, \"values\": %lld, \"checksum\": %.9g}\n", seconds, values, checksum);
    return 0;
}
