/* The desktop app's entry point for `hone` and `hone gui`. */
#pragma once

/* Opens the app and runs until its window closes; returns the exit code. Without a display it
 * says so on stderr and returns 1. argv[0] is "gui" (or the program); options after it are
 * GTK's. */
int hone_gui_run (int argc, char **argv);
