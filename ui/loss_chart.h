/* HoneLossChart: the Train page's live loss chart, a widget over loss_chart_draw.c. Points are
 * added as trainer_log.jsonl grows; the chart redraws at any size and scale (cairo draws in
 * logical pixels, GTK scales them for HiDPI); the pointer shows the nearest step's values. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HONE_TYPE_LOSS_CHART (hone_loss_chart_get_type ())
G_DECLARE_FINAL_TYPE (HoneLossChart, hone_loss_chart, HONE, LOSS_CHART, GtkWidget)

GtkWidget *hone_loss_chart_new (void);
/* A training loss at step (NAN values are kept but not drawn). */
void hone_loss_chart_add_loss (HoneLossChart *chart, double step, double loss);
/* An evaluation loss at step. */
void hone_loss_chart_add_eval (HoneLossChart *chart, double step, double loss);
void hone_loss_chart_clear (HoneLossChart *chart);
/* Points held: training losses and evaluation losses. */
guint hone_loss_chart_n_loss (HoneLossChart *chart);
guint hone_loss_chart_n_eval (HoneLossChart *chart);

G_END_DECLS
