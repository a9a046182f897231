/* train_form.c: the Train page's fields as text and their round trip with hn_train_args. The
 * groups, labels and the Web UI's starting values follow LLaMA-Factory's
 * webui/components/train.py and top.py; the rest of the defaults, the ranges and the choices
 * come from the engine's key table (hn_train_args_key_info), never typed again here. */
#include "train_form.h"
#include "i18n.h"

#include <string.h>

#include "atomic_file.h"
#include "chat_template.h"
#include "dataset_info.h"
#include "json_read.h"
#include "known_models.h"


#define ALL_CHOICES NULL /* a choice field that offers every choice of the engine's key */

static const HoneFormField FIELDS[] = {
  /* top bar (webui/components/top.py); model_name is no training key: it picks the template
   * and comes back from the model path (known_models.h) */
  { "model_name", N_ ("Model name"), HONE_FIELD_CHOICE, HONE_GROUP_TOP, NULL, 0, 0 },
  { "model_name_or_path", N_ ("Model path"), HONE_FIELD_PATH, HONE_GROUP_TOP, NULL, 0, 0 },
  { "finetuning_type", N_ ("Finetuning method"),
    HONE_FIELD_CHOICE, HONE_GROUP_TOP, ALL_CHOICES, 0, 0 },
  { "adapter_name_or_path", N_ ("Checkpoint path"), HONE_FIELD_PATH, HONE_GROUP_TOP, NULL, 0, 0 },
  { "template", N_ ("Chat template"), HONE_FIELD_CHOICE, HONE_GROUP_TOP, NULL, 0, 0 },
  { "backend", N_ ("Backend"), HONE_FIELD_CHOICE, HONE_GROUP_TOP, ALL_CHOICES, 0, 0 },
  /* main rows; stage offers what hn_train_args_check accepts (ppo is not built) */
  { "stage", N_ ("Stage"), HONE_FIELD_CHOICE, HONE_GROUP_MAIN, "pt|sft|rm|dpo|kto", 0, 0 },
  { "dataset_dir", N_ ("Data folder"), HONE_FIELD_PATH, HONE_GROUP_MAIN, NULL, 0, 0 },
  { "dataset", N_ ("Datasets"), HONE_FIELD_DATASETS, HONE_GROUP_MAIN, NULL, 0, 0 },
  /* Hone's keys: what identity.json's {{name}} and {{author}} become (docs/DATASETS.md) */
  { "identity_name", N_ ("Identity name ({{name}})"),
    HONE_FIELD_TEXT, HONE_GROUP_MAIN, NULL, 0, 0 },
  { "identity_author", N_ ("Identity author ({{author}})"),
    HONE_FIELD_TEXT, HONE_GROUP_MAIN, NULL, 0, 0 },
  { "learning_rate", N_ ("Learning rate"), HONE_FIELD_NUMBER, HONE_GROUP_MAIN, NULL, 1e-5, 6 },
  { "num_train_epochs", N_ ("Epochs"), HONE_FIELD_NUMBER, HONE_GROUP_MAIN, NULL, 1, 1 },
  { "max_grad_norm", N_ ("Maximum gradient norm"),
    HONE_FIELD_NUMBER, HONE_GROUP_MAIN, NULL, 0.1, 2 },
  { "max_samples", N_ ("Maximum samples per dataset"),
    HONE_FIELD_INT, HONE_GROUP_MAIN, NULL, 1, 0 },
  /* fp16 and pure_bf16 are GPU compute types the engine refuses until the CUDA backend trains */
  { "compute_type", N_ ("Compute type"), HONE_FIELD_CHOICE, HONE_GROUP_MAIN, "bf16|fp32", 0, 0 },
  { "cutoff_len", N_ ("Cutoff length"), HONE_FIELD_INT, HONE_GROUP_MAIN, NULL, 1, 0 },
  { "per_device_train_batch_size", N_ ("Batch size"), HONE_FIELD_INT, HONE_GROUP_MAIN, NULL, 1, 0 },
  { "gradient_accumulation_steps", N_ ("Gradient accumulation"), HONE_FIELD_INT, HONE_GROUP_MAIN,
    NULL, 1, 0 },
  { "val_size", N_ ("Validation size"), HONE_FIELD_NUMBER, HONE_GROUP_MAIN, NULL, 0.001, 3 },
  { "lr_scheduler_type", N_ ("Learning rate scheduler"), HONE_FIELD_CHOICE, HONE_GROUP_MAIN,
    ALL_CHOICES, 0, 0 },
  { "seed", N_ ("Seed"), HONE_FIELD_INT, HONE_GROUP_MAIN, NULL, 1, 0 },
  /* extra configurations */
  { "logging_steps", N_ ("Logging steps"), HONE_FIELD_INT, HONE_GROUP_EXTRA, NULL, 1, 0 },
  { "save_steps", N_ ("Save steps"), HONE_FIELD_INT, HONE_GROUP_EXTRA, NULL, 10, 0 },
  { "warmup_steps", N_ ("Warmup steps"), HONE_FIELD_INT, HONE_GROUP_EXTRA, NULL, 1, 0 },
  { "packing", N_ ("Packing"), HONE_FIELD_SWITCH, HONE_GROUP_EXTRA, NULL, 0, 0 },
  { "neat_packing", N_ ("Neat packing"), HONE_FIELD_SWITCH, HONE_GROUP_EXTRA, NULL, 0, 0 },
  { "train_on_prompt", N_ ("Train on prompt"), HONE_FIELD_SWITCH, HONE_GROUP_EXTRA, NULL, 0, 0 },
  { "mask_history", N_ ("Mask history"), HONE_FIELD_SWITCH, HONE_GROUP_EXTRA, NULL, 0, 0 },
  { "enable_thinking", N_ ("Enable thinking"), HONE_FIELD_SWITCH, HONE_GROUP_EXTRA, NULL, 0, 0 },
  /* freeze */
  { "freeze_trainable_layers", N_ ("Trainable layers"),
    HONE_FIELD_INT, HONE_GROUP_FREEZE, NULL, 1, 0 },
  { "freeze_trainable_modules", N_ ("Trainable modules"),
    HONE_FIELD_TEXT, HONE_GROUP_FREEZE, NULL, 0,
    0 },
  { "freeze_extra_modules", N_ ("Extra modules"), HONE_FIELD_TEXT, HONE_GROUP_FREEZE, NULL, 0, 0 },
  /* LoRA */
  { "lora_rank", N_ ("LoRA rank"), HONE_FIELD_INT, HONE_GROUP_LORA, NULL, 1, 0 },
  { "lora_alpha", N_ ("LoRA alpha"), HONE_FIELD_NUMBER, HONE_GROUP_LORA, NULL, 1, 0 },
  { "lora_dropout", N_ ("LoRA dropout"), HONE_FIELD_NUMBER, HONE_GROUP_LORA, NULL, 0.01, 2 },
  { "loraplus_lr_ratio", N_ ("LoRA+ learning rate ratio"), HONE_FIELD_NUMBER, HONE_GROUP_LORA, NULL,
    0.01, 2 },
  { "create_new_adapter", N_ ("Create new adapter"),
    HONE_FIELD_SWITCH, HONE_GROUP_LORA, NULL, 0, 0 },
  { "use_rslora", N_ ("Use rsLoRA"), HONE_FIELD_SWITCH, HONE_GROUP_LORA, NULL, 0, 0 },
  { "use_dora", N_ ("Use DoRA"), HONE_FIELD_SWITCH, HONE_GROUP_LORA, NULL, 0, 0 },
  { "pissa_init", N_ ("Use PiSSA"), HONE_FIELD_SWITCH, HONE_GROUP_LORA, NULL, 0, 0 },
  { "lora_target", N_ ("LoRA modules"), HONE_FIELD_TEXT, HONE_GROUP_LORA, NULL, 0, 0 },
  { "additional_target", N_ ("Additional modules"), HONE_FIELD_TEXT, HONE_GROUP_LORA, NULL, 0, 0 },
  /* RLHF (webui/components/train.py's rlhf_tab: the preference stages' keys) */
  { "pref_beta", N_ ("Beta value"), HONE_FIELD_NUMBER, HONE_GROUP_RLHF, NULL, 0.01, 2 },
  { "pref_ftx", N_ ("Ftx gamma"), HONE_FIELD_NUMBER, HONE_GROUP_RLHF, NULL, 0.01, 2 },
  { "pref_loss", N_ ("Loss type"), HONE_FIELD_CHOICE, HONE_GROUP_RLHF, "sigmoid|hinge|ipo|orpo|simpo",
    0, 0 },
  { "simpo_gamma", N_ ("SimPO gamma"), HONE_FIELD_NUMBER, HONE_GROUP_RLHF, NULL, 0.05, 2 },
  /* bottom */
  { "output_dir", N_ ("Output folder"), HONE_FIELD_TEXT, HONE_GROUP_OUTPUT, NULL, 0, 0 },
};

