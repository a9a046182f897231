/* libFuzzer target: arbitrary bytes as text for a tokenizer that uses most components
 * (added tokens with lstrip/rstrip, a normalizer chain, Split + ByteLevel pre-tokenizers,
 * byte fallback, a decoder chain). Encoding must refuse invalid UTF-8 or give ids that decode
 * (in one go and streamed) without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *tokenizer_json =
    "{\"added_tokens\": ["
    "{\"id\": 100, \"content\": \"<s>\", \"special\": true, \"normalized\": false},"
    "{\"id\": 101, \"content\": \"<|x|>\", \"special\": true, \"normalized\": false, "
    "\"lstrip\": true, \"rstrip\": true},"
    "{\"id\": 102, \"content\": \"word\", \"special\": false, \"normalized\": true, "
    "\"single_word\": true}],"
    "\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFKC\"}, "
    "{\"type\": \"Lowercase\"}, {\"type\": \"Replace\", \"pattern\": {\"String\": \"  \"}, "
    "\"content\": \" \"}]},"
    "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\", "
    "\"individual_digits\": true}, {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
    "\"use_regex\": true}]},"
    "\"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"ByteLevel\"}, "
    "{\"type\": \"Strip\", \"content\": \" \", \"start\": 1, \"stop\": 0}]},"
    "\"model\": {\"type\": \"BPE\", \"vocab\": {\"\\u0120\": 0, \"a\": 1, \"b\": 2, \"ab\": 3, "
    "\"\\u0120a\": 4, \"<0x41>\": 5, \"<unk>\": 6}, \"unk_token\": \"<unk>\", \"fuse_unk\": true, "
    "\"byte_fallback\": true, \"merges\": [\"a b\", \"\\u0120 a\"]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hn_tokenizer *tok;
    hn_error err;
    if (tok == NULL && hn_tokenizer_parse(tokenizer_json, strlen(tokenizer_json), "fuzz", &tok,
                                          &err) != HN_OK)
        abort();
    int32_t *ids = NULL;
    size_t n = 0;
    if (hn_tokenizer_encode(tok, (const char *)data, size, true, &ids, &n, &err) != HN_OK)
        return 0;
    char *decoded = NULL;
    if (hn_tokenizer_decode(tok, ids, n, false, &decoded, &err) != HN_OK)
        abort();
    GString *streamed = g_string_new(NULL);
    hn_token_stream *stream = hn_token_stream_new(tok, false);
    for (size_t i = 0; i < n; i++) {
        char *piece = hn_token_stream_push(stream, ids[i], &err);
        if (piece == NULL || !g_utf8_validate(piece, -1, NULL))
            abort();
        g_string_append(streamed, piece);
        g_free(piece);
    }
    char *rest = hn_token_stream_finish(stream);
    g_string_append(streamed, rest);
    g_free(rest);
    hn_token_stream_free(stream);
    g_string_free(streamed, TRUE);
    g_free(decoded);
    g_free(ids);
    return 0;
}
