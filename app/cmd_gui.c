/* hone gui (and `hone` alone): opens the desktop app (ui/), or says why it cannot. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "omp_wait.h"
#include "config.h"

#if HONE_HAVE_GUI
#include "hone_gui.h"
#endif

int hone_cmd_gui(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: hone gui\n       hone\n\nOpens the desktop app: the Train, Evaluate, "
                   "Chat and Export pages over the same\nengine as the command line. Needs a "
                   "graphical session (Wayland or X11).\n");
            return HONE_EXIT_OK;
        }
        fprintf(stderr, "hone gui: unexpected argument '%s'\nTry 'hone gui --help'.\n", argv[i]);
        return HONE_EXIT_USAGE;
    }
#if HONE_HAVE_GUI
    hone_prefer_short_spinning(argc, argv); /* the Chat page decodes in this process */
    return hone_gui_run(argc, argv) == 0 ? HONE_EXIT_OK : HONE_EXIT_FAILURE;
#else
    fprintf(stderr, "hone gui: this hone was built without the desktop app (-Dgui=disabled, or "
                    "GTK 4.8+ / libadwaita 1.2+ were missing at build time). The command line "
                    "works: 'hone --help'.\n");
    return HONE_EXIT_FAILURE;
#endif
}
