/* loss_chart_draw.c: the loss chart's layout and cairo drawing (see loss_chart_draw.h). The
 * ranges get matplotlib's default 5% margins as training_loss.png has (engine/loss_plot.c);
 * tick spacing is the "nice numbers" rule of Heckbert, Graphics Gems I (1990), 1-2-5 steps. */
#include "loss_chart_draw.h"

#include <glib.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>

#include "i18n.h"
#include "loss_plot.h"

#define RAW_ALPHA 0.35 /* the raw loss is faint under its smoothed curve */
#define LINE_WIDTH 2.0
#define EVAL_RADIUS 4.0

void
hone_loss_chart_style_default (HoneLossChartStyle *style)
{
  /* GNOME's palette (Adwaita): blue 3 #3584e4, orange 4 #e66100; text #241f31 on white */
  *style = (HoneLossChartStyle){
    .background = { 1, 1, 1 },
    .foreground = { 0x24 / 255.0, 0x1f / 255.0, 0x31 / 255.0 },
    .line = { 0x35 / 255.0, 0x84 / 255.0, 0xe4 / 255.0 },
    .eval = { 0xe6 / 255.0, 0x61 / 255.0, 0x00 / 255.0 },
    .font_size = 12,
    .fill_background = true,
  };
}

static void
extend (const double *v, size_t n, double *lo, double *hi, bool *any)
{
  for (size_t i = 0; i < n; i++) {
    if (!isfinite (v[i]))
      continue;
    if (!*any || v[i] < *lo)
      *lo = v[i];
    if (!*any || v[i] > *hi)
      *hi = v[i];
    *any = true;
  }
}

/* A flat range widened, then 5% margins (matplotlib's defaults). */
static void
view_range (bool any, double lo, double hi, double *min, double *max)
{
  if (!any) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo <= 1e-12 * fmax (fabs (lo), fabs (hi))) {
    double pad = lo == 0 ? 0.05 : 0.05 * fabs (lo);
    lo -= pad;
    hi += pad;
  }
  double margin = 0.05 * (hi - lo);
  *min = lo - margin;
  *max = hi + margin;
}

double
hone_loss_chart_tick (double range, int count, bool integer)
{
  double raw = range / (count > 0 ? count : 1);
  double power = pow (10, floor (log10 (raw)));
  double f = raw / power;
  double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  double tick = nice * power;
  return integer && tick < 1 ? 1 : tick;
}

void
hone_loss_chart_layout (const HoneLossData *data, double width, double height,
                        const HoneLossChartStyle *style, HoneLossChartFrame *frame)
{
  double fs = style->font_size;
  double left = fs * 4.5, right = fs * 1.5, top = fs * 1.0, bottom = fs * 3.2;
  frame->plot_x = left;
  frame->plot_y = top;
  frame->plot_width = fmax (1, width - left - right);
  frame->plot_height = fmax (1, height - top - bottom);

  bool any_x = false, any_y = false;
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  extend (data->steps, data->n, &x_lo, &x_hi, &any_x);
  extend (data->eval_steps, data->n_eval, &x_lo, &x_hi, &any_x);
  extend (data->loss, data->n, &y_lo, &y_hi, &any_y);
  extend (data->eval_loss, data->n_eval, &y_lo, &y_hi, &any_y);
  view_range (any_x, x_lo, x_hi, &frame->x_min, &frame->x_max);
  view_range (any_y, y_lo, y_hi, &frame->y_min, &frame->y_max);
  /* about one tick per 80 units across, one per 40 up */
  frame->x_tick = hone_loss_chart_tick (frame->x_max - frame->x_min,
                                        (int) fmax (2, frame->plot_width / 80), true);
  frame->y_tick = hone_loss_chart_tick (frame->y_max - frame->y_min,
                                        (int) fmax (2, frame->plot_height / 40), false);
}

double
hone_loss_chart_x (const HoneLossChartFrame *f, double step)
{
  return f->plot_x + (step - f->x_min) / (f->x_max - f->x_min) * f->plot_width;
}

double
hone_loss_chart_y (const HoneLossChartFrame *f, double loss)
{
  return f->plot_y + (f->y_max - loss) / (f->y_max - f->y_min) * f->plot_height;
}

static void
set_rgb (cairo_t *cr, HoneRgb c, double alpha)
{
  cairo_set_source_rgba (cr, c.r, c.g, c.b, alpha);
}

