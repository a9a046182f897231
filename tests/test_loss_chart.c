/* The loss chart's drawing (ui/loss_chart_draw.c) rendered into cairo image surfaces: the
 * smoothed loss, the raw loss and the evaluation dots land on the pixels their data maps to,
 * nowhere else, at scale 1 and 2 (HiDPI); ticks fall on 1-2-5 steps. */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <string.h>

#include "loss_chart_draw.h"
#include "loss_plot.h"
#include "test_util.h"

#define W 640
#define H 360
#define N 60

typedef struct {
    double steps[N], loss[N], smooth[N];
    double eval_steps[3], eval_loss[3];
    HoneLossData data;
} chart_case;

/* A falling, noisy loss curve (random noise, fixed seed) with three evaluations. */
static void make_case(chart_case *c)
{
    GRand *rand = g_rand_new_with_seed(7);
    for (int i = 0; i < N; i++) {
        c->steps[i] = 5.0 * (i + 1);
        c->loss[i] = 0.6 + 2.0 * exp(-i / 15.0) + g_rand_double_range(rand, -0.25, 0.25);
    }
    hn_loss_smooth(c->loss, N, c->smooth); /* checked against upstream in test_train_history */
    for (int i = 0; i < 3; i++) {
        c->eval_steps[i] = 100.0 * (i + 1);
        c->eval_loss[i] = 1.4 - 0.2 * i + g_rand_double_range(rand, -0.05, 0.05);
    }
    g_rand_free(rand);
    c->data = (HoneLossData){c->steps, c->loss, N, c->eval_steps, c->eval_loss, 3};
}

typedef struct {
    cairo_surface_t *surface;
    int scale;
} picture;

static picture render(const HoneLossData *data, const HoneLossChartStyle *style, int scale)
{
    picture p = {cairo_image_surface_create(CAIRO_FORMAT_RGB24, W * scale, H * scale), scale};
    cairo_surface_set_device_scale(p.surface, scale, scale);
    cairo_t *cr = cairo_create(p.surface);
    hone_loss_chart_draw(cr, data, W, H, style);
    g_assert_cmpint(cairo_status(cr), ==, CAIRO_STATUS_SUCCESS);
    cairo_destroy(cr);
    cairo_surface_flush(p.surface);
    return p;
}

