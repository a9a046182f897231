/* Memory bandwidth of this machine, STREAM-style (McCalpin's STREAM, www.cs.virginia.edu/stream:
 * arrays far larger than the caches, each kernel repeated, the best time kept): "read" sums
 * an fp32 array (what a matrix-vector product does with its weight), "copy" copies one array
 * into another (counted as bytes read + bytes written, as STREAM counts them). Threads: OpenMP's
 * (OMP_NUM_THREADS). Prints one JSON line with the best and the median GB/s (1e9 bytes) of each.
 *
 *   bench_bandwidth [MIB_PER_ARRAY (256)] [REPEATS (10)] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* 16 partial sums in flight, so the adds' latency never limits the loads (one running sum
 * would: -O3 without -march vectorises to 4-wide SSE, one add per 4 cycles per core). */
enum { LANES = 16 };

static float read_all(const float *a, size_t n)
{
    float sum = 0;
#pragma omp parallel reduction(+ : sum)
    {
        float part[LANES] = {0};
#pragma omp for schedule(static)
        for (size_t i = 0; i < n / LANES; i++)
            for (int j = 0; j < LANES; j++)
                part[j] += a[i * LANES + j];
        for (int j = 0; j < LANES; j++)
            sum += part[j];
    }
    return sum;
}

static void copy_all(float *dst, const float *src, size_t n)
{
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    int repeats = argc > 2 ? atoi(argv[2]) : 10;
    if (mib < 16 || repeats < 1) {
        fprintf(stderr, "usage: %s [MIB_PER_ARRAY >= 16] [REPEATS >= 1]\n", argv[0]);
        return 2;
    }
    size_t n = mib * 1024 * 1024 / sizeof(float); /* a multiple of LANES */
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    if (a == NULL || b == NULL) {
        fprintf(stderr, "bench_bandwidth: out of memory for 2 x %zu MiB\n", mib);
        return 1;
    }
    /* first touch by the threads that will read each part (static schedule, as below) */
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        a[i] = (float)(i % 7);
        b[i] = 0;
    }
    double *read_gbs = malloc((size_t)repeats * sizeof(double));
    double *copy_gbs = malloc((size_t)repeats * sizeof(double));
    double bytes = (double)n * sizeof(float), checksum = 0;
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        checksum += read_all(a, n);
        double t1 = now();
        copy_all(b, a, n);
        double t2 = now();
        checksum += b[(size_t)r * 977 % n];
        read_gbs[r] = bytes / (t1 - t0) / 1e9;
        copy_gbs[r] = 2 * bytes / (t2 - t1) / 1e9;
    }
    qsort(read_gbs, (size_t)repeats, sizeof(double), compare_doubles);
    qsort(copy_gbs, (size_t)repeats, sizeof(double), compare_doubles);
    printf("{\"threads\": %d, \"mib_per_array\": %zu, \"read_best_gbs\": %.2f, "
           "\"read_median_gbs\": %.2f, \"copy_best_gbs\": %.2f, \"copy_median_gbs\": %.2f, "
           "\"checksum\": %.0f}\n",
           omp_get_max_threads(), mib, read_gbs[repeats - 1], read_gbs[repeats / 2],
           copy_gbs[repeats - 1], copy_gbs[repeats / 2], checksum);
    free(read_gbs);
    free(copy_gbs);
    free(a);
    free(b);
    return 0;
}
