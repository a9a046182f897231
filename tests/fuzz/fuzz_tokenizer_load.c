/* libFuzzer target: arbitrary bytes as tokenizer.json. Loading must fail cleanly or give a
 * tokenizer that encodes and decodes a fixed text without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hn_tokenizer *tok = NULL;
    hn_error err;
    if (hn_tokenizer_parse((const char *)data, size, "fuzz/tokenizer.json", &tok, &err) != HN_OK)
        return 0;
    static const char text[] = "Hello world 123 <s> 你好 \xf0\x9f\x99\x82  \n\t end";
    int32_t *ids = NULL;
    size_t n = 0;
    if (hn_tokenizer_encode(tok, text, strlen(text), true, &ids, &n, &err) == HN_OK) {
        char *decoded = NULL;
        if (hn_tokenizer_decode(tok, ids, n, false, &decoded, &err) == HN_OK)
            g_free(decoded);
        g_free(ids);
    }
    hn_tokenizer_free(tok);
    return 0;
}
