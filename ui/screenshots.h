/* A test hook: with HONE_GUI_SCREENSHOTS=DIR set, the app saves DIR/PAGE.png of the window on
 * each page (train, evaluate, chat, export, and train-end: the Train page scrolled to its end
 * after Preview command) once it has drawn, then quits. With HONE_GUI_TRAIN set to "key=value"
 * lines it then fills those Train fields, presses Start, waits for the run to end, prints the
 * chart's point counts and saves train-run.png. With HONE_GUI_CHAT set to a model path it
 * shows the Chat page, sets the top bar's model to it (and its checkpoint path to
 * HONE_GUI_CHAT_ADAPTER when set), presses Load, sends HONE_GUI_CHAT_QUESTION (default "What
 * is 2+2?"), waits for the answer, prints "chat status: ..." and "chat reply: ..." lines and saves
 * chat-run.png; with HONE_GUI_CHAT_FAST set to a model path it then turns the fast decoding
 * switch on, loads that model (no adapter), prints "chat status: ..." and saves chat-fast.png.
 * With HONE_GUI_EVAL set to "key=value" lines it fills those Evaluate page (or
 * top bar) fields, presses Start, waits for the evaluation to end, prints "eval status: ..."
 * and "eval result METRIC: VALUE" lines and saves eval-run.png; with HONE_GUI_EVAL_ERROR
 * ("key=value" lines over HONE_GUI_EVAL's) it first runs those the same way into
 * eval-error.png. With HONE_GUI_EXPORT set to a model path (and HONE_GUI_EXPORT_DIR to a
 * folder) it shows the Export page, sets the top bar's model and the export folder, presses Export,
 * waits for the end, prints "export status: ..." and one "export file: NAME<tab>BYTES" line
 * per file of the summary and saves export-run.png; with HONE_GUI_EXPORT_CANCEL_DIR it first
 * exports into that folder and presses Cancel at once, prints "export status: ..." and saves
 * export-cancel.png. The runs go in that order (train, chat,
 * evaluate, export) in one session, so they chain: a training run's output as the chat's
 * checkpoint, kept in the top bar for the export. Used by the Xvfb smoke test
 * (tests/test_gui_smoke.sh); nothing else calls it. */
#pragma once

#include "hone_window.h"

void hone_screenshots_take (HoneWindow *window, const char *dir);