static HoneRgb pixel(const picture *p, int x, int y)
{
    const unsigned char *row = cairo_image_surface_get_data(p->surface) +
                               (size_t)y * (size_t)cairo_image_surface_get_stride(p->surface);
    guint32 v;
    memcpy(&v, row + 4 * x, 4);
    return (HoneRgb){((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0, (v & 255) / 255.0};
}

static double distance(HoneRgb a, HoneRgb b)
{
    return fmax(fabs(a.r - b.r), fmax(fabs(a.g - b.g), fabs(a.b - b.b)));
}

/* The smallest colour distance to want over the pixels within `radius` logical units of the
 * logical point (x, y). */
static double nearest(const picture *p, double x, double y, double radius, HoneRgb want)
{
    double best = INFINITY;
    int s = p->scale;
    int r = (int)ceil(radius * s);
    int cx = (int)floor(x * s), cy = (int)floor(y * s);
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
            int px = cx + dx, py = cy + dy;
            if (px < 0 || py < 0 || px >= W * s || py >= H * s)
                continue;
            best = fmin(best, distance(pixel(p, px, py), want));
        }
    return best;
}

static HoneRgb over(HoneRgb fg, double alpha, HoneRgb bg)
{
    return (HoneRgb){alpha * fg.r + (1 - alpha) * bg.r, alpha * fg.g + (1 - alpha) * bg.g,
                     alpha * fg.b + (1 - alpha) * bg.b};
}

static void check_chart(int scale)
{
    chart_case c;
    make_case(&c);
    HoneLossChartStyle style;
    hone_loss_chart_style_default(&style);
    HoneLossChartFrame f;
    hone_loss_chart_layout(&c.data, W, H, &style, &f);
    picture p = render(&c.data, &style, scale);
    HoneRgb raw_colour = over(style.line, 0.35, style.background);

    /* the ranges: the data's plus 5% margins on both sides */
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < N; i++)
        lo = fmin(lo, c.loss[i]), hi = fmax(hi, c.loss[i]);
    g_assert_cmpfloat_with_epsilon(f.y_min, lo - 0.05 * (hi - lo), 1e-12);
    g_assert_cmpfloat_with_epsilon(f.y_max, hi + 0.05 * (hi - lo), 1e-12);
    g_assert_cmpfloat_with_epsilon(f.x_min, 5 - 0.05 * 295, 1e-12);
    g_assert_cmpfloat_with_epsilon(hone_loss_chart_x(&f, 5), f.plot_x + f.plot_width / 22, 1e-9);

    int checked_raw = 0;
    for (int i = 2; i < N - 2; i++) {
        double x = hone_loss_chart_x(&f, c.steps[i]);
        double ys = hone_loss_chart_y(&f, c.smooth[i]);
        double yr = hone_loss_chart_y(&f, c.loss[i]);
        bool near_eval = fabs(c.steps[i] - 100) <= 10 || fabs(c.steps[i] - 200) <= 10 ||
                         fabs(c.steps[i] - 300) <= 10; /* the dots are drawn on top */
        /* the dark smoothed line passes within a pixel of its point */
        if (!near_eval)
            g_assert_cmpfloat(nearest(&p, x, ys, 1, style.line), <, 0.12);
        /* the light raw line passes its point where the two lines are apart and no eval dot
         * or legend is near */
        if (fabs(yr - ys) > 8 && !near_eval && yr > f.plot_y + 70) {
            g_assert_cmpfloat(nearest(&p, x, yr, 1, raw_colour), <, 0.12);
            /* and the mirror point across the plot's middle holds no line colour */
            double ym = 2 * (f.plot_y + f.plot_height / 2) - yr;
            bool in_legend = ym < f.plot_y + 60 && x > f.plot_x + f.plot_width - 120;
            if (fabs(ym - ys) > 8 && fabs(ym - yr) > 8 && !in_legend)
                g_assert_cmpfloat(nearest(&p, x, ym, 1, style.line), >, 0.3);
            checked_raw++;
        }
    }
    g_assert_cmpint(checked_raw, >=, 10);
    for (int i = 0; i < 3; i++) {
        double x = hone_loss_chart_x(&f, c.eval_steps[i]), y = hone_loss_chart_y(&f, c.eval_loss[i]);
        g_assert_cmpfloat(distance(pixel(&p, (int)(x * scale), (int)(y * scale)), style.eval), <,
                          0.05);
    }
    /* no eval colour where there is no evaluation: the plot's lower left */
    g_assert_cmpfloat(nearest(&p, f.plot_x + 20, f.plot_y + f.plot_height - 10, 6, style.eval), >,
                      0.3);
    /* the axes' frame is drawn in the foreground colour */
    g_assert_cmpfloat(nearest(&p, f.plot_x, f.plot_y + f.plot_height / 3, 1, style.foreground),
                      <, 0.15);
    /* the margin left of the axis holds tick labels: some dark pixels, no line colour */
    g_assert_cmpfloat(nearest(&p, f.plot_x / 2, f.plot_y + f.plot_height / 2, f.plot_x / 2 - 1,
                              style.line), >, 0.3);
    cairo_surface_destroy(p.surface);
}

static void test_points_land_on_their_pixels(void)
{
    check_chart(1);
}

static void test_hidpi(void)
{
    check_chart(2);
}

/* NaN losses are skipped (the lines go on either side), one point shows as a dot, no data
 * draws only axes. */
static void test_gaps_and_edges(void)
{
    HoneLossChartStyle style;
    hone_loss_chart_style_default(&style);
    double steps[] = {10, 20, 30, 40}, loss[] = {2.0, NAN, 1.5, 1.2};
    HoneLossData data = {steps, loss, 4, NULL, NULL, 0};
    HoneLossChartFrame f;
    hone_loss_chart_layout(&data, W, H, &style, &f);
    g_assert_true(isfinite(f.y_min) && isfinite(f.y_max));
    picture p = render(&data, &style, 1);
    double x40 = hone_loss_chart_x(&f, 40), y40 = hone_loss_chart_y(&f, 1.2);
    g_assert_cmpfloat(fmin(nearest(&p, x40, y40, 1, over(style.line, 0.35, style.background)),
                           nearest(&p, x40, y40, 1, style.line)), <, 0.12);
    cairo_surface_destroy(p.surface);

    double one_step[] = {3}, one_loss[] = {0.7};
    data = (HoneLossData){one_step, one_loss, 1, NULL, NULL, 0};
    hone_loss_chart_layout(&data, W, H, &style, &f);
    g_assert_cmpfloat(f.y_min, <, 0.7);
    g_assert_cmpfloat(f.y_max, >, 0.7);
    p = render(&data, &style, 1);
    g_assert_cmpfloat(nearest(&p, hone_loss_chart_x(&f, 3), hone_loss_chart_y(&f, 0.7), 0,
                              style.line), <, 0.12);
    cairo_surface_destroy(p.surface);

    data = (HoneLossData){NULL, NULL, 0, NULL, NULL, 0};
    hone_loss_chart_layout(&data, W, H, &style, &f);
    g_assert_cmpfloat(f.x_max, >, f.x_min);
    p = render(&data, &style, 1);
    /* the empty plot says what will show there: text at its centre, no line */
    double cx = f.plot_x + f.plot_width / 2, cy = f.plot_y + f.plot_height / 2;
    g_assert_cmpfloat(nearest(&p, cx, cy, 8, over(style.foreground, 0.6, style.background)), <,
                      0.15);
    g_assert_cmpfloat(nearest(&p, cx, cy, 60, style.line), >, 0.3);
    cairo_surface_destroy(p.surface);
}

