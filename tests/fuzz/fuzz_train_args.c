/* libFuzzer target: arbitrary bytes as a training config, read as YAML and as JSON. Reading
 * must fail cleanly or succeed; after a success the checks run, and the YAML Hone writes for
 * the arguments must read back to the same text (training_args.yaml round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train_args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const hn_train_args *args)
{
    hn_error err;
    char *yaml = hn_train_args_to_yaml(args);
    hn_train_args again;
    hn_train_args_init(&again);
    if (hn_train_args_parse(&again, yaml, strlen(yaml), "fuzz/written.yaml", false, NULL,
                            &err) != HN_OK)
        abort(); /* what Hone writes, Hone must read */
    char *yaml_again = hn_train_args_to_yaml(&again);
    if (strcmp(yaml, yaml_again) != 0)
        abort();
    g_free(yaml);
    g_free(yaml_again);
    hn_train_args_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int json = 0; json < 2; json++) {
        hn_train_args args;
        hn_train_args_init(&args);
        hn_error err;
        char **ignored = NULL;
        if (hn_train_args_parse(&args, (const char *)data, size, "fuzz/train.yaml", json,
                                &ignored, &err) == HN_OK) {
            (void)hn_train_args_check(&args, &err);
            round_trip(&args);
        }
        g_strfreev(ignored);
        hn_train_args_clear(&args);
    }
    return 0;
}
