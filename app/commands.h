/* The subcommand front ends, one file each. */
#pragma once

int hone_cmd_env(int argc, char **argv);
int hone_cmd_tokenize(int argc, char **argv);
int hone_cmd_score(int argc, char **argv);
int hone_cmd_train(int argc, char **argv);
int hone_cmd_chat(int argc, char **argv);
int hone_cmd_eval(int argc, char **argv);
int hone_cmd_gui(int argc, char **argv);
int hone_cmd_export(int argc, char **argv);
