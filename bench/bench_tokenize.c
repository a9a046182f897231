/* Benchmark helper: encode every line of a text file with a tokenizer, timing only the
 * encoding. Prints one JSON line {"seconds": ..., "tokens": ..., "bytes": ...}. Driven by
 * bench/tokenizer_speed.py. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "tokenizer.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_tokenize TOKENIZER_DIR TEXT_FILE\n");
        return 2;
    }
    hn_tokenizer *tok = NULL;
    hn_error err;
    if (hn_tokenizer_load(argv[1], &tok, &err) != HN_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    char *text = NULL;
    gsize length = 0;
    if (!g_file_get_contents(argv[2], &text, &length, NULL))
        return 1;
    char **lines = g_strsplit(text, "\n", -1);
    long long tokens = 0;
    double start = now();
    for (char **line = lines; *line != NULL; line++) {
        int32_t *ids = NULL;
        size_t n = 0;
        if (hn_tokenizer_encode(tok, *line, strlen(*line), false, &ids, &n, &err) != HN_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        tokens += (long long)n;
        g_free(ids);
    }
    double seconds = now() - start;
    printf("{\"seconds\": %.6f, \"tokens\": %lld, \"bytes\": %zu}\n", seconds, tokens, length);
    g_strfreev(lines);
    g_free(text);
    hn_tokenizer_free(tok);
    return 0;
}
