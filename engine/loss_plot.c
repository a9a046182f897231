/* training_loss.png with cairo, after LLaMA-Factory's plot_loss (extras/ploting.py): the
 * figure's parts (title, axes labels, "original" at alpha 0.4 and "smoothed" in #1f77b4, a
 * legend placed where it covers the fewest points as matplotlib's loc="best" tries to) drawn
 * antialiased on a white picture. The axes show the data's range plus 5% on each side
 * (matplotlib's default margins), widened when all values are equal. */
#include "loss_plot.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "atomic_file.h"

/* matplotlib's default colour cycle's first colour, #1f77b4. */
#define LINE_R (0x1f / 255.0)
#define LINE_G (0x77 / 255.0)
#define LINE_B (0xb4 / 255.0)
#define RAW_ALPHA 0.4 /* plot_loss draws the original values with alpha=0.4 */

/* Space around the plot area, in pixels of a 1000 x 600 picture (scaled with the height). */
#define MARGIN_LEFT 95.0
#define MARGIN_RIGHT 30.0
#define MARGIN_TOP 55.0
#define MARGIN_BOTTOM 70.0
#define LEGEND_WIDTH 150.0
#define LEGEND_HEIGHT 62.0
#define LEGEND_PAD 12.0

void hn_loss_smooth(const double *values, size_t n, double *out)
{
    if (n == 0)
        return;
    /* smooth() in llamafactory/extras/ploting.py, operation for operation. */
    double weight = 1.8 * (1.0 / (1.0 + exp(-0.05 * (double)n)) - 0.5);
    double last = values[0];
    for (size_t i = 0; i < n; i++) {
        double smoothed = last * weight + (1.0 - weight) * values[i];
        out[i] = smoothed;
        last = smoothed;
    }
}

/* [lo, hi] of the finite values; false when there is none. */
static bool finite_range(const double *v, size_t n, double *lo, double *hi)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        if (!any || v[i] < *lo)
            *lo = v[i];
        if (!any || v[i] > *hi)
            *hi = v[i];
        any = true;
    }
    return any;
}

/* matplotlib's view limits: a flat range widened (nonsingular: +-5% of the value, or +-0.05
 * around 0), then 5% margins on each side. */
static void view_limits(bool any, double lo, double hi, double *min, double *max)
{
    if (!any) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo <= 1e-12 * fmax(fabs(lo), fabs(hi))) {
        double pad = lo == 0 ? 0.05 : 0.05 * fabs(lo);
        lo -= pad;
        hi += pad;
    }
    double margin = 0.05 * (hi - lo);
    *min = lo - margin;
    *max = hi + margin;
}

static double to_px_x(const hn_loss_plot_frame *f, double x)
{
    return f->plot_x + (x - f->x_min) / (f->x_max - f->x_min) * f->plot_width;
}

static double to_px_y(const hn_loss_plot_frame *f, double y)
{
    return f->plot_y + (f->y_max - y) / (f->y_max - f->y_min) * f->plot_height;
}

/* Points of both lines inside a legend box at (x, y): its badness for loc="best". */
static size_t points_under(const hn_loss_plot_frame *f, const double *steps,
                           const double *values, const double *smoothed, size_t n, double x,
                           double y)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        double px = to_px_x(f, steps[i]);
        for (int line = 0; line < 2; line++) {
            double v = line == 0 ? values[i] : smoothed[i];
            if (!isfinite(v))
                continue;
            double py = to_px_y(f, v);
            count += px >= x && px <= x + f->legend_width && py >= y && py <= y + f->legend_height;
        }
    }
    return count;
}

