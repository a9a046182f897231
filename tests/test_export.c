/* `hone export` (engine/export.h) against transformers, peft, the gguf package and LLaMA-Factory
 * (tests/reference/export_ref.py): tiny random Llamas with random LoRA / DoRA adapters and
 * SmolLM2-135M-Instruct's GGUF with a random adapter are merged and exported (two adapters
 * one after the other too); the folder must
 * load in transformers with the logits of PeftModel(base, adapter), hold peft's
 * merge_and_unload weights, keep every shard within export_size with an index naming each
 * tensor once; the GGUF must read back through gguf.GGUFReader with llama.cpp's metadata and
 * exactly the bytes gguf-py makes of the folder's tensors, and load back in Hone (and
 * transformers) with the folder's logits within its type's tolerance; the Modelfile must be
 * LLaMA-Factory's byte for byte. Bad input is refused with a clear message. */
#include <cjson/cJSON.h>
#include <string.h>

#include "model_open.h"
#include "safetensors.h"
#include "test_util.h"

/* fp32 export against PeftModel's fp32 logits (the merge reorders sums): relative */
#define FP32_LOGITS_TOLERANCE 1e-5
/* the merged weights against peft's merge_and_unload, max|a-b| / max|b| per tensor */
#define FP32_WEIGHTS_TOLERANCE 1e-6
/* bf16 export: each weight rounded to 8 significant bits. Against the fp32 PeftModel the
 * logits moved by 3.05e-2 (relative to the largest) on the tied case (random init std 0.2, the
 * rounding compounds over three layers and a tied head); the bound leaves room for other seeds.
 * Against the same merge rounded to bf16 by torch, the weights must be torch's values (a rounding
 * tie may fall the other way where the fp32 sums differ in the last bit) and the logits equal
 * to fp32 precision. */
#define BF16_VS_FP32_LOGITS_TOLERANCE 6e-2
#define BF16_WEIGHTS_TOLERANCE 4e-3 /* 2^-8: at most half a step of the largest value */
#define BF16_DIFFERING_FRACTION 1e-3
#define BF16_ROUNDED_LOGITS_TOLERANCE 1e-4
/* Hone's (and transformers') logits of the exported GGUF against the fp32 folder's (SmolLM2,
 * 30 layers, 12 tokens), relative to the largest: f16 rounds weights to 11 significant bits
 * (measured 4.1e-3), bf16 to 8 (1.7e-2), q8_0 to 8-bit blocks of 32 (4.4e-2); the bounds are
 * about twice those, the weights' rounding being the only difference (the GGUF's bytes are
 * gguf-py's, checked exactly) */
#define GGUF_F16_TOLERANCE 8e-3
#define GGUF_BF16_TOLERANCE 3e-2
#define GGUF_Q8_0_TOLERANCE 8e-2

static char *ref;

static char *run_hone(const char *args, int *status)
{
    char *command = g_strdup_printf("'%s' export %s", g_getenv("HONE_BIN"), args);
    char **argv = NULL;
    g_assert_true(g_shell_parse_argv(command, NULL, &argv, NULL));
    char *out = NULL, *err = NULL;
    *status = test_run(argv, &out, &err);
    g_strfreev(argv);
    g_free(command);
    g_free(out);
    return err;
}

static void export_ok(const char *args)
{
    int status = 0;
    char *err = run_hone(args, &status);
    if (status != 0)
        g_error("hone export %s: exit %d: %s", args, status, err);
    test_assert_contains(err, "hone export: [1/");
    g_free(err);
}

/* The case's input ids (expected.safetensors), [B, T]. */
static int32_t *case_ids(const char *name, int *B, int *T)
{
    hn_error err = {0};
    char *path = g_build_filename(ref, name, "expected.safetensors", NULL);
    hn_st_file *file = NULL;
    g_assert_cmpint(hn_st_open(path, &file, &err), ==, HN_OK);
    const hn_st_tensor *t = hn_st_find(file, "input_ids");
    g_assert_nonnull(t);
    *B = (int)t->shape[0];
    *T = (int)t->shape[1];
    int32_t *ids = g_new(int32_t, (size_t)*B * *T);
    memcpy(ids, t->data, (size_t)*B * *T * sizeof(int32_t));
    hn_st_close(file);
    g_free(path);
    return ids;
}

