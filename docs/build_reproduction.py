"""Build docs/reproduction.md and its figures by simulating the model (never from the formulas alone).

    python docs/build_reproduction.py

Every number in the page is read from a simulation run here; the theory column is the paper's
own formula evaluated with the run's parameters.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from docs_runs import run_scenario

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"
BETA, PHI, G_T, N, DELTA_K, S_K = 0.33, 0.30, 0.65, 0.025, 0.05, 0.2


def growth_series(frame, column):
    values = np.log(frame[column].to_numpy())
    return frame.index[1:], np.diff(values) / np.diff(frame.index.to_numpy())


def prop1(rows):
    sets = [
        ("paper", dict()),
        ("phi .5, g_T .40, n .010, beta .40", {"token return parameter": 0.5, "token frontier growth rate": 0.4,
                                               "developer growth rate": 0.01, "capital share": 0.4,
                                               "capital depreciation rate": 0.08}),
        ("phi .2, g_T .90, n .030, beta .25", {"token return parameter": 0.2, "token frontier growth rate": 0.9,
                                               "developer growth rate": 0.03, "capital share": 0.25,
                                               "capital depreciation rate": 0.1}),
        ("phi .7, g_T .20, n .020, beta .50", {"token return parameter": 0.7, "token frontier growth rate": 0.2,
                                               "developer growth rate": 0.02, "capital share": 0.5,
                                               "capital depreciation rate": 0.03}),
    ]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, params in sets:
        frame = run_scenario("paper", set=params, final_time=2200).frame
        t, g = growth_series(frame, "Output per developer")
        phi = params.get("token return parameter", PHI)
        theory = phi * (params.get("token frontier growth rate", G_T) - params.get("developer growth rate", N))
        line, = ax.plot(t, g, lw=2, label=label)
        ax.axhline(theory, color=line.get_color(), ls=":", lw=1)
        rows.append(("Proposition 1", label, f"{theory:.4f}", f"{g[-1]:.4f}", f"{abs(g[-1] / theory - 1):.1e}"))
    ax.set(xlabel="Year", ylabel="growth of output per developer (1/Year)",
           title="Proposition 1: growth converges to phi (g_T - n) (dotted)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "prop1-growth.png", dpi=100)
    plt.close(fig)


def eq12(rows):
    base = run_scenario("paper", final_time=2150).frame
    shifted = run_scenario("paper", set={"initial computing capital": 8.3e11 * 1.2}, final_time=2150).frame
    gap = np.log(shifted["Output per developer"] / base["Output per developer"])
    lam = (1 - BETA) * (DELTA_K + N + PHI * (G_T - N))
    measured = -math.log(gap.loc[2100] / gap.loc[2090]) / 10
    rows.append(("Eq. 12 convergence speed", "paper, K0 +20%", f"{lam:.4f}", f"{measured:.4f}", f"{abs(measured / lam - 1):.1e}"))
    rows.append(("Eq. 12 half-life (yr)", "paper", f"{math.log(2) / lam:.2f}", f"{math.log(2) / measured:.2f}", ""))
    t = gap.index.to_numpy()
    rate = -np.diff(np.log(gap.to_numpy())) / np.diff(t)
    predicted = (1 - BETA) * S_K * base["Software output"] / base["Computing capital"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(t[1:], rate, lw=2, label="simulated decay rate of the log gap")
    ax.plot(t, predicted, ls="--", label="(1-beta) s_K S/K from the linearisation")
    ax.axhline(lam, color="k", ls=":", label=f"eq. 12 balanced-path value {lam:.3f}")
    ax.axhline(0.188, color="r", ls=":", label="Table 1 as printed, 0.188")
    ax.set(xlabel="Year", ylabel="1/Year", title="Eq. 12: convergence after a +20% capital shock", ylim=(0.1, 0.2))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "eq12-convergence.png", dpi=100)
    plt.close(fig)


def prop2(rows):
    early = run_scenario("paper", final_time=2200).frame["Output per developer"]
    late_exp = run_scenario("token-divide", final_time=2200).frame["Output per developer"]
    late_front = run_scenario("token-divide-frontier", final_time=2200).frame["Output per developer"]
    gap_exp, gap_front = np.log(early / late_exp), np.log(early / late_front)
    theory = PHI * G_T * 3
    rows.append(("Proposition 2, experience access", "adoption 2027 vs 2024", f"{theory:.4f}", f"{gap_exp.loc[2200]:.4f}",
                 f"{abs(gap_exp.loc[2200] / theory - 1):.1e}"))
    rows.append(("Proposition 2, frontier access", "adoption 2027 vs 2024", "(paper: 0.585)", f"{gap_front.loc[2200]:.1e}", "gap closes"))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(gap_exp.index, gap_exp, lw=2, label="experience access (token-divide)")
    ax.plot(gap_front.index, gap_front, lw=2, label="frontier access (token-divide-frontier)")
    ax.axhline(theory, color="k", ls=":", label="phi g_T (t_j - t_i) = 0.585")
    ax.set(xlabel="Year", ylabel="ln(s_2024 adopter / s_2027 adopter)", xlim=(2024, 2100),
           title="Proposition 2: the token divide under each access regime")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "prop2-divide.png", dpi=100)
    plt.close(fig)


def prop34(rows):
    frame = run_scenario("vibe-coding").frame
    sigma, share = frame["Elasticity of substitution"], frame["Labor share"]
    crossing = float(np.interp(1.0, sigma.to_numpy(), sigma.index.to_numpy()))
    rows.append(("Proposition 3", "vibe-coding: sigma crosses 1", "exists", f"{crossing:.1f}", ""))
    rows.append(("Proposition 4", "labour share peak (year, value)", "inverted U",
                 f"{share.idxmax():g}, {share.max():.3f}", f"2100: {share.loc[2100]:.2g}"))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(sigma.index, sigma, lw=2, label="elasticity of substitution sigma")
    ax.plot(share.index, share, lw=2, label="labour share pi_H")
    ax.axhline(1, color="k", ls=":", lw=1)
    ax.axvline(crossing, color="grey", ls="--", lw=1)
    ax.set(xlabel="Year", ylabel="Dmnl", xlim=(2024, 2070),
           title=f"Propositions 3-4: sigma crosses 1 in {crossing:.1f}; labour share peaks in {share.idxmax():g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "prop34-vibe-coding.png", dpi=100)
    plt.close(fig)


def prop5(rows):
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, scenario, params in (
        ("chi = 1 (eq. 21 as printed)", "efficiency-engine", {}),
        ("chi = 0.5", "efficiency-engine", {"efficiency returns exponent": 0.5}),
        ("chi = -4.3125", "efficiency-engine-jones", {}),
    ):
        result = run_scenario(scenario, set=params, final_time=2200)
        t, g = growth_series(result.frame, "Output per developer")
        ax.plot(t, g, lw=2, label=label + (f", diverged at {result.diverged_at:g}" if result.status != "ok" else ""))
        if result.status == "ok":
            _, ge = growth_series(result.frame, "Efficiency knowledge")
            chi = params.get("efficiency returns exponent", -4.3125)
            g_e = (N + PHI * (G_T - N)) / (1 - chi)
            rows.append(("Proposition 5", f"{label}: g_E", f"{g_e:.4f}", f"{ge[-1]:.4f}", f"{abs(ge[-1] / g_e - 1):.1e}"))
            rows.append(("Proposition 5", f"{label}: g_s", f"{g_e + PHI * (G_T - N):.4f}", f"{g[-1]:.4f}",
                         f"{abs(g[-1] / (g_e + PHI * (G_T - N)) - 1):.1e}"))
        else:
            rows.append(("Proposition 5", label, "no balanced path", f"diverged at {result.diverged_at:g}", "exit 3"))
    ax.set(xlabel="Year", ylabel="growth of output per developer (1/Year)", ylim=(0, 1.5),
           title="Proposition 5: the efficiency engine")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "prop5-efficiency.png", dpi=100)
    plt.close(fig)


def corollary1(rows):
    base = run_scenario("paper", final_time=2200).frame
    cut = run_scenario("paper", set={"exogenous token price index": 0.2}, final_time=2200).frame
    gap = np.log(cut["Output per developer"] / base["Output per developer"])
    rows.append(("Corollary 1", "80% price cut: impact gap (2024)", "", f"{gap.loc[2024]:.4f}", ""))
    rows.append(("Corollary 1", "80% price cut: long-run gap", f"{PHI * math.log(5):.4f}", f"{gap.loc[2200]:.4f}",
                 f"{abs(gap.loc[2200] / (PHI * math.log(5)) - 1):.1e}"))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(gap.index, gap, lw=2, label="ln(s with price index 0.2 / s)")
    ax.axhline(PHI * math.log(5), color="k", ls=":", label="phi ln 5 (long run)")
    ax.axhline((1 - BETA) * PHI * math.log(5), color="r", ls=":", label="(1-beta) phi ln 5 (paper's formula)")
    ax.set(xlabel="Year", ylabel="log-points", xlim=(2024, 2100), title="Corollary 1: a price cut is a level effect")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(FIGURES / "corollary1-price.png", dpi=100)
    plt.close(fig)


def main():
    FIGURES.mkdir(exist_ok=True)
    rows: list[tuple] = []
    for part in (prop1, eq12, prop2, prop34, prop5, corollary1):
        part(rows)
    table = ["| result | case | paper's formula | simulated | relative difference |", "|---|---|---|---|---|"]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    template = (DOCS / "reproduction.template.md").read_text(encoding="utf-8")
    (DOCS / "reproduction.md").write_text(template.replace("{{TABLE}}", "\n".join(table)), encoding="utf-8")
    print("\n".join(table))


if __name__ == "__main__":
    main()