/* Text with its (align_x, align_y) point at (x, y): 0 left/top, 0.5 centre, 1 right/bottom.
 * cairo's toy text takes one font without fallback, so text beyond ASCII (a translation) is
 * laid out by Pango, which finds a font for each script, at the same size. */
static void
text_at (cairo_t *cr, const char *text, double x, double y, double align_x, double align_y)
{
  if (!g_str_is_ascii (text)) {
    cairo_matrix_t font;
    cairo_get_font_matrix (cr, &font);
    PangoLayout *layout = pango_cairo_create_layout (cr);
    PangoFontDescription *desc = pango_font_description_from_string ("Sans");
    pango_font_description_set_absolute_size (desc, font.yy * PANGO_SCALE);
    pango_layout_set_font_description (layout, desc);
    pango_layout_set_text (layout, text, -1);
    PangoRectangle ink;
    pango_layout_get_pixel_extents (layout, &ink, NULL);
    cairo_move_to (cr, x - ink.x - align_x * ink.width, y - ink.y - align_y * ink.height);
    pango_cairo_show_layout (cr, layout);
    pango_font_description_free (desc);
    g_object_unref (layout);
    return;
  }
  cairo_text_extents_t ext;
  cairo_text_extents (cr, text, &ext);
  cairo_move_to (cr, x - ext.x_bearing - align_x * ext.width,
                 y - ext.y_bearing - align_y * ext.height);
  cairo_show_text (cr, text);
}

static void
tick_label (double value, double tick, char *buf, size_t size)
{
  int decimals = tick >= 1 ? 0 : (int) ceil (-log10 (tick) - 1e-9);
  if (fabs (value) < tick * 1e-9)
    value = 0; /* no "-0.0" */
  snprintf (buf, size, "%.*f", decimals, value);
}

static void
draw_axes (cairo_t *cr, const HoneLossChartFrame *f, const HoneLossChartStyle *style)
{
  double fs = style->font_size;
  cairo_set_line_width (cr, 1);
  char label[64];

  /* light grid lines and ticks with labels */
  for (double x = ceil (f->x_min / f->x_tick) * f->x_tick; x <= f->x_max + 1e-9 * f->x_tick;
       x += f->x_tick) {
    double px = round (hone_loss_chart_x (f, x)) + 0.5;
    set_rgb (cr, style->foreground, 0.12);
    cairo_move_to (cr, px, f->plot_y);
    cairo_line_to (cr, px, f->plot_y + f->plot_height);
    cairo_stroke (cr);
    set_rgb (cr, style->foreground, 1);
    cairo_move_to (cr, px, f->plot_y + f->plot_height);
    cairo_line_to (cr, px, f->plot_y + f->plot_height + fs * 0.3);
    cairo_stroke (cr);
    tick_label (x, f->x_tick, label, sizeof label);
    text_at (cr, label, px, f->plot_y + f->plot_height + fs * 0.5, 0.5, 0);
  }
  for (double y = ceil (f->y_min / f->y_tick) * f->y_tick; y <= f->y_max + 1e-9 * f->y_tick;
       y += f->y_tick) {
    double py = round (hone_loss_chart_y (f, y)) + 0.5;
    set_rgb (cr, style->foreground, 0.12);
    cairo_move_to (cr, f->plot_x, py);
    cairo_line_to (cr, f->plot_x + f->plot_width, py);
    cairo_stroke (cr);
    set_rgb (cr, style->foreground, 1);
    cairo_move_to (cr, f->plot_x - fs * 0.3, py);
    cairo_line_to (cr, f->plot_x, py);
    cairo_stroke (cr);
    tick_label (y, f->y_tick, label, sizeof label);
    text_at (cr, label, f->plot_x - fs * 0.5, py, 1, 0.5);
  }
  set_rgb (cr, style->foreground, 1);
  cairo_rectangle (cr, round (f->plot_x) + 0.5, round (f->plot_y) + 0.5, round (f->plot_width),
                   round (f->plot_height));
  cairo_stroke (cr);
  text_at (cr, "step", f->plot_x + f->plot_width / 2, f->plot_y + f->plot_height + fs * 1.9,
           0.5, 0);
  cairo_save (cr);
  cairo_translate (cr, fs * 0.3, f->plot_y + f->plot_height / 2);
  cairo_rotate (cr, -G_PI / 2);
  text_at (cr, "loss", 0, 0, 0.5, 0);
  cairo_restore (cr);
}