/* The pointer's nearest point along the steps, and its marker drawn where its values are. */
static void test_hover(void)
{
    chart_case c;
    make_case(&c);
    HoneLossChartStyle style;
    hone_loss_chart_style_default(&style);
    HoneLossChartFrame f;
    hone_loss_chart_layout(&c.data, W, H, &style, &f);
    g_assert_cmpint(hone_loss_chart_nearest(&f, &c.data, hone_loss_chart_x(&f, 50) + 3), ==, 9);
    g_assert_cmpint(hone_loss_chart_nearest(&f, &c.data, 0), ==, 0);
    g_assert_cmpint(hone_loss_chart_nearest(&f, &c.data, W), ==, N - 1);
    HoneLossData empty = {NULL, NULL, 0, NULL, NULL, 0};
    g_assert_cmpint(hone_loss_chart_nearest(&f, &empty, 100), ==, -1);

    /* a point whose raw and smoothed values lie apart and away from the eval dots */
    long at = -1;
    for (int i = 20; i < N - 5 && at < 0; i++)
        if (fabs(hone_loss_chart_y(&f, c.loss[i]) - hone_loss_chart_y(&f, c.smooth[i])) > 12 &&
            fabs(c.steps[i] - 100) > 15 && fabs(c.steps[i] - 200) > 15)
            at = i;
    g_assert_cmpint(at, >=, 0);
    picture p = {cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H), 1};
    cairo_t *cr = cairo_create(p.surface);
    hone_loss_chart_draw(cr, &c.data, W, H, &style);
    hone_loss_chart_draw_hover(cr, &c.data, W, H, &style, at);
    cairo_destroy(cr);
    cairo_surface_flush(p.surface);
    double x = hone_loss_chart_x(&f, c.steps[at]);
    /* the filled markers: the smoothed value dark, the raw value light */
    g_assert_cmpfloat(distance(pixel(&p, (int)x, (int)hone_loss_chart_y(&f, c.smooth[at])),
                               style.line), <, 0.05);
    g_assert_cmpfloat(distance(pixel(&p, (int)x, (int)hone_loss_chart_y(&f, c.loss[at])),
                               over(style.line, 0.35, style.background)), <, 0.05);
    /* the label's text at the plot's bottom, beside the marker */
    g_assert_cmpfloat(nearest(&p, x + 40, f.plot_y + f.plot_height - 14, 10, style.foreground), <,
                      0.3);
    cairo_surface_destroy(p.surface);
}

static void test_ticks(void)
{
    g_assert_cmpfloat(hone_loss_chart_tick(10, 5, false), ==, 2);
    g_assert_cmpfloat_with_epsilon(hone_loss_chart_tick(1, 5, false), 0.2, 1e-15);
    g_assert_cmpfloat_with_epsilon(hone_loss_chart_tick(0.37, 4, false), 0.1, 1e-15);
    g_assert_cmpfloat(hone_loss_chart_tick(1234, 6, true), ==, 500);
    g_assert_cmpfloat(hone_loss_chart_tick(3, 8, true), ==, 1); /* whole steps */
    g_assert_cmpfloat(hone_loss_chart_tick(70, 7, false), ==, 10);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/loss-chart/points-land-on-their-pixels", test_points_land_on_their_pixels);
    g_test_add_func("/ui/loss-chart/hidpi", test_hidpi);
    g_test_add_func("/ui/loss-chart/gaps-and-edges", test_gaps_and_edges);
    g_test_add_func("/ui/loss-chart/hover", test_hover);
    g_test_add_func("/ui/loss-chart/ticks", test_ticks);
    int status = g_test_run();
    /* cairo's and fontconfig's font caches, so that the leak checker sees only ours */
    cairo_debug_reset_static_data();
    FcFini();
    return status;
}
