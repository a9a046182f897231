/* The subcommand front ends, one file each. */
#pragma once

int hone_cmd_env(int argc, char **argv);
int hone_cmd_tokenize(int argc, char **argv);
int hone_cmd_score(int argc, char **argv);
int hone_cmd_train(int argc, char **argv);
int hone_cmd_chat(int argc, char **argv);
int hone_cmd_export(int argc, char **argv);
/* Commands whose engine part is not built yet: says so plainly. */
int hone_cmd_unbuilt(int argc, char **argv);
