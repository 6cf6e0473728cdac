"""Alignment of a price path with a reference path (``dotcom-analog``'s path mode).

numba only, arrays in and out.  Definitions shared by every kernel here:

* ``path`` is a window of W log prices (oldest first) and ``ref`` the
  reference's log prices (one per reference bar).
* An alignment is an end position ``e`` (an integer reference bar: where the
  window's last bar falls) and a time scale ``s`` (reference bars per window
  bar).  Window bar i (0..W-1) falls on the fractional reference position
  ``p_i = e - (W-1-i) s``; the reference there is linearly interpolated
  between bars ``floor(p_i)`` and ``floor(p_i) + 1``.  Only alignments that
  fit inside the reference are tried: ``p_0 >= 0`` and ``e <= n - 1``.
* The error of an alignment is least squares after removing the level: the
  mean over the window of ``((y_i - mean y) - (x_i - mean x))**2`` where y is
  the path and x the aligned reference (log units squared).  With
  ``normalize`` both demeaned paths are first divided by their (population)
  standard deviation, so the error is ``2 (1 - correlation)`` and ignores
  amplitude; a flat aligned reference then cannot be normalised and that
  alignment is skipped.
* The search is exhaustive over every end bar and every scale of the grid;
  the best is the smallest error, ties going to the earlier scale of the grid
  and then the earlier end bar.  When nothing fits (or the path holds a
  non-finite value) the result is end -1, scale index -1, error NaN.

The inner loop runs over end positions for one window bar at a time, so it is
a branch-free, contiguous loop the compiler vectorises; sums are accumulated
per end position (three passes' worth of work in one).  Round-off: the
reference is centred on its mean before the sums, so the error is accurate to
about 1e-12 (log units squared) for windows of a few thousand bars.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _prepare_path_nb(path, normalize, out):
    """Demeaned (and, with ``normalize``, unit-variance) copy of ``path`` into ``out``; False if impossible."""
    w = path.shape[0]
    total = 0.0
    for i in range(w):
        if not np.isfinite(path[i]):
            return False
        total += path[i]
    mean = total / w
    squares = 0.0
    for i in range(w):
        out[i] = path[i] - mean
        squares += out[i] * out[i]
    if normalize:
        std = np.sqrt(squares / w)
        if not std > 0.0:
            return False
        for i in range(w):
            out[i] /= std
    return True


@njit(cache=True)
def best_alignment_nb(path, ref, n_ref, scales, normalize):
    """Best (end bar, scale index, mean squared error) of ``path`` against ``ref[:n_ref]``; see the module docstring."""
    w = path.shape[0]
    best_end = -1
    best_scale = -1
    best_err = np.nan
    if w < 2 or n_ref < 2:
        return best_end, best_scale, best_err
    y = np.empty(w)
    if not _prepare_path_nb(path, normalize, y):
        return best_end, best_scale, best_err
    syy = 0.0
    for i in range(w):
        syy += y[i] * y[i]
    # centre the reference: smaller sums, less cancellation in sxx - sx^2 / w
    centre = 0.0
    for k in range(n_ref):
        centre += ref[k]
    centre /= n_ref
    r = np.empty(n_ref)
    dr = np.zeros(n_ref)  # dr[k] = r[k] - r[k-1]
    for k in range(n_ref):
        r[k] = ref[k] - centre
        if not np.isfinite(r[k]):
            return best_end, best_scale, best_err
    for k in range(1, n_ref):
        dr[k] = r[k] - r[k - 1]
    sx = np.empty(n_ref)
    sxx = np.empty(n_ref)
    sxy = np.empty(n_ref)
    for si in range(scales.shape[0]):
        s = scales[si]
        if not s > 0.0:
            continue
        span = (w - 1) * s
        e0 = int(np.ceil(span))  # first end bar with p_0 = e - span >= 0
        if e0 > n_ref - 1:
            continue
        m = n_ref - e0
        for j in range(m):
            sx[j] = 0.0
            sxx[j] = 0.0
            sxy[j] = 0.0
        for i in range(w):
            d = (w - 1 - i) * s
            q = int(np.floor(d))
            g = d - q  # p_i = e - q - g; x = r[e-q] - g (r[e-q] - r[e-q-1])
            yi = y[i]
            base = e0 - q
            if g > 0.0:
                for j in range(m):
                    x = r[base + j] - g * dr[base + j]
                    sx[j] += x
                    sxx[j] += x * x
                    sxy[j] += yi * x
            else:
                for j in range(m):
                    x = r[base + j]
                    sx[j] += x
                    sxx[j] += x * x
                    sxy[j] += yi * x
        for j in range(m):
            var_x = sxx[j] - sx[j] * sx[j] / w  # sum of squared deviations of x
            if normalize:
                if not var_x > 0.0:
                    continue
                err = 2.0 - 2.0 * sxy[j] / np.sqrt(w * var_x)
            else:
                err = (syy + var_x - 2.0 * sxy[j]) / w
            if err < 0.0:
                err = 0.0
            if best_end < 0 or err < best_err:
                best_end = e0 + j
                best_scale = si
                best_err = err
    return best_end, best_scale, best_err


@njit(cache=True)
def best_alignments_nb(series, bars, window, ref, ref_lens, scales, normalize, out_end, out_scale, out_err):
    """For each decision bar ``bars[k]``: the best alignment of ``series[bars[k]-window+1 : bars[k]+1]``
    against ``ref[:ref_lens[k]]`` (the reference known on that bar).  A bar without a full window gets
    end -1, scale -1, error NaN."""
    for k in range(bars.shape[0]):
        t = bars[k]
        out_end[k] = -1
        out_scale[k] = -1
        out_err[k] = np.nan
        if t - window + 1 < 0 or t >= series.shape[0]:
            continue
        end, scale, err = best_alignment_nb(series[t - window + 1 : t + 1], ref, ref_lens[k], scales, normalize)
        out_end[k] = end
        out_scale[k] = scale
        out_err[k] = err
    return out_end
