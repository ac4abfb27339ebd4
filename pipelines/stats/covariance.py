"""Cluster-robust (CRV1) covariance from cell-level scores.

For an M-estimator with row scores u_i(b) and Hessian-type bread A = -dU/db', the CRV1 covariance
clustered on g is

    V = a * A^{-1} (sum_g u_g u_g') A^{-1},   u_g = sum_{i in g} u_i,
    a = G/(G-1) * (N-1)/(N-K)

(statsmodels `cov_type='cluster'` with its default `use_correction=True`; Stata's `vce(cluster)`),
with G clusters, N rows and K estimated parameters.

On grouped data every row of cell c shares the cell's covariates x_c and hence its fitted value,
and when the cluster variable is part of the cell key all rows of a cell lie in one cluster. The
cluster score therefore only needs per-cell score sums:

    u_g = sum_{c in g} sum_{i in c} u_i = sum_{c in g} U_c,

where U_c is a function of the cell's sufficient statistics (for the logit U_c = x_c (y_c - n_c p_c);
for least squares U_c = x_c (s_c - n_c x_c'b), s_c = sum of y in the cell). The bread is likewise a
sum over cells weighted by n_c. The one thing a naive grouped fit gets wrong is N: it is the number
of rows, sum_c n_c, not the number of cells (statsmodels' own clustered covariance on a weighted
grouped fit uses the cell count in (N-1)/(N-K)).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def cluster_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes 0..G-1 for the cluster labels, and G."""
    _, codes = np.unique(values, return_inverse=True)
    return codes.ravel(), int(codes.max()) + 1 if len(codes) else 0


def crv1_covariance(
    bread_inv: np.ndarray, cell_scores: np.ndarray, clusters: np.ndarray, n_obs: float
) -> tuple[np.ndarray, dict]:
    """CRV1 covariance `a * B (sum_g u_g u_g') B` from per-cell score sums.

    `bread_inv` is the inverse bread (K x K), `cell_scores` the per-cell score sums (cells x K,
    dense or sparse),
    `clusters` the cluster label of each cell, `n_obs` the number of rows N = sum of cell sizes.
    Returns the covariance and a dict with n_clusters and the small-sample factor used.
    """
    codes, g = cluster_codes(clusters)
    m, k = cell_scores.shape
    if g < 2:
        raise ValueError(f"clustered covariance needs at least 2 clusters, found {g}")
    if n_obs <= k:
        raise ValueError(f"clustered covariance needs more rows ({n_obs}) than parameters ({k})")
    summing = sparse.csr_matrix((np.ones(m), (codes, np.arange(m))), shape=(g, m))
    u = summing @ cell_scores
    u = u.toarray() if sparse.issparse(u) else np.asarray(u)
    meat = u.T @ u
    factor = g / (g - 1.0) * (n_obs - 1.0) / (n_obs - k)
    cov = factor * bread_inv @ meat @ bread_inv
    return (cov + cov.T) / 2.0, {"n_clusters": g, "small_sample_factor": float(factor)}
