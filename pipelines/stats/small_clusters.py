"""Inference with few (or unequal) court clusters: effective clusters, t(G-1), score bootstrap.

A CRV1 standard error is reliable when there are many clusters of similar influence. Immigration
courts are few (about 60) and very unequal: a handful of large courts carry most of the score
variance of a rare category. Three things are reported beside the CRV1 Wald inference.

Effective number of clusters (Carter, Schnepel and Steigerwald 2017)
--------------------------------------------------------------------
For coefficient k with the inverse bread H^{-1} and the conservative within-cluster correlation
rho = 1 of the standardized errors, cluster g's contribution to Var(b_k) is

    gamma_g = (e_k' H^{-1} s_g)^2,    s_g = sum_{c in g} n_c sqrt(p_c (1 - p_c)) x_c,

(for the logit each row's score is x_i (Y_i - p_i) with SD sqrt(p_i (1 - p_i)); at rho = 1 the
rows of a court move together). With Gamma = (1/G) sum_g (gamma_g - gamma_bar)^2 / gamma_bar^2,

    G* = G / (1 + Gamma).

G* far below G means a few courts dominate the term; normal critical values are then too small.

t(G-1) critical values
----------------------
The Wald p-value and interval are also given with Student t on G - 1 degrees of freedom (Stata's
convention for `vce(cluster)`).

Wild cluster score bootstrap (Kline and Santos 2012), restricted
----------------------------------------------------------------
To test H0: b_k = b0, the model is refitted with b_k held at b0 (an offset), giving restricted
cluster scores u_g = sum_{c in g} x_c (y_c - n_c p~_c) and cluster Hessians H_g (H = sum_g H_g).
One Newton step from the restricted fit, delta = H^{-1} sum_g u_g, estimates b - b~, and the
restricted analogue of the CRV1 variance uses the residual scores u_g - H_g delta:

    T = delta_k / sqrt(a * sum_g (e_k' H^{-1} (u_g - H_g delta))^2),   a = G/(G-1).

The bootstrap multiplies each court's score by a weight w_g (Rademacher +-1, or Webb's six-point
weights when G <= WEBB_MAX_CLUSTERS, where Rademacher has too few distinct draws) and recomputes
T with u_g -> w_g u_g, keeping H and H_g fixed: no refit per draw, only G x B arithmetic. The
p-value is the share of draws with |T*| >= |T|. For a linear model this is exactly the wild
restricted (WCR) bootstrap (one Newton step is the OLS fit). The interval is the set of b0 that
the test does not reject at alpha, found by bisection on b0 with the same weights for every b0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, sparse, stats
from scipy.special import expit

from pipelines.stats.covariance import cluster_codes
from pipelines.stats.design import GramPlan
from pipelines.stats.grouped_logit import newton_logit

WEBB_MAX_CLUSTERS = 12
DEFAULT_DRAWS = 999
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def effective_clusters(
    X: sparse.csr_matrix | np.ndarray,
    n: np.ndarray,
    p: np.ndarray,
    clusters: np.ndarray,
    bread_inv: np.ndarray,
) -> np.ndarray:
    """G* (Carter, Schnepel and Steigerwald 2017, rho = 1) for every column of X."""
    codes, g = cluster_codes(clusters)
    weights = n * np.sqrt(p * (1.0 - p))
    summing = sparse.csr_matrix((weights, (codes, np.arange(len(n)))), shape=(g, len(n)))
    s = summing @ X
    s = s.toarray() if sparse.issparse(s) else np.asarray(s)
    gamma = (s @ bread_inv) ** 2  # G x K (bread_inv symmetric)
    mean = gamma.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        big_gamma = ((gamma - mean) ** 2).mean(axis=0) / mean**2
    return g / (1.0 + big_gamma)


def t_columns(estimate: np.ndarray, std_error: np.ndarray, df: int, alpha: float) -> dict:
    """Wald p-value and interval with Student t on `df` degrees of freedom."""
    crit = stats.t.ppf(1 - alpha / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = estimate / std_error
    return {
        "p_value_t": 2 * stats.t.sf(np.abs(t), df),
        "ci_low_t": estimate - crit * std_error,
        "ci_high_t": estimate + crit * std_error,
    }


def bootstrap_weights(n_clusters: int, draws: int, seed: int) -> tuple[np.ndarray, str]:
    """G x B wild-bootstrap weights and their name."""
    rng = np.random.default_rng(seed)
    if n_clusters <= WEBB_MAX_CLUSTERS:
        return rng.choice(_WEBB, size=(n_clusters, draws)), "webb"
    return rng.choice([-1.0, 1.0], size=(n_clusters, draws)), "rademacher"


@dataclass
class ScoreBootstrap:
    """The wild restricted score bootstrap for one column k of a grouped logit."""

    X: sparse.csr_matrix  # estimated columns only
    n: np.ndarray
    y: np.ndarray
    codes: np.ndarray  # cluster code per cell
    n_clusters: int
    k: int
    weights: np.ndarray  # G x B
    weight_kind: str
    start: np.ndarray  # warm start (the unrestricted estimate)
    # The restricted design (column k out), its column k, and both designs' GramPlans: the same
    # for every b0 the interval tries, so built once.
    _fixed: dict = field(default_factory=dict, repr=False)

    def _restricted(self) -> dict:
        if not self._fixed:
            others = np.ones(self.X.shape[1], dtype=bool)
            others[self.k] = False
            Xo = sparse.csr_matrix(self.X[:, others])
            self._fixed.update(
                others=others,
                Xo=Xo,
                column=np.asarray(self.X[:, self.k].todense()).ravel(),
                plan_o=GramPlan(Xo),
                plan=GramPlan(self.X),
            )
        return self._fixed

    @classmethod
    def build(
        cls,
        X: sparse.csr_matrix,
        n: np.ndarray,
        y: np.ndarray,
        clusters: np.ndarray,
        k: int,
        start: np.ndarray,
        draws: int = DEFAULT_DRAWS,
        seed: int = 20111117,
    ) -> ScoreBootstrap:
        codes, g = cluster_codes(clusters)
        w, kind = bootstrap_weights(g, draws, seed)
        return cls(sparse.csr_matrix(X), n, y, codes, g, k, w, kind, start.copy())

    def restricted_fit(self, b0: float) -> np.ndarray:
        """The MLE with column k held at b0 (full-length parameter vector)."""
        fixed = self._restricted()
        others = fixed["others"]
        b, _, _ = newton_logit(
            fixed["Xo"],
            self.n,
            self.y,
            self.start[others],
            offset=b0 * fixed["column"],
            gram_plan=fixed["plan_o"],
        )
        full = np.empty(self.X.shape[1])
        full[others], full[self.k] = b, b0
        return full

    def statistics(self, b0: float, weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """Observed T and the bootstrap draws T* for H0: b_k = b0."""
        b = self.restricted_fit(b0)
        p = expit(self.X @ b)
        resid = self.y - self.n * p
        g = self.n_clusters
        summing = sparse.csr_matrix(
            (np.ones(len(self.n)), (self.codes, np.arange(len(self.n)))), shape=(g, len(self.n))
        )
        U = np.asarray((summing @ self.X.multiply(resid[:, None])).todense())  # G x K scores
        wts = self.n * p * (1 - p)
        H = self._restricted()["plan"](wts)
        H_inv_k = linalg.cho_solve(linalg.cho_factor(H), np.eye(H.shape[0])[:, self.k])
        # psi_g = e_k' H^{-1} u_g;  m_g = e_k' H^{-1} H_g  (row g of M), H_g = X_g' W_g X_g
        psi = U @ H_inv_k
        Xh = self.X @ H_inv_k  # per cell x_c' H^{-1} e_k
        M = np.asarray(
            (summing @ self.X.multiply((wts * Xh)[:, None])).todense()
        )  # G x K: sum_c w_c (x_c'h) x_c'
        A = linalg.cho_solve(linalg.cho_factor(H), U.T)  # K x G: H^{-1} u_g
        C = M @ A  # G x G: m_g' H^{-1} u_h
        a = g / (g - 1.0)

        def t_of(W: np.ndarray) -> np.ndarray:
            num = psi @ W  # delta_k for each draw
            res = W * psi[:, None] - C @ W
            return num / np.sqrt(a * (res**2).sum(axis=0))

        observed = float(t_of(np.ones((g, 1)))[0])
        draws = t_of(self.weights if weights is None else weights)
        return observed, draws

    def p_value(self, b0: float = 0.0) -> float:
        t, draws = self.statistics(b0)
        return float(np.mean(np.abs(draws) >= abs(t)))

    def interval(
        self, estimate: float, std_error: float, alpha: float = 0.05, tol: float = 1e-2
    ) -> tuple[float, float]:
        """{b0 : p(b0) > alpha} by bisection on each side of the estimate (NaN if not bracketed)."""

        def rejects(b0: float) -> bool:
            return self.p_value(b0) <= alpha

        out = []
        for side in (-1.0, 1.0):
            inside, step = estimate, 2.0 * std_error
            outside = estimate + side * step
            tries = 0
            while not rejects(outside) and tries < 6:
                inside, step = outside, step * 2
                outside = estimate + side * step
                tries += 1
            if not rejects(outside):
                out.append(np.nan)
                continue
            while abs(outside - inside) > tol * max(std_error, 1e-8):
                mid = (inside + outside) / 2
                if rejects(mid):
                    outside = mid
                else:
                    inside = mid
            out.append((inside + outside) / 2)
        return out[0], out[1]
