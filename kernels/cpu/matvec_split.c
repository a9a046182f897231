/* One parallel region over the rows of several one-token products (matvec_split.h). */
#include <omp.h>
#include <string.h>

#include "cpu_ops.h"
#include "matvec_split.h"

/* Below this many bytes of weight one thread streams the matrices faster than the others
 * wake (measured for matvec_blocks.c's kernel). */
enum { PARALLEL_BYTES = 128 * 1024 };

/* The first row of a part starting at byte `start` (rows of row_bytes) whose first byte is at
 * or past `at`, clamped to [0, rows]. */
static int first_row_at(size_t at, size_t start, size_t row_bytes, int rows)
{
    if (at <= start)
        return 0;
    size_t row = (at - start + row_bytes - 1) / row_bytes;
    return row < (size_t)rows ? (int)row : rows;
}

void hn_cpu_matvec_parts_parallel(const hn_matvec_part *parts, int count, int C,
                                  hn_cpu_part_rows rows, const void *context)
{
    size_t total = 0;
    for (int i = 0; i < count; i++)
        total += hn_weight_row_bytes(parts[i].type, C) * (size_t)parts[i].OC;
#pragma omp parallel if (total >= PARALLEL_BYTES)
    {
        size_t threads = (size_t)omp_get_num_threads(), id = (size_t)omp_get_thread_num();
        size_t lo = total * id / threads, hi = total * (id + 1) / threads, start = 0;
        for (int i = 0; i < count; i++) {
            size_t row_bytes = hn_weight_row_bytes(parts[i].type, C);
            int first = first_row_at(lo, start, row_bytes, parts[i].OC);
            int last = first_row_at(hi, start, row_bytes, parts[i].OC);
            if (first < last)
                rows(context, i, first, last);
            start += row_bytes * (size_t)parts[i].OC;
        }
    }
}

void hn_cpu_matvec_parts_bias(const hn_matvec_part *parts, int count)
{
    for (int i = 0; i < count; i++)
        if (parts[i].bias != NULL)
            memcpy(parts[i].out, parts[i].bias, (size_t)parts[i].OC * sizeof(float));
}
