"""Profile-likelihood plot of tau^2 (metafor ``profile(rma(...))``)."""

from __future__ import annotations

from typing import Any

__all__ = ["profile_plot"]


def profile_plot(profile: Any, *, ax: Any = None, figsize: tuple[float, float] = (5.0, 3.5)):
    """Plot the profile (restricted) log-likelihood of tau^2.

    Parameters
    ----------
    profile : ProfileResult
        From :meth:`evidence.PoolResult.profile`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.
    figsize : tuple of float
        Size of a new figure in inches.

    Returns
    -------
    matplotlib.axes.Axes
        The axes: the curve, a dashed line at the returned tau^2, and dotted lines at every
        other local maximum of the curve (the points an iteration could have stopped at).

    Examples
    --------
    >>> from evidence import pool
    >>> res = pool([0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02])
    >>> ax = profile_plot(res.profile())
    >>> ax.get_xlabel()
    'τ²'
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt
    import numpy as np

    frame = profile.to_frame()
    t, ll = frame["tau2"].to_numpy(), frame["loglik"].to_numpy()
    with plt.rc_context({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False}):
        if ax is None:
            _, ax = plt.subplots(figsize=figsize)
        ax.plot(t, ll, color="#1f1f1f", lw=1.0)
        ax.axvline(profile.tau2, color="#1f1f1f", lw=0.8, ls="--")
        inner = (ll[1:-1] > ll[:-2]) & (ll[1:-1] >= ll[2:])
        for x in t[1:-1][inner]:
            if not np.isclose(x, profile.tau2, rtol=0.02, atol=1e-12):
                ax.axvline(x, color="#8c8c8c", lw=0.8, ls=":")
        ax.set_xlabel("\u03c4\u00b2")
        kind = "Restricted log-likelihood" if profile.likelihood == "REML" else "Log-likelihood"
        ax.set_ylabel(kind)
        ax.set_title(f"Profile of \u03c4\u00b2 ({profile.method}; k = {profile.k})", loc="left")
    return ax
