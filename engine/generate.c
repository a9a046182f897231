/* The generation loop (generate.h): prefill after the cached prefix, then choose, stream and
 * run one token at a time, as transformers' generate with use_cache does (the stop id ends
 * the sequence and is kept in the ids, as generate keeps the eos). */
#include <string.h>

#include "generate.h"

void hn_generate_options_init(hn_generate_options *o)
{
    *o = (hn_generate_options){
        .sampling = {.do_sample = true, .temperature = 0.95, .top_k = 50, .top_p = 0.7,
                     .repetition_penalty = 1.0},
        .seed = 42,
        .max_new_tokens = 1024,
    };
}

void hn_generate_result_clear(hn_generate_result *r)
{
    g_free(r->ids);
    g_free(r->text);
    *r = (hn_generate_result){0};
}

static bool is_stop(const hn_generate_options *o, int32_t id)
{
    for (int i = 0; i < o->n_stop; i++)
        if (o->stop_ids[i] == id)
            return true;
    return false;
}

static hn_status check_options(const hn_generate_options *o, hn_error *err)
{
    const hn_sampling *s = &o->sampling;
    if (o->max_new_tokens <= 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "max_new_tokens: expected a positive count, found "
                       "%d", o->max_new_tokens);
    if (s->do_sample && !(s->temperature > 0))
        return hn_fail(err, HN_ERR_ARGUMENT, "temperature: expected a positive number when "
                       "sampling, found %g", s->temperature);
    if (s->do_sample && !(s->top_p >= 0 && s->top_p <= 1)) /* TopPLogitsWarper's range */
        return hn_fail(err, HN_ERR_ARGUMENT, "top_p: expected a number in [0, 1], found %g",
                       s->top_p);
    if (s->do_sample && s->top_k < 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "top_k: expected 0 (off) or a positive count, "
                       "found %d", s->top_k);
    if (!(s->repetition_penalty > 0))
        return hn_fail(err, HN_ERR_ARGUMENT, "repetition_penalty: expected a positive number, "
                       "found %g", s->repetition_penalty);
    return HN_OK;
}

/* Streams one id's text; the stream keeps incomplete UTF-8 back. */
static hn_status stream_push(hn_token_stream *stream, GString *text, int32_t id,
                             hn_generate_piece_fn on_piece, void *user, hn_error *err)
{
    char *piece = hn_token_stream_push(stream, id, err);
    if (piece == NULL)
        return HN_ERR_ARGUMENT;
    if (piece[0] != '\0') {
        g_string_append(text, piece);
        if (on_piece != NULL)
            on_piece(piece, user);
    }
    g_free(piece);
    return HN_OK;
}

hn_status hn_generate(hn_kv_decoder *d, const hn_tokenizer *tok, const int32_t *prompt,
                      int n_prompt, const hn_generate_options *o, hn_generate_piece_fn on_piece,
                      void *user, const atomic_bool *cancel, hn_generate_result *r,
                      hn_error *err)
{
    *r = (hn_generate_result){.prompt_tokens = n_prompt};
    HN_TRY(check_options(o, err));
    if (n_prompt <= 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "an empty prompt: expected at least one token");
    int V = (int)hn_model_get_config(hn_kv_decoder_model(d))->vocab_size;
    float *logits = g_new(float, V);
    /* the cache may hold a prefix of the prompt; at least the last token runs, for logits */
    int reuse = MIN(hn_kv_decoder_common_prefix(d, prompt, n_prompt), n_prompt - 1);
    hn_kv_decoder_truncate(d, reuse);
    r->prompt_computed = n_prompt - reuse;
    GTimer *timer = g_timer_new();
    hn_status s = hn_kv_decoder_append(d, prompt + reuse, n_prompt - reuse, logits, false, err);
    r->prefill_seconds = g_timer_elapsed(timer, NULL);
    g_timer_start(timer);

    /* the ids the repetition penalty sees: the prompt and what follows it */
    GArray *seen = g_array_new(FALSE, FALSE, sizeof(int32_t));
    g_array_append_vals(seen, prompt, (guint)n_prompt);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(int32_t));
    GString *text = g_string_new(NULL);
    hn_token_stream *stream = hn_token_stream_new(tok, true);
    GRand *rng = g_rand_new_with_seed_array((const guint32[]){(guint32)o->seed,
                                                              (guint32)(o->seed >> 32)}, 2);
    r->finish = HN_FINISH_LENGTH;
    while (s == HN_OK && (int)ids->len < o->max_new_tokens) {
        if (cancel != NULL && atomic_load(cancel)) {
            r->finish = HN_FINISH_CANCELLED;
            break;
        }
        int32_t id = hn_sample_token(logits, V, &o->sampling, (const int32_t *)seen->data,
                                     seen->len, rng);
        g_array_append_val(ids, id);
        g_array_append_val(seen, id);
        if (is_stop(o, id)) {
            r->finish = HN_FINISH_STOP;
            break;
        }
        s = stream_push(stream, text, id, on_piece, user, err);
        if (s == HN_OK && (int)ids->len < o->max_new_tokens)
            s = hn_kv_decoder_append(d, &id, 1, logits, false, err);
    }
    char *tail = hn_token_stream_finish(stream);
    if (tail[0] != '\0') {
        g_string_append(text, tail);
        if (on_piece != NULL)
            on_piece(tail, user);
    }
    g_free(tail);
    r->decode_seconds = g_timer_elapsed(timer, NULL);
    r->n_ids = (int)ids->len;
    r->ids = (int32_t *)(void *)g_array_free(ids, FALSE);
    r->text = g_string_free(text, FALSE);
    g_rand_free(rng);
    hn_token_stream_free(stream);
    g_array_free(seen, TRUE);
    g_timer_destroy(timer);
    g_free(logits);
    return s;
}
