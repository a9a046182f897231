/* Subcommands that later work fills in. Until then each answers --help with what it will do,
 * and anything else with a plain "not built yet" and exit code 1, never a pretend result. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"

int hone_cmd_unbuilt(int argc, char **argv)
{
    const char *name = argv[0];
    const hone_command *command = NULL;
    for (const hone_command *c = hone_commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            command = c;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: hone %s [OPTIONS]\n\n%s.\n\nNot built yet in hone %s: this command "
                   "exists in the plan but does nothing so far.\n",
                   name, command != NULL ? command->summary : name, HONE_VERSION);
            return HONE_EXIT_OK;
        }
    }
    fprintf(stderr,
            "hone %s: not built yet in hone %s (planned: %s).\n"
            "What works now: 'hone env' and 'hone env --model PATH'.\n",
            name, HONE_VERSION, command != NULL ? command->summary : name);
    return HONE_EXIT_FAILURE;
}
