/* The Train page's fields as text, apart from any widget: which training keys the page shows
 * (those the engine trains with; LLaMA-Factory's Web UI groups), the Web UI's defaults, and the
 * round trip between the form and hn_train_args (engine/train_args.h). The widgets only copy
 * text in and out of a HoneTrainForm, so everything here is unit-testable. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "hn_error.h"
#include "train_args.h"

typedef enum {
  HONE_FIELD_TEXT,     /* free text (lists are comma lists) */
  HONE_FIELD_PATH,     /* a file or folder, with a picker */
  HONE_FIELD_INT,      /* a whole number */
  HONE_FIELD_NUMBER,   /* a real number */
  HONE_FIELD_CHOICE,   /* one of the field's choices */
  HONE_FIELD_SWITCH,   /* true / false */
  HONE_FIELD_DATASETS, /* several names from dataset_info.json, as a comma list */
} HoneFieldKind;

/* Where a field shows: the top bar, or the Train page's groups as upstream's Web UI has them. */
typedef enum {
  HONE_GROUP_TOP,
  HONE_GROUP_MAIN,
  HONE_GROUP_EXTRA,
  HONE_GROUP_FREEZE,
  HONE_GROUP_LORA,
  HONE_GROUP_RLHF,
  HONE_GROUP_OUTPUT,
  HONE_GROUP_COUNT,
} HoneFieldGroup;

typedef struct {
  const char *key;     /* the training key, or "compute_type" (bf16 / fp32, as upstream's UI), or
                          "model_name" (known_models.h; not saved, it follows the model path) */
  const char *label;   /* what the page shows */
  HoneFieldKind kind;
  HoneFieldGroup group;
  const char *choices; /* HONE_FIELD_CHOICE: "a|b" the engine builds (a subset of the key's) */
  double step;         /* numbers: the spin button's step */
  int digits;          /* numbers: decimals shown */
} HoneFormField;

/* The fields, in page order. */
const HoneFormField *hone_train_form_fields (size_t *n);
const HoneFormField *hone_train_form_field (const char *key);
/* The values a choice field offers (NULL-terminated, g_strfreev): the field's own subset or all
 * of the engine's key's; the model names of known_models.h then Custom; the template "" (the
 * model's own, auto) then the engine's template names (chat_template.h). */
char **hone_train_form_choices (const HoneFormField *field);
/* What a choice shows for a value ("auto" for the template ""; else the value). */
const char *hone_train_form_choice_label (const HoneFormField *field, const char *value);
/* The group's title ("Extra configurations", "LoRA configurations", ...). */
const char *hone_train_form_group_title (HoneFieldGroup group);

/* One text per field, never NULL; "" leaves a key without a default unset. */
typedef struct {
  char **values;       /* values[i] belongs to hone_train_form_fields ()[i] */
  char *saves_root;    /* relative output folders go under saves_root/MODEL/METHOD/ */
} HoneTrainForm;

/* The page as it opens: the engine's defaults (hn_train_args_init), then the values
 * LLaMA-Factory's Web UI starts with where they differ, and output_dir
 * train_YYYY-MM-DD-HH-MM-SS for now. saves_root NULL: $XDG_DATA_HOME/hone/saves. */
void hone_train_form_init (HoneTrainForm *form, const char *saves_root, GDateTime *now);
void hone_train_form_clear (HoneTrainForm *form);

const char *hone_train_form_get (const HoneTrainForm *form, const char *key);
/* Sets a field's text (NULL as ""); false for a key the form does not have. */
bool hone_train_form_set (HoneTrainForm *form, const char *key, const char *text);

/* "train_2026-11-29-11-39-17" (upstream's get_time()-based default name). g_free. */
char *hone_train_form_output_name (GDateTime *now);
/* Where a run's output goes: output_dir as it is when absolute, else under
 * saves_root/<model folder's name>/<finetuning type>/ as upstream's get_save_dir. g_free. */
char *hone_train_form_output_path (const HoneTrainForm *form);

/* $XDG_DATA_HOME/hone/saves (g_free). */
char *hone_train_form_default_saves_root (void);
/* saves_root/<model's folder or file name>/<method>, where this model's runs of this method go
 * (upstream's get_save_dir); saves_root NULL: the default. g_free. */
char *hone_train_form_saves_dir (const char *saves_root, const char *model, const char *method);

/* The form over args (after hn_train_args_init), each field through hn_train_args_set so that
 * a bad value gets the engine's message, naming the field's label; do_train and plot_loss on
 * as the Web UI sets them. */
hn_status hone_train_form_to_args (const HoneTrainForm *form, hn_train_args *args,
                                   hn_error *err);
/* The form from args (a loaded training_args.yaml): every field's text; an output_dir under
 * the form's saves folder for this model and method shows as its name. */
void hone_train_form_from_args (HoneTrainForm *form, const hn_train_args *args);

/* Load arguments: a YAML or JSON file of training keys (hn_train_args_load over the engine's
 * defaults) into every field; ignored (may be NULL) gets the keys Hone does not use
 * (g_strfreev). Keys Hone uses that the page does not show are not kept. */
hn_status hone_train_form_load (HoneTrainForm *form, const char *path, char ***ignored,
                                hn_error *err);
/* Save arguments: the form's arguments as training_args.yaml text (hn_train_args_to_yaml),
 * written atomically to path. */
hn_status hone_train_form_save (const HoneTrainForm *form, const char *path, hn_error *err);

/* The names in DIR/dataset_info.json that the engine can read (hn_dataset_info_resolve
 * accepts them), in file order; NULL-terminated, g_strfreev. An unreadable file is an error. */
hn_status hone_dataset_names (const char *dataset_dir, const char *stage, char ***names,
                              hn_error *err);
