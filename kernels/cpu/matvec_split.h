/* The rows of one or more one-token products (backend.h's hn_matvec_part) split over OpenMP
 * threads in ONE parallel region (matvec_split.c): products that share their input (q, k, v;
 * gate and up) then cost one wake-up of the threads instead of one each. */
#pragma once

#include "backend.h"

/* Computes rows [first, last) of parts[part]; context is the caller's. */
typedef void (*hn_cpu_part_rows)(const void *context, int part, int first, int last);

/* Calls rows() over every row of every part, each thread taking one contiguous range of the
 * parts' rows laid end to end, weighed by their bytes (a thread's range may span the end of
 * one part and the start of the next). Single-threaded below a size where waking the others
 * costs more than it saves. Each row is computed by exactly one call, whatever the split. */
void hn_cpu_matvec_parts_parallel(const hn_matvec_part *parts, int count, int C,
                                  hn_cpu_part_rows rows, const void *context);

/* parts[i].out = parts[i].bias for every part with a bias (the products then accumulate). */
void hn_cpu_matvec_parts_bias(const hn_matvec_part *parts, int count);
