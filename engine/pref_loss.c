/* The preference losses (pref_loss.h). With h = (chosen - rejected) - (ref_chosen -
 * ref_rejected), the policy's log-ratio minus the reference's:
 * - sigmoid, DPO (Rafailov et al., arXiv:2305.18290, eq. 7) with conservative label smoothing
 *   eps (Mitchell, "A note on DPO with noisy preferences", 2023):
 *   -(1 - eps) log sigmoid(beta h) - eps log sigmoid(-beta h);
 * - hinge, SLiC's calibration loss on the same log-ratio (Zhao et al., arXiv:2305.10425):
 *   max(0, 1 - beta h);
 * - ipo (Azar et al., arXiv:2310.12036, eq. 17): (h - 1 / (2 beta))^2;
 * - orpo (Hong et al., arXiv:2403.07691, eqs. 6-7), on mean log-probs c and r:
 *   -c - beta log sigmoid(log(odds c) - log(odds r)), log odds p = p - log(1 - e^p);
 * - simpo (Meng et al., arXiv:2405.14734, eq. 6), on mean log-probs:
 *   -log sigmoid(beta (c - r) - gamma);
 * - kto (Ethayarajh et al., arXiv:2402.01306, eq. 8): with r = policy - ref and z0 the clamped
 *   KL estimate, desirable lambda_D (1 - sigmoid(beta (r - z0))), undesirable
 *   lambda_U (1 - sigmoid(beta (z0 - r))).
 * Everything in double; log sigmoid and log(1 - e^p) in forms that do not overflow. */
#include "pref_loss.h"

#include <math.h>

static double sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

/* log sigmoid(x) = -log(1 + e^-x) */
static double log_sigmoid(double x)
{
    return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

/* log(1 - e^p) for p < 0 (Maechler's log1mexp: two forms for accuracy either side of -ln 2) */
static double log1mexp(double p)
{
    return p > -M_LN2 ? log(-expm1(p)) : log1p(-exp(p));
}

void hn_pref_loss_pair(const hn_pref_loss_options *o, double chosen, double rejected,
                       double ref_chosen, double ref_rejected, hn_pref_pair *out)
{
    const double beta = o->beta;
    const double h = (chosen - rejected) - (ref_chosen - ref_rejected);
    double d_h = 0; /* d loss / d h, for the losses that read only h */
    out->reward_chosen = beta * (chosen - ref_chosen);
    out->reward_rejected = beta * (rejected - ref_rejected);
    switch (o->type) {
    case HN_PREF_SIGMOID: {
        const double eps = o->label_smoothing, x = beta * h;
        out->loss = -(1 - eps) * log_sigmoid(x) - eps * log_sigmoid(-x);
        d_h = beta * (-(1 - eps) * (1 - sigmoid(x)) + eps * sigmoid(x));
        break;
    }
    case HN_PREF_HINGE:
        out->loss = fmax(0.0, 1 - beta * h);
        d_h = 1 - beta * h > 0 ? -beta : 0;
        break;
    case HN_PREF_IPO: {
        const double gap = h - 1 / (2 * beta);
        out->loss = gap * gap;
        d_h = 2 * gap;
        break;
    }
    case HN_PREF_ORPO: {
        const double log_odds = (chosen - log1mexp(chosen)) - (rejected - log1mexp(rejected));
        const double s = 1 - sigmoid(log_odds); /* -d log sigmoid(x) / dx */
        out->loss = -chosen - beta * log_sigmoid(log_odds);
        /* d log odds(p) / dp = 1 + e^p / (1 - e^p) = 1 / (1 - e^p) */
        out->d_chosen = -1 - beta * s / -expm1(chosen);
        out->d_rejected = beta * s / -expm1(rejected);
        out->reward_chosen = beta * chosen;
        out->reward_rejected = beta * rejected;
        return;
    }
    case HN_PREF_SIMPO: {
        const double x = beta * (chosen - rejected) - o->simpo_gamma;
        out->loss = -log_sigmoid(x);
        out->d_chosen = -beta * (1 - sigmoid(x));
        out->d_rejected = -out->d_chosen;
        out->reward_chosen = beta * chosen;
        out->reward_rejected = beta * rejected;
        return;
    }
    }
    out->d_chosen = d_h;
    out->d_rejected = -d_h;
}

double hn_kto_reference_point(const double *policy_kl, const double *ref_kl, size_t n)
{
    if (n == 0)
        return 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += policy_kl[i] - ref_kl[i];
    return fmax(0.0, sum / (double)n);
}

void hn_kto_loss(const hn_kto_options *o, bool desirable, double policy, double ref,
                 double reference_point, double *loss, double *d_policy)
{
    const double r = policy - ref;
    if (desirable) {
        const double s = sigmoid(o->beta * (r - reference_point));
        *loss = o->desirable_weight * (1 - s);
        *d_policy = -o->desirable_weight * o->beta * s * (1 - s);
    } else {
        const double s = sigmoid(o->beta * (reference_point - r));
        *loss = o->undesirable_weight * (1 - s);
        *d_policy = o->undesirable_weight * o->beta * s * (1 - s);
    }
}