/* Where the Web UI starts from a value other than the argument classes' default
 * (webui/components/train.py: max_samples "100000", batch_size 2, gradient_accumulation_steps
 * 8, lr_scheduler_type "cosine", logging_steps 5, save_steps 100, lora_alpha 16, compute_type
 * "bf16"). */
static const char *const WEBUI_START[][2] = {
  { "max_samples", "100000" },
  { "per_device_train_batch_size", "2" },
  { "gradient_accumulation_steps", "8" },
  { "lr_scheduler_type", "cosine" },
  { "logging_steps", "5" },
  { "save_steps", "100" },
  { "lora_alpha", "16" },
  { "bf16", "true" },
};

const HoneFormField *
hone_train_form_fields (size_t *n)
{
  *n = G_N_ELEMENTS (FIELDS);
  return FIELDS;
}

static gssize
field_index (const char *key)
{
  for (size_t i = 0; i < G_N_ELEMENTS (FIELDS); i++)
    if (strcmp (FIELDS[i].key, key) == 0)
      return (gssize) i;
  return -1;
}

const HoneFormField *
hone_train_form_field (const char *key)
{
  gssize i = field_index (key);
  return i >= 0 ? &FIELDS[i] : NULL;
}

const char *
hone_train_form_group_title (HoneFieldGroup group)
{
  static const char *const titles[HONE_GROUP_COUNT] = {
    [HONE_GROUP_TOP] = N_ ("Model"),
    [HONE_GROUP_MAIN] = N_ ("Training"),
    [HONE_GROUP_EXTRA] = N_ ("Extra configurations"),
    [HONE_GROUP_FREEZE] = N_ ("Freeze tuning configurations"),
    [HONE_GROUP_LORA] = N_ ("LoRA configurations"),
    [HONE_GROUP_RLHF] = N_ ("RLHF configurations"),
    [HONE_GROUP_OUTPUT] = N_ ("Output"),
  };
  return group < HONE_GROUP_COUNT ? titles[group] : "";
}

