/* One op case (backend_cases.h) run on a second backend beside the CPU and compared: the case's
 * arrays copied to the other backend's memory before the CPU runs on the host copies, the op
 * run on both, every array read back and compared (outputs and gradients by normalised mean
 * squared error with NaN/Inf checks, inputs unchanged bit for bit). */
#pragma once

#include "backend_cases.h"

typedef struct {
    const hn_backend *backend;
    const op_case *c;
    void *device[MAX_ARRAYS]; /* the case's arrays in the backend's memory */
} device_case;

/* Copies every array of c (as it is now) into backend's memory. */
void device_case_upload(device_case *d, const hn_backend *backend, const op_case *c);
void device_case_free(device_case *d);
/* The device address of a host pointer into one of the case's arrays (inside it too), NULL for
 * NULL; with d NULL (the CPU's run), the host pointer itself. */
void *on(const device_case *d, const void *host);
/* A host copy (g_free it) of the device array `name`, after synchronize. */
void *device_case_download(const device_case *d, const char *name);

/* What comparing an array measured. */
typedef struct {
    double nmse;      /* sum (got - want)^2 / sum want^2 (sum (got - want)^2 when want is 0) */
    double max_abs;   /* max |got - want| */
    bool bit_equal;
} array_difference;

/* Synchronizes the backend (its error fails the test), then compares every array of the case
 * with the CPU's result in the host arrays. exact: all bit for bit. Otherwise written arrays
 * (scratch ones and those named in `written`, a NULL-ended list or NULL) must be finite and
 * within `nmse`; the others are inputs and must not have changed. Prints each written array's
 * NMSE; returns the largest. */
double device_case_compare(const device_case *d, bool exact, double nmse,
                           const char *const *written);