/* Hone's logits [B, T, V] of a model (and adapter, unmerged) on ids; *n gets their count. */
static float *hone_logits(const char *model_path, const char *adapter, const int32_t *ids,
                          int B, int T, size_t *n)
{
    hn_error err = {0};
    hn_model_dir *dir = NULL;
    hn_model *model = NULL;
    if (hn_model_dir_open(model_path, &dir, &err) != HN_OK ||
        hn_model_open_inference(dir, adapter, NULL, &model, &err) != HN_OK)
        g_error("%s: %s", model_path, err.message);
    *n = (size_t)B * T * (size_t)dir->config.vocab_size;
    float *logits = g_new(float, *n);
    hn_batch batch = {ids, NULL, NULL, NULL, B, T};
    if (hn_model_forward(model, &batch, NULL, NULL, &err) != HN_OK ||
        hn_model_logits(model, logits, &err) != HN_OK)
        g_error("forward %s: %s", model_path, err.message);
    hn_model_free(model);
    hn_model_dir_close(dir);
    return logits;
}

static double number(const cJSON *json, const char *key)
{
    const cJSON *item = cJSON_GetObjectItem(json, key);
    if (!cJSON_IsNumber(item))
        g_error("%s: expected a number, found %s", key, item != NULL ? cJSON_Print(item) : "none");
    return item->valuedouble;
}

static const char *text(const cJSON *json, const char *key)
{
    const char *value = cJSON_GetStringValue(cJSON_GetObjectItem(json, key));
    g_assert_nonnull(value);
    return value;
}

/* export_ref.py check: the folder in transformers, against peft. */
static cJSON *check_folder(const char *name, const char *out, uint64_t max_bytes,
                           const char *dtype)
{
    char *bytes = g_strdup_printf("%llu", (unsigned long long)max_bytes);
    const char *args[] = {"check", ref, name, out, bytes, NULL};
    test_run_reference_args("export_ref.py", args);
    char *path = g_strconcat(out, ".check.json", NULL);
    cJSON *check = test_load_json(path);
    g_test_message("%s: logits rel error %.3g, weights %.3g", name, number(check, "rel_error"),
                   number(check, "weights_rel_error"));
    g_assert_cmpstr(text(check, "index"), ==, "ok");
    g_assert_cmpint(cJSON_GetArraySize(cJSON_GetObjectItem(check, "missing")), ==, 0);
    const cJSON *size;
    cJSON_ArrayForEach(size, cJSON_GetObjectItem(check, "shard_sizes"))
        g_assert_cmpfloat(size->valuedouble, <=, (double)max_bytes);
    const cJSON *dtypes = cJSON_GetObjectItem(check, "dtypes");
    g_assert_cmpint(cJSON_GetArraySize(dtypes), ==, 1);
    g_assert_cmpstr(cJSON_GetStringValue(cJSON_GetArrayItem(dtypes, 0)), ==, dtype);
    g_assert_cmpstr(text(check, "config_dtype"), ==, dtype);
    g_free(path);
    g_free(bytes);
    return check;
}

/* Hone: the exported folder against the base with the adapter unmerged. */
static void check_hone_logits(const char *name, const char *out, double tolerance)
{
    int B = 0, T = 0;
    int32_t *ids = case_ids(name, &B, &T);
    char *base = g_build_filename(ref, name, "model", NULL);
    char *adapter = g_build_filename(ref, name, "adapter", NULL);
    size_t n = 0, m = 0;
    float *want = hone_logits(base, adapter, ids, B, T, &n);
    float *got = hone_logits(out, NULL, ids, B, T, &m);
    g_assert_cmpuint(n, ==, m);
    double error = test_relative_error(got, want, n);
    g_test_message("%s: Hone, exported vs base + adapter: %.3g", name, error);
    g_assert_cmpfloat(error, <=, tolerance);
    g_free(got);
    g_free(want);
    g_free(adapter);
    g_free(base);
    g_free(ids);
}

