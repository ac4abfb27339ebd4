"""statsmodels' variational-Bayes binomial mixed GLM, with its ELBO gradient in one pass.

`BinomialBayesMixedGLM.vb_elbo_grad_base` (statsmodels 0.15) integrates over the linear predictor
with Gauss-Legendre quadrature, and at each of its 20 points forms `exog**2 * fep_sd` (a copy of
the whole rows x terms design) and two products of the design with a vector. Every one of those
terms is linear in the per-point vectors, so the sums over the points can be taken first and the
design touched once per gradient:

    sum_w a_w (u_w' X) = (sum_w a_w u_w)' X,      sum_w a_w z_w (r_w' (X^2 * s)) = ((sum_w a_w z_w r_w)' X^2) * s.

`OnePassBinomialBayesMixedGLM` overrides only that method (and caches `exog**2` for `_lp_stats`);
the ELBO, its optimizer, priors and results are statsmodels' own. On 21,000 rows with 80 fixed
terms one gradient took 0.16 s in statsmodels' form; tests/stats/test_robustness.py holds the two
forms equal to 1e-10 and the fits equal.
"""

from __future__ import annotations

import numpy as np
from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM, glw


class OnePassBinomialBayesMixedGLM(BinomialBayesMixedGLM):
    """`BinomialBayesMixedGLM` whose ELBO gradient sums the quadrature points before the
    products with the design (same value, one pass over the rows; see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._exog2 = self.exog**2

    def _lp_stats(self, fep_mean, fep_sd, vc_mean, vc_sd):
        tm = self.exog @ fep_mean + self.exog_vc.dot(vc_mean)
        tv = self._exog2 @ fep_sd**2 + self.exog_vc2.dot(vc_sd**2)
        return tm, tv

    def vb_elbo_grad_base(self, h, tm, tv, fep_mean, vcp_mean, vc_mean, fep_sd, vcp_sd, vc_sd):
        u_sum = np.zeros_like(tm)
        r_sum = np.zeros_like(tm)
        root_tv = np.sqrt(tv)
        for w in glw:
            z = self.rng * w[1]
            u = h(z) * np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi)
            u_sum += w[0] * u
            r_sum += w[0] * z * (u / root_tv)
        fep_mean_grad = self.rng * (u_sum @ self.exog) + self.endog @ self.exog
        vc_mean_grad = self.rng * self.exog_vc.transpose().dot(
            u_sum
        ) + self.exog_vc.transpose().dot(self.endog)
        fep_sd_grad = self.rng * (r_sum @ self._exog2) * fep_sd
        vc_sd_grad = self.rng * np.squeeze(
            np.asarray(self.exog_vc2.multiply(vc_sd).transpose().dot(r_sum))
        )
        # From here on as statsmodels: the prior terms and the entropy.
        common = self._elbo_grad_common(fep_mean, fep_sd, vcp_mean, vcp_sd, vc_mean, vc_sd)
        fep_mean_grad = fep_mean_grad + common[0]
        fep_sd_grad = fep_sd_grad + common[1] + 1 / fep_sd
        vcp_mean_grad = 0.0 + common[2]
        vcp_sd_grad = 0.0 + common[3] + 1 / vcp_sd
        vc_mean_grad = vc_mean_grad + common[4]
        vc_sd_grad = vc_sd_grad + common[5] + 1 / vc_sd
        mean_grad = np.concatenate((fep_mean_grad, vcp_mean_grad, vc_mean_grad))
        sd_grad = np.concatenate((fep_sd_grad, vcp_sd_grad, vc_sd_grad))
        return mean_grad, sd_grad