char *
hone_train_form_default_saves_root (void)
{
  return g_build_filename (g_get_user_data_dir (), "hone", "saves", NULL);
}

char **
hone_train_form_choices (const HoneFormField *field)
{
  if (strcmp (field->key, "model_name") == 0)
    return hone_known_model_names ();
  if (strcmp (field->key, "template") == 0) { /* "" first: the model's own (auto) */
    const char *const *engine = hn_chat_template_names ();
    guint n = g_strv_length ((char **) engine);
    char **names = g_new0 (char *, n + 2);
    names[0] = g_strdup ("");
    for (guint i = 0; i < n; i++)
      names[i + 1] = g_strdup (engine[i]);
    return names;
  }
  hn_train_arg_info info = { 0 };
  const char *choices = field->choices;
  if (choices == NULL && hn_train_args_key_info (field->key, &info))
    choices = info.choices;
  return g_strsplit (choices != NULL ? choices : "", "|", -1);
}

const char *
hone_train_form_choice_label (const HoneFormField *field, const char *value)
{
  if (strcmp (field->key, "template") == 0 && value[0] == '\0')
    return _("auto");
  return value;
}

char *
hone_train_form_output_name (GDateTime *now)
{
  return g_date_time_format (now, "train_%Y-%m-%d-%H-%M-%S");
}

void
hone_train_form_init (HoneTrainForm *form, const char *saves_root, GDateTime *now)
{
  form->values = g_new0 (char *, G_N_ELEMENTS (FIELDS) + 1);
  for (size_t i = 0; i < G_N_ELEMENTS (FIELDS); i++)
    form->values[i] = g_strdup ("");
  form->saves_root = saves_root != NULL ? g_strdup (saves_root)
                                         : hone_train_form_default_saves_root ();
  hn_train_args args;
  hn_train_args_init (&args);
  for (size_t i = 0; i < G_N_ELEMENTS (WEBUI_START); i++) {
    hn_error err = { 0 };
    hn_status s = hn_train_args_set (&args, WEBUI_START[i][0], WEBUI_START[i][1], "Web UI", &err);
    g_assert (s == HN_OK);
  }
  hone_train_form_from_args (form, &args);
  hn_train_args_clear (&args);
  char *name = hone_train_form_output_name (now);
  hone_train_form_set (form, "output_dir", name);
  g_free (name);
}