static void test_lora_shards(void)
{
    char *out = g_build_filename(ref, "out_lora", NULL);
    /* 0.0001 GB = 100,000 bytes: the 3-layer model's ~0.66 MB in fp32 takes several shards */
    char *args = g_strdup_printf("--model_name_or_path %s/lora/model --adapter_name_or_path "
                                 "%s/lora/adapter --export_dir %s --export_size 0.0001 "
                                 "--infer_dtype float32", ref, ref, out);
    export_ok(args);
    cJSON *check = check_folder("lora", out, 100000, "float32");
    g_assert_cmpint(cJSON_GetArraySize(cJSON_GetObjectItem(check, "shard_sizes")), >, 2);
    g_assert_cmpfloat(number(check, "rel_error"), <=, FP32_LOGITS_TOLERANCE);
    g_assert_cmpfloat(number(check, "weights_rel_error"), <=, FP32_WEIGHTS_TOLERANCE);
    g_assert_true(cJSON_IsTrue(cJSON_GetObjectItem(check, "has_lm_head")));
    check_hone_logits("lora", out, FP32_LOGITS_TOLERANCE);
    cJSON_Delete(check);
    g_free(args);
    g_free(out);
}

static void test_dora_single_file(void)
{
    char *out = g_build_filename(ref, "out_dora", NULL);
    /* infer_dtype auto keeps the float32 model float32 (upstream on a machine without GPU) */
    char *args = g_strdup_printf("--model_name_or_path %s/dora/model --adapter_name_or_path "
                                 "%s/dora/adapter --export_dir %s", ref, ref, out);
    export_ok(args);
    cJSON *check = check_folder("dora", out, 5000000000ull, "float32");
    g_assert_cmpint(cJSON_GetArraySize(cJSON_GetObjectItem(check, "shard_sizes")), ==, 1);
    char *single = g_build_filename(out, "model.safetensors", NULL);
    g_assert_true(g_file_test(single, G_FILE_TEST_EXISTS));
    g_assert_cmpfloat(number(check, "rel_error"), <=, FP32_LOGITS_TOLERANCE);
    g_assert_cmpfloat(number(check, "weights_rel_error"), <=, FP32_WEIGHTS_TOLERANCE);
    check_hone_logits("dora", out, FP32_LOGITS_TOLERANCE);
    cJSON_Delete(check);
    g_free(single);
    g_free(args);
    g_free(out);
}

/* Two adapters merged one after the other, the second a DoRA with a modules_to_save head. */
static void test_two_adapters(void)
{
    char *out = g_build_filename(ref, "out_lora2", NULL);
    char *args = g_strdup_printf("--model_name_or_path %s/lora/model --adapter_name_or_path "
                                 "%s/lora/adapter,%s/lora2/adapter --export_dir %s", ref, ref,
                                 ref, out);
    export_ok(args);
    cJSON *check = check_folder("lora2", out, 5000000000ull, "float32");
    g_assert_cmpfloat(number(check, "rel_error"), <=, FP32_LOGITS_TOLERANCE);
    g_assert_cmpfloat(number(check, "weights_rel_error"), <=, FP32_WEIGHTS_TOLERANCE);
    cJSON_Delete(check);
    g_free(args);
    g_free(out);
}

/* Two plain LoRA adapters applied at once without merging (Hone's inference model) against
 * PEFT with both active; a DoRA adapter among several is refused. */