static void layout(const double *steps, const double *values, const double *smoothed, size_t n,
                   int width, int height, hn_loss_plot_frame *f)
{
    double scale = height / 600.0;
    *f = (hn_loss_plot_frame){0};
    f->plot_x = MARGIN_LEFT * scale;
    f->plot_y = MARGIN_TOP * scale;
    f->plot_width = fmax(width - (MARGIN_LEFT + MARGIN_RIGHT) * scale, 1);
    f->plot_height = fmax(height - (MARGIN_TOP + MARGIN_BOTTOM) * scale, 1);
    double lo = 0, hi = 0;
    bool any = finite_range(steps, n, &lo, &hi);
    view_limits(any, lo, hi, &f->x_min, &f->x_max);
    double slo = 0, shi = 0;
    any = finite_range(values, n, &lo, &hi);
    if (finite_range(smoothed, n, &slo, &shi)) {
        lo = any ? fmin(lo, slo) : slo;
        hi = any ? fmax(hi, shi) : shi;
        any = true;
    }
    view_limits(any, lo, hi, &f->y_min, &f->y_max);
    /* loc="best": matplotlib's order of trial places, the first with the fewest points. */
    f->legend_width = LEGEND_WIDTH * scale;
    f->legend_height = LEGEND_HEIGHT * scale;
    double pad = LEGEND_PAD * scale;
    double left = f->plot_x + pad, right = f->plot_x + f->plot_width - pad - f->legend_width;
    double top = f->plot_y + pad, bottom = f->plot_y + f->plot_height - pad - f->legend_height;
    const double corners[4][2] = {{right, top}, {left, top}, {left, bottom}, {right, bottom}};
    size_t best = SIZE_MAX;
    for (int i = 0; i < 4; i++) {
        size_t bad = points_under(f, steps, values, smoothed, n, corners[i][0], corners[i][1]);
        if (bad < best) {
            best = bad;
            f->legend_x = corners[i][0];
            f->legend_y = corners[i][1];
        }
    }
}

void hn_loss_plot_layout(const double *steps, const double *values, size_t n, int width,
                         int height, hn_loss_plot_frame *frame)
{
    double *smoothed = g_new(double, n > 0 ? n : 1);
    hn_loss_smooth(values, n, smoothed);
    layout(steps, values, smoothed, n, width, height, frame);
    g_free(smoothed);
}

/* A tick spacing of 1, 2, 2.5 or 5 times a power of ten giving at most ~8 ticks (an integer
 * spacing of at least 1 for steps). */
static double tick_spacing(double range, bool integer)
{
    double raw = range / 8.0;
    double magnitude = pow(10.0, floor(log10(raw)));
    const double steps[] = {1, 2, 2.5, 5, 10};
    double spacing = 10 * magnitude;
    for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
        double s = steps[i] * magnitude;
        if (integer && s != floor(s))
            continue;
        if (s >= raw) {
            spacing = s;
            break;
        }
    }
    return integer ? fmax(spacing, 1) : spacing;
}

/* "0.25", "1.5", "1200": as many decimals as the spacing needs. */
static void tick_label(double value, double spacing, char *buf, size_t size)
{
    int decimals = 0;
    while (decimals < 12 && fabs(spacing * pow(10, decimals) -
                                 round(spacing * pow(10, decimals))) > 1e-6 * spacing * pow(10, decimals))
        decimals++;
    if (fabs(value) < spacing * 1e-9)
        value = 0; /* not "-0.00" */
    snprintf(buf, size, "%.*f", decimals, value);
}

static void show_text_at(cairo_t *cr, const char *text, double x, double y, double align_x,
                         double align_y)
{
    cairo_text_extents_t ext;
    cairo_text_extents(cr, text, &ext);
    cairo_move_to(cr, x - ext.x_bearing - align_x * ext.width,
                  y - ext.y_bearing - align_y * ext.height);
    cairo_show_text(cr, text);
}