void
hone_train_form_clear (HoneTrainForm *form)
{
  g_strfreev (form->values);
  g_free (form->saves_root);
  *form = (HoneTrainForm){ 0 };
}

const char *
hone_train_form_get (const HoneTrainForm *form, const char *key)
{
  gssize i = field_index (key);
  return i >= 0 ? form->values[i] : NULL;
}

bool
hone_train_form_set (HoneTrainForm *form, const char *key, const char *text)
{
  gssize i = field_index (key);
  if (i < 0)
    return false;
  g_free (form->values[i]);
  form->values[i] = g_strdup (text != NULL ? text : "");
  return true;
}

char *
hone_train_form_saves_dir (const char *saves_root, const char *model, const char *method)
{
  char *trimmed = g_strdup (model != NULL ? model : "");
  while (strlen (trimmed) > 1 && g_str_has_suffix (trimmed, G_DIR_SEPARATOR_S))
    trimmed[strlen (trimmed) - 1] = '\0';
  char *name = trimmed[0] != '\0' ? g_path_get_basename (trimmed) : g_strdup ("model");
  char *root = saves_root != NULL ? g_strdup (saves_root) : hone_train_form_default_saves_root ();
  char *dir = g_build_filename (root, name, method, NULL);
  g_free (root);
  g_free (name);
  g_free (trimmed);
  return dir;
}

static char *
saves_dir (const HoneTrainForm *form, const char *model, const char *method)
{
  return hone_train_form_saves_dir (form->saves_root, model, method);
}

char *
hone_train_form_output_path (const HoneTrainForm *form)
{
  const char *out = hone_train_form_get (form, "output_dir");
  if (g_path_is_absolute (out))
    return g_strdup (out);
  char *dir = saves_dir (form, hone_train_form_get (form, "model_name_or_path"),
                         hone_train_form_get (form, "finetuning_type"));
  char *path = g_build_filename (dir, out, NULL);
  g_free (dir);
  return path;
}

static hn_status
set_key (hn_train_args *args, const HoneFormField *f, const char *key, const char *text,
         hn_error *err)
{
  char *where = g_strdup_printf ("Train page, %s", f->label);
  hn_status s = hn_train_args_set (args, key, text, where, err);
  g_free (where);
  if (s == HN_ERR_UNSUPPORTED) /* the table names a key the engine lost: a bug here */
    return hn_fail (err, s, "the Train page's field %s (%s) is not a training key", f->label,
                    key);
  return s;
}

hn_status
hone_train_form_to_args (const HoneTrainForm *form, hn_train_args *args, hn_error *err)
{
  for (size_t i = 0; i < G_N_ELEMENTS (FIELDS); i++) {
    const HoneFormField *f = &FIELDS[i];
    const char *text = form->values[i];
    if (strcmp (f->key, "compute_type") == 0) {
      if (strcmp (text, "bf16") != 0 && strcmp (text, "fp32") != 0)
        return hn_fail (err, HN_ERR_ARGUMENT, "Train page, %s: must be bf16 or fp32, found \"%s\"",
                        f->label, text);
      HN_TRY (set_key (args, f, "bf16", strcmp (text, "bf16") == 0 ? "true" : "false", err));
      continue;
    }
    if (strcmp (f->key, "model_name") == 0)
      continue; /* the top bar's, not a training key */
    if (strcmp (f->key, "output_dir") == 0) {
      if (text[0] == '\0')
        return hn_fail (err, HN_ERR_ARGUMENT, "Train page, %s: needs a folder name", f->label);
      char *path = hone_train_form_output_path (form);
      hn_status s = set_key (args, f, f->key, path, err);
      g_free (path);
      HN_TRY (s);
      continue;
    }
    hn_train_arg_info info;
    if (!hn_train_args_key_info (f->key, &info))
      return hn_fail (err, HN_ERR_UNSUPPORTED, "the Train page's field %s (%s) is not a "
                      "training key", f->label, f->key);
    if (text[0] == '\0' && info.fallback == NULL)
      continue; /* left unset, as upstream's None */
    HN_TRY (set_key (args, f, f->key, text, err));
  }
  args->do_train = true; /* runner.py's _parse_train_args sets both */
  args->plot_loss = true;
  return HN_OK;
}

