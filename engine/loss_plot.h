/* Loss curves as PNG pictures, drawn with cairo the way LLaMA-Factory's plot_loss
 * (llamafactory/extras/ploting.py) draws training_loss.png with matplotlib: the logged values
 * as a faint line ("original"), their TensorBoard-style moving average as a solid one
 * ("smoothed"), both in matplotlib's first colour #1f77b4, titled "training KEY of DIR", axes
 * "step" and KEY, a legend. One point shows as a dot; any count of points has readable ticks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "hn_error.h"
#include "train_history.h"

#define HN_LOSS_PLOT_WIDTH 1000
#define HN_LOSS_PLOT_HEIGHT 600

/* LLaMA-Factory's smooth(): an exponential moving average started at values[0] whose weight
 * grows with the count, 1.8 * (sigmoid(0.05 n) - 0.5). out may be values. */
void hn_loss_smooth(const double *values, size_t n, double *out);

/* Where a plot's parts lie, in pixels from the top left; data (x, y) maps to
 * (plot_x + (x - x_min) / (x_max - x_min) * plot_width,
 *  plot_y + (y_max - y) / (y_max - y_min) * plot_height). */
typedef struct {
    double plot_x, plot_y, plot_width, plot_height;
    double x_min, x_max, y_min, y_max; /* the data range the axes show (never empty) */
    double legend_x, legend_y, legend_width, legend_height;
} hn_loss_plot_frame;

/* The layout hn_loss_plot_write_png uses for these points on a width x height picture. */
void hn_loss_plot_layout(const double *steps, const double *values, size_t n, int width,
                         int height, hn_loss_plot_frame *frame);

/* Draws the curve of (steps[i], values[i]) into a width x height PNG at path, atomically.
 * Non-finite values are left out of the lines. */
hn_status hn_loss_plot_write_png(const char *path, const char *title, const char *y_label,
                                 const double *steps, const double *values, size_t n, int width,
                                 int height, hn_error *err);

/* plot_loss(dir, keys=[key]) for one key: DIR/training_KEY.png ('/' in KEY as '_') from the
 * history's entries holding KEY, titled "training KEY of DIR". With no such entry nothing is
 * written and *written is false (LLaMA-Factory warns "No metric KEY to plot." then). */
hn_status hn_loss_plot_write(const hn_train_history *history, const char *dir, const char *key,
                             bool *written, hn_error *err);
/* The plots LLaMA-Factory's workflow of stage makes when plot_loss is set: training_loss.png,
 * training_eval_loss.png, and training_eval_accuracy.png (pt, sft, rm),
 * training_rewards_accuracies.png (dpo) or training_rewards_chosen.png (kto), each when the
 * history holds the key. */
hn_status hn_loss_plot_write_run(const hn_train_history *history, const char *dir,
                                 const char *stage, hn_error *err);