static void test_stacked_adapters(void)
{
    int B = 0, T = 0;
    int32_t *ids = case_ids("stacked", &B, &T);
    char *base = g_build_filename(ref, "lora", "model", NULL);
    char *adapters = g_strdup_printf("%s/lora/adapter, %s/stacked/adapter_b", ref, ref);
    size_t n = 0;
    float *got = hone_logits(base, adapters, ids, B, T, &n);
    char *expected = g_build_filename(ref, "stacked", "expected.safetensors", NULL);
    hn_error err = {0};
    hn_st_file *file = NULL;
    g_assert_cmpint(hn_st_open(expected, &file, &err), ==, HN_OK);
    const hn_st_tensor *want = hn_st_find(file, "logits");
    g_assert_nonnull(want);
    g_assert_cmpuint((size_t)want->numel, ==, n);
    double error = test_relative_error(got, (const float *)want->data, n);
    g_test_message("stacked adapters vs PEFT with both active: %.3g", error);
    g_assert_cmpfloat(error, <=, FP32_LOGITS_TOLERANCE);
    hn_st_close(file);

    char *with_dora = g_strdup_printf("%s/lora/adapter,%s/dora/adapter", ref, ref);
    hn_model_dir *dir = NULL;
    hn_model *model = NULL;
    g_assert_cmpint(hn_model_dir_open(base, &dir, &err), ==, HN_OK);
    g_assert_cmpint(hn_model_open_inference(dir, with_dora, NULL, &model, &err), ==,
                    HN_ERR_UNSUPPORTED);
    g_assert_null(model);
    test_assert_contains(err.message, "uses DoRA: several adapters at once are applied unmerged "
                                      "for plain LoRA only");
    hn_model_dir_close(dir);
    g_free(with_dora);
    g_free(expected);
    g_free(got);
    g_free(adapters);
    g_free(base);
    g_free(ids);
}

static void test_tied_bf16(void)
{
    char *out = g_build_filename(ref, "out_tied", NULL);
    char *args = g_strdup_printf("--model_name_or_path %s/tied/model --adapter_name_or_path "
                                 "%s/tied/adapter --export_dir %s --infer_dtype bfloat16",
                                 ref, ref, out);
    export_ok(args);
    cJSON *check = check_folder("tied", out, 5000000000ull, "bfloat16");
    g_assert_false(cJSON_IsTrue(cJSON_GetObjectItem(check, "has_lm_head")));
    g_assert_cmpfloat(number(check, "rel_error"), <=, BF16_VS_FP32_LOGITS_TOLERANCE);
    g_assert_cmpfloat(number(check, "weights_rel_error"), <=, BF16_WEIGHTS_TOLERANCE);
    g_test_message("tied: %.3g of the elements differ from torch's bf16 rounding; logits vs "
                   "that rounded model %.3g", number(check, "differing_fraction"),
                   number(check, "rounded_rel_error"));
    g_assert_cmpfloat(number(check, "differing_fraction"), <=, BF16_DIFFERING_FRACTION);
    g_assert_cmpfloat(number(check, "rounded_rel_error"), <=, BF16_ROUNDED_LOGITS_TOLERANCE);
    check_hone_logits("tied", out, BF16_VS_FP32_LOGITS_TOLERANCE);
    cJSON_Delete(check);
    g_free(args);
    g_free(out);
}

/* SmolLM2 + adapter exported in fp32 with a GGUF of `type`; the GGUF checked by gguf-py, loaded
 * back by Hone (and transformers), compared with the folder. */
