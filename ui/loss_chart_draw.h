/* Drawing the Train page's loss chart with cairo, apart from any widget (so a test can render it
 * into an image surface): the raw training loss as a light line, its smoothed curve
 * (hn_loss_smooth, LLaMA-Factory's smooth()) as a dark one, evaluation losses as dots, axes
 * with ticks at 1-2-5 steps and labels. Sizes are in user units (logical pixels; a HiDPI
 * surface scales them). */
#pragma once

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
  const double *steps, *loss;           /* training loss per logging step */
  size_t n;
  const double *eval_steps, *eval_loss; /* evaluation loss per evaluation */
  size_t n_eval;
} HoneLossData;

typedef struct {
  double r, g, b;
} HoneRgb;

typedef struct {
  HoneRgb background, foreground; /* foreground: axes, ticks and labels */
  HoneRgb line;                   /* the smoothed loss; the raw loss is the same, faint */
  HoneRgb eval;                   /* the evaluation dots */
  double font_size;
  bool fill_background; /* false: drawn over what is there (a widget's own background) */
} HoneLossChartStyle;

/* Where the plot lies: data (x, y) maps to
 * (plot_x + (x - x_min) / (x_max - x_min) * plot_width,
 *  plot_y + (y_max - y) / (y_max - y_min) * plot_height). */
typedef struct {
  double plot_x, plot_y, plot_width, plot_height;
  double x_min, x_max, y_min, y_max; /* never an empty range */
  double x_tick, y_tick;             /* tick spacing in data units */
} HoneLossChartFrame;

/* The light-theme style (Adwaita's colours: blue 3 line, orange 4 eval dots). */
void hone_loss_chart_style_default (HoneLossChartStyle *style);

/* The frame for data on a width x height area (non-finite values are left out of the ranges;
 * with no data the axes show steps 0-1 and losses 0-1). */
void hone_loss_chart_layout (const HoneLossData *data, double width, double height,
                             const HoneLossChartStyle *style, HoneLossChartFrame *frame);

double hone_loss_chart_x (const HoneLossChartFrame *frame, double step);
double hone_loss_chart_y (const HoneLossChartFrame *frame, double loss);

/* The tick spacing for a range shown in about `count` ticks: 1, 2 or 5 times a power of ten
 * (whole numbers at least 1 when integer). */
double hone_loss_chart_tick (double range, int count, bool integer);

/* The training point (an index into data->steps) nearest to x along the step axis, among the
 * finite ones; -1 when there is none. */
long hone_loss_chart_nearest (const HoneLossChartFrame *frame, const HoneLossData *data, double x);

/* Over a drawn chart: a marker at point index (raw and smoothed values) with a label
 * "step S  loss L  smoothed M" in a box kept inside the plot. */
void hone_loss_chart_draw_hover (cairo_t *cr, const HoneLossData *data, double width,
                                 double height, const HoneLossChartStyle *style, long index);

/* Draws the chart on cr over (0, 0, width, height). */
void hone_loss_chart_draw (cairo_t *cr, const HoneLossData *data, double width, double height,
                           const HoneLossChartStyle *style);
