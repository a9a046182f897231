/* The subcommand front ends, one file each. */
#pragma once

#include "backend.h"

int hone_cmd_env(int argc, char **argv);
int hone_cmd_tokenize(int argc, char **argv);
int hone_cmd_score(int argc, char **argv);
/* `hone score --reward` (cmd_score_reward.c): the exit code. */
int hone_score_reward(const char *model_path, const char *adapter_path, const char *template_name,
                      const hn_backend *backend);
int hone_cmd_train(int argc, char **argv);
int hone_cmd_chat(int argc, char **argv);
int hone_cmd_eval(int argc, char **argv);
int hone_cmd_gui(int argc, char **argv);
int hone_cmd_export(int argc, char **argv);