static void export_smollm(const char *type, double tolerance, const char *matrix_type)
{
    char *gguf_source = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *name = g_strdup_printf("out_smollm_%s", type);
    char *out = g_build_filename(ref, name, NULL);
    char *args = g_strdup_printf("--model_name_or_path %s --adapter_name_or_path "
                                 "%s/smollm/adapter --export_dir %s --infer_dtype float32 "
                                 "--export_gguf %s --template chatml", gguf_source, ref, out,
                                 type);
    export_ok(args);
    char *file = g_strdup_printf("%s-%s.gguf", name, type);
    char *gguf_path = g_build_filename(out, file, NULL);
    const char *gguf_args[] = {"gguf", ref, "smollm", out, gguf_path, NULL};
    test_run_reference_args("export_ref.py", gguf_args);
    char *check_path = g_strconcat(gguf_path, ".check.json", NULL);
    cJSON *check = test_load_json(check_path);
    const cJSON *mismatched = cJSON_GetObjectItem(check, "mismatched");
    if (cJSON_GetArraySize(mismatched) != 0)
        g_error("tensors that differ from gguf-py's: %s", cJSON_Print(mismatched));
    const cJSON *types = cJSON_GetObjectItem(check, "types");
    g_assert_cmpint(cJSON_GetArraySize(types), ==, number(check, "n_folder_tensors"));
    g_assert_cmpstr(text(types, "blk.0.attn_q.weight"), ==, matrix_type);
    g_assert_cmpstr(text(types, "token_embd.weight"), ==, matrix_type);
    g_assert_cmpstr(text(types, "blk.0.attn_norm.weight"), ==, "F32");
    g_assert_null(cJSON_GetObjectItem(types, "output.weight")); /* tied */
    const cJSON *meta = cJSON_GetObjectItem(check, "metadata");
    g_assert_cmpstr(text(meta, "general.architecture"), ==, "llama");
    g_assert_cmpfloat(number(meta, "llama.block_count"), ==, 30);
    g_assert_cmpfloat(number(meta, "llama.embedding_length"), ==, 576);
    g_assert_cmpfloat(number(meta, "llama.attention.head_count_kv"), ==, 3);
    g_assert_cmpfloat(number(meta, "llama.rope.dimension_count"), ==, 64);
    g_assert_cmpfloat(number(meta, "general.file_type"), ==,
                      strcmp(type, "q8_0") == 0 ? 7 : strcmp(type, "bf16") == 0 ? 32 : 1);
    g_assert_cmpstr(text(meta, "tokenizer.ggml.model"), ==, "gpt2");
    g_assert_cmpfloat(number(meta, "tokenizer.ggml.tokens"), ==, 49152);
    g_assert_cmpfloat(number(meta, "tokenizer.ggml.eos_token_id"), ==, 2);
    test_assert_contains(text(meta, "tokenizer.chat_template"), "<|im_start|>");
    /* transformers' own GGUF loader (dequantizing with gguf-py) reads it too */
    const cJSON *transformers = cJSON_GetObjectItem(check, "transformers_rel_error");
    if (!cJSON_IsNumber(transformers))
        g_error("transformers cannot load the %s GGUF: %s", type,
                cJSON_GetStringValue(transformers));
    g_test_message("%s: transformers' GGUF load vs the folder: %.3g", type,
                   transformers->valuedouble);
    g_assert_cmpfloat(transformers->valuedouble, <=, tolerance);

    int B = 0, T = 0;
    int32_t *ids = case_ids("smollm", &B, &T);
    size_t n = 0, m = 0;
    float *folder = hone_logits(out, NULL, ids, B, T, &n);
    float *reloaded = hone_logits(gguf_path, NULL, ids, B, T, &m);
    g_assert_cmpuint(n, ==, m);
    double error = test_relative_error(reloaded, folder, n);
    g_test_message("%s: Hone, the GGUF vs the folder: %.3g", type, error);
    g_assert_cmpfloat(error, <=, tolerance);

    g_free(reloaded);
    g_free(folder);
    g_free(ids);
    cJSON_Delete(check);
    g_free(check_path);
    g_free(gguf_path);
    g_free(file);
    g_free(args);
    g_free(out);
    g_free(name);
    g_free(gguf_source);
}

static void check_gguf_tokenizer(const char *folder, const char *name, const char *pre);

