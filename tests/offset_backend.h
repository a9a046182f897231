/* A test backend whose memory the host cannot read: the CPU backend with every device pointer
 * moved by HN_TEST_DEVICE_OFFSET (2^62, outside any canonical x86-64 or AArch64 address, so a
 * host read or write through one faults at once). Its ops move the pointers back and run the
 * CPU's, so results equal the CPU backend's bit for bit; only what reaches device memory
 * through the backend's own functions works, as on a GPU. Pointer arithmetic on device
 * pointers (a row of a tensor) keeps working. */
#pragma once

#include "backend.h"

#define HN_TEST_DEVICE_OFFSET ((uintptr_t)1 << 62)

const hn_backend *test_offset_backend(void);

/* How many of its allocations are live (alloc minus free of non-NULL pointers): proof that a
 * run went through it, and that what it allocated was given back. */
int test_offset_backend_live(void);