/* A polyline through the finite points; a lone point shows as a dot. */
static void
draw_line (cairo_t *cr, const HoneLossChartFrame *f, const double *xs, const double *ys,
           size_t n)
{
  bool open = false;
  size_t in_run = 0;
  double last_x = 0, last_y = 0;
  for (size_t i = 0; i <= n; i++) {
    bool ok = i < n && isfinite (xs[i]) && isfinite (ys[i]);
    if (!ok) {
      if (open && in_run == 1) {
        cairo_new_path (cr);
        cairo_arc (cr, last_x, last_y, LINE_WIDTH, 0, 2 * G_PI);
        cairo_fill (cr);
      } else if (open) {
        cairo_stroke (cr);
      }
      open = false;
      in_run = 0;
      continue;
    }
    last_x = hone_loss_chart_x (f, xs[i]);
    last_y = hone_loss_chart_y (f, ys[i]);
    if (!open)
      cairo_move_to (cr, last_x, last_y);
    else
      cairo_line_to (cr, last_x, last_y);
    open = true;
    in_run++;
  }
}

static void
draw_legend (cairo_t *cr, const HoneLossChartFrame *f, const HoneLossChartStyle *style,
             bool has_eval)
{
  double fs = style->font_size;
  const char *names[] = { "loss", "smoothed", "eval loss" };
  int count = has_eval ? 3 : 2;
  double x = f->plot_x + f->plot_width - fs * 8.5, y = f->plot_y + fs * 0.9;
  for (int i = 0; i < count; i++, y += fs * 1.4) {
    if (i < 2) {
      set_rgb (cr, style->line, i == 0 ? RAW_ALPHA : 1);
      cairo_set_line_width (cr, LINE_WIDTH);
      cairo_move_to (cr, x, y);
      cairo_line_to (cr, x + fs * 1.6, y);
      cairo_stroke (cr);
    } else {
      set_rgb (cr, style->eval, 1);
      cairo_arc (cr, x + fs * 0.8, y, EVAL_RADIUS, 0, 2 * G_PI);
      cairo_fill (cr);
    }
    set_rgb (cr, style->foreground, 1);
    text_at (cr, names[i], x + fs * 2.1, y, 0, 0.5);
  }
}

long
hone_loss_chart_nearest (const HoneLossChartFrame *f, const HoneLossData *data, double x)
{
  long best = -1;
  double best_d = INFINITY;
  for (size_t i = 0; i < data->n; i++) {
    if (!isfinite (data->steps[i]) || !isfinite (data->loss[i]))
      continue;
    double d = fabs (hone_loss_chart_x (f, data->steps[i]) - x);
    if (d < best_d) {
      best_d = d;
      best = (long) i;
    }
  }
  return best;
}

/* The smoothed value at index, smoothing the finite points as the chart does. */
static double
smoothed_at (const HoneLossData *data, long index)
{
  double *ys = g_new (double, data->n + 1), *sm = g_new (double, data->n + 1);
  size_t m = 0, at = 0;
  for (size_t i = 0; i < data->n; i++)
    if (isfinite (data->steps[i]) && isfinite (data->loss[i])) {
      if ((long) i == index)
        at = m;
      ys[m++] = data->loss[i];
    }
  hn_loss_smooth (ys, m, sm);
  double v = m > 0 ? sm[at] : NAN;
  g_free (ys);
  g_free (sm);
  return v;
}