static void test_smollm_q8_0(void)
{
    export_smollm("q8_0", GGUF_Q8_0_TOLERANCE, "Q8_0");
    /* the folder itself: transformers and peft, and Hone's base + adapter */
    char *out = g_build_filename(ref, "out_smollm_q8_0", NULL);
    cJSON *check = check_folder("smollm", out, 5000000000ull, "float32");
    g_assert_cmpfloat(number(check, "rel_error"), <=, FP32_LOGITS_TOLERANCE);
    g_assert_cmpfloat(number(check, "weights_rel_error"), <=, FP32_WEIGHTS_TOLERANCE);
    /* the Modelfile: LLaMA-Factory's, byte for byte */
    char *gguf_source = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *want_path = g_build_filename(ref, "Modelfile.chatml", NULL);
    const char *args[] = {"modelfile", gguf_source, "chatml", want_path, NULL};
    test_run_reference_args("export_ref.py", args);
    char *got_path = g_build_filename(out, "Modelfile", NULL);
    GBytes *want = test_read_file(want_path), *got = test_read_file(got_path);
    if (!g_bytes_equal(want, got))
        g_error("Modelfile differs from LLaMA-Factory's:\n%.*s\n---\n%.*s",
                (int)g_bytes_get_size(got), (const char *)g_bytes_get_data(got, NULL),
                (int)g_bytes_get_size(want), (const char *)g_bytes_get_data(want, NULL));
    g_bytes_unref(want);
    g_bytes_unref(got);
    /* the tokenizer files written from the GGUF's metadata: transformers reads the folder's
     * tokenizer exactly as its GGUF loader reads the source (ids, decoding, chat template) */
    char *tokenizer_check = g_build_filename(out, "tokenizer.check.json", NULL);
    const char *tok_args[] = {"tokenizer", gguf_source, out, tokenizer_check, NULL};
    test_run_reference_args("export_ref.py", tok_args);
    cJSON *tok = test_load_json(tokenizer_check);
    const cJSON *differences = cJSON_GetObjectItem(tok, "differences");
    if (cJSON_GetArraySize(differences) != 0)
        g_error("the exported tokenizer differs from transformers' GGUF tokenizer: %s",
                cJSON_Print(differences));
    g_assert_cmpfloat(number(tok, "vocab_size"), ==, 49152);
    cJSON_Delete(tok);
    g_free(tokenizer_check);
    /* that folder to GGUF again: the tokenizer metadata as llama.cpp's converter writes it */
    check_gguf_tokenizer(out, "out_smollm_again", "smollm");
    g_free(got_path);
    g_free(want_path);
    g_free(gguf_source);
    cJSON_Delete(check);
    g_free(out);
}

static void test_smollm_f16(void)
{
    export_smollm("f16", GGUF_F16_TOLERANCE, "F16");
}

static void test_smollm_bf16(void)
{
    export_smollm("bf16", GGUF_BF16_TOLERANCE, "BF16");
}

/* folder exported to GGUF (f16) into ref/name: its tokenizer.* metadata equals what
 * llama.cpp's own converter writes for the folder, with tokenizer.ggml.pre `pre`. */
static void check_gguf_tokenizer(const char *folder, const char *name, const char *pre)
{
    char *out = g_build_filename(ref, name, NULL);
    char *args = g_strdup_printf("--model_name_or_path %s --export_dir %s --export_gguf f16",
                                 folder, out);
    export_ok(args);
    char *file = g_strdup_printf("%s-f16.gguf", name);
    char *gguf_path = g_build_filename(out, file, NULL);
    char *check_path = g_build_filename(out, "gguf_tokenizer.check.json", NULL);
    const char *ref_args[] = {"gguf_tokenizer", folder, gguf_path, check_path, NULL};
    test_run_reference_args("export_ref.py", ref_args);
    cJSON *check = test_load_json(check_path);
    const cJSON *differences = cJSON_GetObjectItem(check, "differences");
    if (cJSON_GetArraySize(differences) != 0)
        g_error("%s: tokenizer metadata differs from llama.cpp's converter: %s", folder,
                cJSON_Print(differences));
    g_assert_cmpint(cJSON_GetArraySize(cJSON_GetObjectItem(check, "keys")), >=, 9);
    g_assert_cmpstr(text(check, "pre"), ==, pre);
    cJSON_Delete(check);
    g_free(check_path);
    g_free(gguf_path);
    g_free(file);
    g_free(args);
    g_free(out);
}

/* A model folder to GGUF, the real Llama 3 tokenizer on a tiny Llama (llama.cpp's converter
 * names its pre-tokenizer smaug-bpe, a hash it shares with Smaug's Llama 3 tokenizer). */
static void test_folder_gguf_tokenizer(void)
{
    char *folder = g_build_filename(ref, "llama3_tokenizer", NULL);
    check_gguf_tokenizer(folder, "out_llama3_tokenizer", "smaug-bpe");
    g_free(folder);
}

/* A refusal: the exit status and a message naming what is wrong. */
static void refused(const char *args, int want_status, const char *message)
{
    int status = 0;
    char *err = run_hone(args, &status);
    g_assert_cmpint(status, ==, want_status);
    test_assert_contains(err, message);
    g_free(err);
}

