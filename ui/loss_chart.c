/* loss_chart.c: the HoneLossChart widget (see loss_chart.h); the drawing is loss_chart_draw.c. */
#include "loss_chart.h"
#include "i18n.h"

#include "loss_chart_draw.h"

struct _HoneLossChart {
  GtkWidget parent_instance;
  GArray *steps, *loss, *eval_steps, *eval_loss; /* double */
  long hover;     /* the training point under the pointer, or -1 */
  double hover_x; /* where the pointer is, for when points arrive */
  gboolean inside;
};

G_DEFINE_FINAL_TYPE (HoneLossChart, hone_loss_chart, GTK_TYPE_WIDGET)

static void
hone_loss_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HoneLossChart *self = HONE_LOSS_CHART (widget);
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  if (width < 1 || height < 1)
    return;
  HoneLossChartStyle style;
  hone_loss_chart_style_default (&style);
  style.fill_background = false; /* the widget's CSS background shows through */
  GdkRGBA fg;
#if GTK_CHECK_VERSION(4, 10, 0)
  gtk_widget_get_color (widget, &fg);
#else
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
#endif
  style.foreground = (HoneRgb){ fg.red, fg.green, fg.blue };
  PangoFontDescription *font = pango_context_get_font_description (
      gtk_widget_get_pango_context (widget));
  if (font != NULL && pango_font_description_get_size (font) > 0) {
    double size = pango_font_description_get_size (font) / (double) PANGO_SCALE;
    /* points to pixels at 96 dpi, unless the size is absolute already */
    style.font_size = pango_font_description_get_size_is_absolute (font) ? size : size * 96 / 72;
    style.font_size *= 0.9;
  }
  HoneLossData data = {
    (const double *) (void *) self->steps->data, (const double *) (void *) self->loss->data,
    self->steps->len,
    (const double *) (void *) self->eval_steps->data,
    (const double *) (void *) self->eval_loss->data, self->eval_steps->len,
  };
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  hone_loss_chart_draw (cr, &data, width, height, &style);
  if (self->inside) {
    HoneLossChartFrame frame;
    hone_loss_chart_layout (&data, width, height, &style, &frame);
    self->hover = hone_loss_chart_nearest (&frame, &data, self->hover_x);
    /* the label's box and the light marker: white under dark text, Adwaita's dark card
     * (#303030) under light text */
    double luminance = 0.2126 * fg.red + 0.7152 * fg.green + 0.0722 * fg.blue;
    double bg = luminance < 0.5 ? 1.0 : 0x30 / 255.0;
    style.background = (HoneRgb){ bg, bg, bg };
    hone_loss_chart_draw_hover (cr, &data, width, height, &style, self->hover);
  }
  cairo_destroy (cr);
}

static void
pointer_moved (GtkEventControllerMotion *motion, double x, double y, gpointer data)
{
  HoneLossChart *self = data;
  self->inside = TRUE;
  self->hover_x = x;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
pointer_left (GtkEventControllerMotion *motion, gpointer data)
{
  HoneLossChart *self = data;
  self->inside = FALSE;
  self->hover = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
hone_loss_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                         int *minimum, int *natural, int *minimum_baseline,
                         int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 240;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 600 : 300;
}

static void
hone_loss_chart_finalize (GObject *object)
{
  HoneLossChart *self = HONE_LOSS_CHART (object);
  g_array_unref (self->steps);
  g_array_unref (self->loss);
  g_array_unref (self->eval_steps);
  g_array_unref (self->eval_loss);
  G_OBJECT_CLASS (hone_loss_chart_parent_class)->finalize (object);
}

static void
hone_loss_chart_class_init (HoneLossChartClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->finalize = hone_loss_chart_finalize;
  widget_class->snapshot = hone_loss_chart_snapshot;
  widget_class->measure = hone_loss_chart_measure;
  gtk_widget_class_set_css_name (widget_class, "losschart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hone_loss_chart_init (HoneLossChart *self)
{
  self->steps = g_array_new (FALSE, FALSE, sizeof (double));
  self->loss = g_array_new (FALSE, FALSE, sizeof (double));
  self->eval_steps = g_array_new (FALSE, FALSE, sizeof (double));
  self->eval_loss = g_array_new (FALSE, FALSE, sizeof (double));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Training loss chart"), -1);
  self->hover = -1;
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "enter", G_CALLBACK (pointer_moved), self);
  g_signal_connect (motion, "motion", G_CALLBACK (pointer_moved), self);
  g_signal_connect (motion, "leave", G_CALLBACK (pointer_left), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}

GtkWidget *
hone_loss_chart_new (void)
{
  return g_object_new (HONE_TYPE_LOSS_CHART, NULL);
}

void
hone_loss_chart_add_loss (HoneLossChart *chart, double step, double loss)
{
  g_array_append_val (chart->steps, step);
  g_array_append_val (chart->loss, loss);
  gtk_widget_queue_draw (GTK_WIDGET (chart));
}

void
hone_loss_chart_add_eval (HoneLossChart *chart, double step, double loss)
{
  g_array_append_val (chart->eval_steps, step);
  g_array_append_val (chart->eval_loss, loss);
  gtk_widget_queue_draw (GTK_WIDGET (chart));
}

void
hone_loss_chart_clear (HoneLossChart *chart)
{
  g_array_set_size (chart->steps, 0);
  g_array_set_size (chart->loss, 0);
  g_array_set_size (chart->eval_steps, 0);
  g_array_set_size (chart->eval_loss, 0);
  gtk_widget_queue_draw (GTK_WIDGET (chart));
}

guint
hone_loss_chart_n_loss (HoneLossChart *chart)
{
  return chart->steps->len;
}

guint
hone_loss_chart_n_eval (HoneLossChart *chart)
{
  return chart->eval_steps->len;
}