static void draw_axes(cairo_t *cr, const hn_loss_plot_frame *f, double scale,
                      const char *y_label)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.0 * scale);
    cairo_rectangle(cr, f->plot_x, f->plot_y, f->plot_width, f->plot_height);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 13 * scale);
    char label[64];
    double tick = 6 * scale;
    for (int axis = 0; axis < 2; axis++) {
        double lo = axis == 0 ? f->x_min : f->y_min, hi = axis == 0 ? f->x_max : f->y_max;
        double spacing = tick_spacing(hi - lo, axis == 0);
        double first = ceil(lo / spacing), last = floor(hi / spacing);
        for (double k = first; k <= last && k - first < 50; k++) {
            double v = k * spacing;
            tick_label(v, spacing, label, sizeof label);
            if (axis == 0) {
                double x = to_px_x(f, v), y = f->plot_y + f->plot_height;
                cairo_move_to(cr, x, y);
                cairo_line_to(cr, x, y + tick);
                cairo_stroke(cr);
                show_text_at(cr, label, x, y + tick + 4 * scale, 0.5, 0);
            } else {
                double y = to_px_y(f, v);
                cairo_move_to(cr, f->plot_x, y);
                cairo_line_to(cr, f->plot_x - tick, y);
                cairo_stroke(cr);
                show_text_at(cr, label, f->plot_x - tick - 4 * scale, y, 1, 0.5);
            }
        }
    }
    cairo_set_font_size(cr, 15 * scale);
    show_text_at(cr, "step", f->plot_x + f->plot_width / 2,
                 f->plot_y + f->plot_height + 36 * scale, 0.5, 0);
    cairo_save(cr);
    cairo_translate(cr, 22 * scale, f->plot_y + f->plot_height / 2);
    cairo_rotate(cr, -M_PI / 2);
    show_text_at(cr, y_label, 0, 0, 0.5, 0);
    cairo_restore(cr);
}

/* A polyline through the finite points, broken where a value is not finite; one isolated
 * point becomes a dot. */
static void draw_line(cairo_t *cr, const hn_loss_plot_frame *f, const double *steps,
                      const double *values, size_t n, double alpha, double width)
{
    cairo_set_source_rgba(cr, LINE_R, LINE_G, LINE_B, alpha);
    cairo_set_line_width(cr, width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    size_t run = 0;
    for (size_t i = 0; i <= n; i++) {
        bool ok = i < n && isfinite(values[i]) && isfinite(steps[i]);
        if (ok) {
            double x = to_px_x(f, steps[i]), y = to_px_y(f, values[i]);
            if (run++ == 0)
                cairo_move_to(cr, x, y);
            else
                cairo_line_to(cr, x, y);
            continue;
        }
        if (run == 1) {
            double x, y;
            cairo_get_current_point(cr, &x, &y);
            cairo_new_path(cr);
            cairo_arc(cr, x, y, 2.5 * width, 0, 2 * M_PI);
            cairo_fill(cr);
        } else if (run > 1) {
            cairo_stroke(cr);
        }
        run = 0;
    }
}

static void draw_legend(cairo_t *cr, const hn_loss_plot_frame *f, double scale)
{
    double x = f->legend_x, y = f->legend_y, w = f->legend_width, h = f->legend_height;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.8); /* matplotlib's legend: framealpha 0.8 */
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
    cairo_set_line_width(cr, 1.0 * scale);
    cairo_stroke(cr);
    const char *names[2] = {"original", "smoothed"};
    cairo_set_font_size(cr, 14 * scale);
    for (int i = 0; i < 2; i++) {
        double row = y + h * (i + 0.5) / 2;
        cairo_set_source_rgba(cr, LINE_R, LINE_G, LINE_B, i == 0 ? RAW_ALPHA : 1.0);
        cairo_set_line_width(cr, 2.0 * scale);
        cairo_move_to(cr, x + 10 * scale, row);
        cairo_line_to(cr, x + 45 * scale, row);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        show_text_at(cr, names[i], x + 55 * scale, row, 0, 0.5);
    }
}