static void test_bad_input(void)
{
    char *dir = test_make_tmpdir();
    char *full = g_build_filename(dir, "full", NULL);
    char *keep = g_build_filename(full, "keep.txt", NULL);
    g_assert_cmpint(g_mkdir_with_parents(full, 0755), ==, 0);
    test_write_text(keep, "mine");
    char *model = g_build_filename(ref, "lora", "model", NULL);
    char *adapter = g_build_filename(ref, "lora", "adapter", NULL);
    char *fresh = g_build_filename(dir, "fresh", NULL);

    char *args = g_strdup_printf("--model_name_or_path %s --export_dir %s", model, full);
    refused(args, 1, "is not empty (it holds keep.txt");
    char *files[] = {"keep.txt", NULL};
    GDir *d = g_dir_open(full, 0, NULL);
    g_assert_cmpstr(g_dir_read_name(d), ==, files[0]);
    g_assert_null(g_dir_read_name(d)); /* nothing written beside it */
    g_dir_close(d);
    g_free(args);
    /* overwrite_output_dir: true writes into it */
    args = g_strdup_printf("--model_name_or_path %s --export_dir %s --overwrite_output_dir true",
                           model, full);
    export_ok(args);
    g_free(args);

    args = g_strdup_printf("--model_name_or_path %s --adapter_name_or_path %s/nowhere "
                           "--export_dir %s", model, dir, fresh);
    refused(args, 1, "nowhere");
    g_assert_false(g_file_test(fresh, G_FILE_TEST_EXISTS));
    g_free(args);

    args = g_strdup_printf("--model_name_or_path %s --export_dir %s --infer_dtype int8", model,
                           fresh);
    refused(args, 2, "infer_dtype must be auto, float32, float16 or bfloat16");
    g_free(args);
    args = g_strdup_printf("--model_name_or_path %s --export_dir %s --export_gguf q4_k", model,
                           fresh);
    refused(args, 2, "export_gguf must be f16, bf16, q8_0 or none");
    g_free(args);
    args = g_strdup_printf("--model_name_or_path %s --export_size 0", model);
    refused(args, 2, "export_size must be a positive number");
    g_free(args);
    args = g_strdup_printf("--model_name_or_path %s", model);
    refused(args, 2, "export_dir: expected the folder");
    g_free(args);
    args = g_strdup_printf("--model_name_or_path %s --export_dir %s --adapter_name_or_path %s "
                           "--export_quantization_bit 4", model, fresh, adapter);
    refused(args, 2, "please merge adapters before quantizing the model");
    g_free(args);
    args = g_strdup_printf("--model_name_or_path %s --export_dir %s --export_gguf f16", model,
                           fresh);
    refused(args, 1, "no tokenizer.json: a GGUF needs the tokenizer"); /* checked before writing */
    g_assert_false(g_file_test(fresh, G_FILE_TEST_EXISTS));
    g_free(args);
    args = g_strdup_printf("--model_name_or_path %s --export_dir %s --no_such_key 1", model,
                           fresh);
    refused(args, 2, "--no_such_key: not a key hone export reads");
    g_free(args);

    test_remove_tree(dir);
    g_free(fresh);
    g_free(adapter);
    g_free(model);
    g_free(keep);
    g_free(full);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ref = test_make_tmpdir();
    const char *args[] = {"make", ref, NULL};
    test_run_reference_args("export_ref.py", args);
    g_test_add_func("/export/lora_shards", test_lora_shards);
    g_test_add_func("/export/dora_single_file", test_dora_single_file);
    g_test_add_func("/export/two_adapters", test_two_adapters);
    g_test_add_func("/export/stacked_adapters", test_stacked_adapters);
    g_test_add_func("/export/tied_bf16", test_tied_bf16);
    g_test_add_func("/export/smollm_q8_0", test_smollm_q8_0);
    g_test_add_func("/export/smollm_f16", test_smollm_f16);
    g_test_add_func("/export/smollm_bf16", test_smollm_bf16);
    g_test_add_func("/export/folder_gguf_tokenizer", test_folder_gguf_tokenizer);
    g_test_add_func("/export/bad_input", test_bad_input);
    int status = g_test_run();
    test_remove_tree(ref);
    g_free(ref);
    return status;
}