void
hone_loss_chart_draw_hover (cairo_t *cr, const HoneLossData *data, double width, double height,
                            const HoneLossChartStyle *style, long index)
{
  if (index < 0 || (size_t) index >= data->n || !isfinite (data->loss[index]))
    return;
  HoneLossChartFrame f;
  hone_loss_chart_layout (data, width, height, style, &f);
  double fs = style->font_size;
  double x = hone_loss_chart_x (&f, data->steps[index]);
  double smooth = smoothed_at (data, index);
  cairo_save (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, fs);
  set_rgb (cr, style->foreground, 0.35);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, round (x) + 0.5, f.plot_y);
  cairo_line_to (cr, round (x) + 0.5, f.plot_y + f.plot_height);
  cairo_stroke (cr);
  set_rgb (cr, style->line, 1);
  cairo_arc (cr, x, hone_loss_chart_y (&f, smooth), EVAL_RADIUS, 0, 2 * G_PI);
  cairo_fill (cr);
  /* the raw loss's light colour, opaque so that it does not darken over the raw line */
  HoneRgb light = { RAW_ALPHA * style->line.r + (1 - RAW_ALPHA) * style->background.r,
                    RAW_ALPHA * style->line.g + (1 - RAW_ALPHA) * style->background.g,
                    RAW_ALPHA * style->line.b + (1 - RAW_ALPHA) * style->background.b };
  set_rgb (cr, light, 1);
  cairo_arc (cr, x, hone_loss_chart_y (&f, data->loss[index]), EVAL_RADIUS, 0, 2 * G_PI);
  cairo_fill (cr);

  char label[128];
  char step[32];
  tick_label (data->steps[index], 1, step, sizeof step);
  snprintf (label, sizeof label, "step %s  loss %.4f  smoothed %.4f", step, data->loss[index],
            smooth);
  cairo_text_extents_t ext;
  cairo_text_extents (cr, label, &ext);
  double pad = fs * 0.4, bw = ext.width + 2 * pad, bh = fs + 2 * pad;
  /* right of the marker, or left of it near the right edge; at the plot's bottom */
  double bx = x + fs * 0.6;
  if (bx + bw > f.plot_x + f.plot_width)
    bx = x - fs * 0.6 - bw;
  bx = fmax (bx, f.plot_x);
  double by = f.plot_y + f.plot_height - bh - fs * 0.4;
  set_rgb (cr, style->background, 0.92);
  cairo_rectangle (cr, bx, by, bw, bh);
  cairo_fill (cr);
  set_rgb (cr, style->foreground, 1);
  text_at (cr, label, bx + pad, by + bh / 2, 0, 0.5);
  cairo_restore (cr);
}

void
hone_loss_chart_draw (cairo_t *cr, const HoneLossData *data, double width, double height,
                      const HoneLossChartStyle *style)
{
  HoneLossChartFrame f;
  hone_loss_chart_layout (data, width, height, style, &f);
  cairo_save (cr);
  if (style->fill_background) {
    set_rgb (cr, style->background, 1);
    cairo_rectangle (cr, 0, 0, width, height);
    cairo_fill (cr);
  }
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, style->font_size);
  draw_axes (cr, &f, style);

  /* smooth the finite points only, as a NaN would spread through the moving average */
  double *xs = g_new (double, data->n + 1), *ys = g_new (double, data->n + 1);
  size_t m = 0;
  for (size_t i = 0; i < data->n; i++)
    if (isfinite (data->steps[i]) && isfinite (data->loss[i])) {
      xs[m] = data->steps[i];
      ys[m++] = data->loss[i];
    }
  double *smooth = g_new (double, m + 1);
  hn_loss_smooth (ys, m, smooth);

  cairo_rectangle (cr, f.plot_x, f.plot_y, f.plot_width, f.plot_height);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_width (cr, LINE_WIDTH);
  set_rgb (cr, style->line, RAW_ALPHA);
  draw_line (cr, &f, xs, ys, m);
  set_rgb (cr, style->line, 1);
  draw_line (cr, &f, xs, smooth, m);
  set_rgb (cr, style->eval, 1);
  bool has_eval = false;
  for (size_t i = 0; i < data->n_eval; i++) {
    if (!isfinite (data->eval_steps[i]) || !isfinite (data->eval_loss[i]))
      continue;
    cairo_arc (cr, hone_loss_chart_x (&f, data->eval_steps[i]),
               hone_loss_chart_y (&f, data->eval_loss[i]), EVAL_RADIUS, 0, 2 * G_PI);
    cairo_fill (cr);
    has_eval = true;
  }
  cairo_reset_clip (cr);
  if (m > 0) {
    draw_legend (cr, &f, style, has_eval);
  } else if (!has_eval) {
    set_rgb (cr, style->foreground, 0.6);
    text_at (cr, _ ("The loss shows here while a run trains"), f.plot_x + f.plot_width / 2,
             f.plot_y + f.plot_height / 2, 0.5, 0.5);
  }
  g_free (xs);
  g_free (ys);
  g_free (smooth);
  cairo_restore (cr);
}