static cairo_status_t append_bytes(void *closure, const unsigned char *data, unsigned int length)
{
    g_byte_array_append(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

hn_status hn_loss_plot_write_png(const char *path, const char *title, const char *y_label,
                                 const double *steps, const double *values, size_t n, int width,
                                 int height, hn_error *err)
{
    if (width < 100 || height < 100)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: a plot of %d x %d pixels is too small "
                       "(at least 100 x 100)", path, width, height);
    double *smoothed = g_new(double, n > 0 ? n : 1);
    hn_loss_smooth(values, n, smoothed);
    hn_loss_plot_frame f;
    layout(steps, values, smoothed, n, width, height, &f);
    double scale = height / 600.0;

    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(surface);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_BEST);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

    /* The title, made smaller until it fits (output folders can be long). */
    double size = 17 * scale;
    cairo_text_extents_t ext;
    for (;; size *= 0.9) {
        cairo_set_font_size(cr, size);
        cairo_text_extents(cr, title, &ext);
        if (ext.width <= width - 20 * scale || size < 6)
            break;
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    show_text_at(cr, title, f.plot_x + f.plot_width / 2, f.plot_y - 12 * scale, 0.5, 1);
    draw_axes(cr, &f, scale, y_label);

    cairo_save(cr);
    cairo_rectangle(cr, f.plot_x, f.plot_y, f.plot_width, f.plot_height);
    cairo_clip(cr);
    draw_line(cr, &f, steps, values, n, RAW_ALPHA, 2.0 * scale);
    draw_line(cr, &f, steps, smoothed, n, 1.0, 2.0 * scale);
    cairo_restore(cr);
    draw_legend(cr, &f, scale);
    g_free(smoothed);

    cairo_destroy(cr);
    GByteArray *png = g_byte_array_new();
    cairo_status_t cs = cairo_surface_status(surface);
    if (cs == CAIRO_STATUS_SUCCESS)
        cs = cairo_surface_write_to_png_stream(surface, append_bytes, png);
    cairo_surface_destroy(surface);
    hn_status s = cs == CAIRO_STATUS_SUCCESS
                      ? hn_atomic_write_all(path, png->data, png->len, err)
                      : hn_fail(err, HN_ERR_IO, "%s: cairo could not draw the plot: %s", path,
                                cairo_status_to_string(cs));
    g_byte_array_unref(png);
    return s;
}

hn_status hn_loss_plot_write(const hn_train_history *history, const char *dir, const char *key,
                             bool *written, hn_error *err)
{
    *written = false;
    double *steps = NULL, *values = NULL;
    size_t n = hn_train_history_series(history, key, &steps, &values);
    hn_status s = HN_OK;
    if (n > 0) {
        char *file_key = g_strdelimit(g_strdup(key), "/", '_');
        char *name = g_strdup_printf("training_%s.png", file_key);
        char *path = g_build_filename(dir, name, NULL);
        char *title = g_strdup_printf("training %s of %s", key, dir);
        s = hn_loss_plot_write_png(path, title, key, steps, values, n, HN_LOSS_PLOT_WIDTH,
                                   HN_LOSS_PLOT_HEIGHT, err);
        *written = s == HN_OK;
        g_free(title);
        g_free(path);
        g_free(name);
        g_free(file_key);
    }
    g_free(steps);
    g_free(values);
    return s;
}

hn_status hn_loss_plot_write_run(const hn_train_history *history, const char *dir,
                                 const char *stage, hn_error *err)
{
    /* the workflows' keys: run_sft and run_rm ["loss", "eval_loss", "eval_accuracy"], run_dpo
     * ["loss", "rewards/accuracies", "eval_loss"], run_kto ["loss", "rewards/chosen",
     * "eval_loss"]; a key the history lacks gets no plot */
    const char *extra = strcmp(stage, "dpo") == 0   ? "rewards/accuracies"
                        : strcmp(stage, "kto") == 0 ? "rewards/chosen"
                                                    : "eval_accuracy";
    const char *keys[] = {"loss", extra, "eval_loss"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        bool written;
        HN_TRY(hn_loss_plot_write(history, dir, keys[i], &written, err));
    }
    return HN_OK;
}