void
hone_train_form_from_args (HoneTrainForm *form, const hn_train_args *args)
{
  for (size_t i = 0; i < G_N_ELEMENTS (FIELDS); i++) {
    const char *key = FIELDS[i].key;
    char *text = NULL;
    if (strcmp (key, "compute_type") == 0) {
      text = g_strdup (args->bf16 ? "bf16" : "fp32");
    } else if (strcmp (key, "model_name") == 0) {
      text = g_strdup (hone_known_model_from_path (args->model_name_or_path));
    } else if (strcmp (key, "output_dir") == 0 && args->output_dir != NULL) {
      char *dir = saves_dir (form, args->model_name_or_path, args->finetuning_type);
      size_t n = strlen (dir);
      const char *rest = args->output_dir + n;
      bool under = strncmp (args->output_dir, dir, n) == 0 && rest[0] == G_DIR_SEPARATOR &&
                   rest[1] != '\0' && strchr (rest + 1, G_DIR_SEPARATOR) == NULL;
      text = g_strdup (under ? rest + 1 : args->output_dir);
      g_free (dir);
    } else {
      text = hn_train_args_get (args, key);
    }
    g_free (form->values[i]);
    form->values[i] = text != NULL ? text : g_strdup ("");
  }
}

hn_status
hone_train_form_load (HoneTrainForm *form, const char *path, char ***ignored, hn_error *err)
{
  hn_train_args args;
  hn_train_args_init (&args);
  hn_status s = hn_train_args_load (&args, path, ignored, err);
  if (s == HN_OK)
    hone_train_form_from_args (form, &args);
  hn_train_args_clear (&args);
  return s;
}

hn_status
hone_train_form_save (const HoneTrainForm *form, const char *path, hn_error *err)
{
  hn_train_args args;
  hn_train_args_init (&args);
  hn_status s = hone_train_form_to_args (form, &args, err);
  if (s == HN_OK) {
    char *yaml = hn_train_args_to_yaml (&args);
    s = hn_atomic_write_all (path, yaml, strlen (yaml), err);
    g_free (yaml);
  }
  hn_train_args_clear (&args);
  return s;
}

/* Whether a dataset suits a stage, as upstream's Web UI lists them (list_datasets): ranking
 * datasets for rm and dpo, the others for every other stage; any for NULL. */
static gboolean
suits_stage (const hn_dataset_attr *attrs, size_t n, const char *stage)
{
  if (stage == NULL || stage[0] == '\0')
    return TRUE;
  gboolean pairs = strcmp (stage, "rm") == 0 || strcmp (stage, "dpo") == 0;
  for (size_t i = 0; i < n; i++)
    if (attrs[i].ranking != pairs)
      return FALSE;
  return TRUE;
}

hn_status
hone_dataset_names (const char *dataset_dir, const char *stage, char ***names, hn_error *err)
{
  char *path = g_build_filename (dataset_dir, "dataset_info.json", NULL);
  cJSON *root = NULL;
  hn_status s = hn_json_load_object (path, &root, err);
  g_free (path);
  if (s != HN_OK)
    return s;
  GPtrArray *list = g_ptr_array_new ();
  for (const cJSON *entry = root->child; entry != NULL; entry = entry->next) {
    if (entry->string == NULL || strchr (entry->string, ',') != NULL)
      continue; /* a comma would split the dataset list */
    hn_dataset_attr *attrs = NULL;
    size_t n = 0;
    hn_error ignored = { 0 };
    if (hn_dataset_info_resolve (dataset_dir, entry->string, &attrs, &n, &ignored) == HN_OK) {
      if (suits_stage (attrs, n, stage))
        g_ptr_array_add (list, g_strdup (entry->string));
      hn_dataset_attrs_free (attrs, n);
    }
  }
  cJSON_Delete (root);
  g_ptr_array_add (list, NULL);
  *names = (char **) g_ptr_array_free (list, FALSE);
  return HN_OK;
}
