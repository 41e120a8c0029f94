"""One mid-ventricular slice per artifact (severity 3), per pipeline, as the network sees it.

Recomputes the chosen draws with measure.py's pipeline (same seeds as results.csv).
Two spike columns: a typical high-frequency draw (60 % of draws have a stripe frequency
above the 96-px Nyquist) and a low-frequency one.
"""
import numpy as np, pandas as pd
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import measure as M
from oodcalib.datasets.sources.acdc import load_acdc
from oodcalib.corruptions import artifacts as A
from oodcalib.seeding import derive_seed

df = pd.read_csv("/tmp/spike_study/results.csv")
sp = df[(df.artifact == "spike") & (df.variant == "ours_noresize")].copy()
sp["fmax"] = sp[["freq_h", "freq_w"]].abs().max(axis=1)
hi_draw = sp[sp.fmax >= 64].iloc[0]
lo_draw = sp[sp.fmax <= 30].iloc[0]
pid, rep = int(hi_draw.patient), int(hi_draw.rep)
cases = {c.case_id: c for c in load_acdc("/work/shared/data/ACDC/ACDC_training_volumes")}

rows = [("ours", "OURS (quick)\ncorrupt 160px (H,W,Z), vol [0,1]\n-> area resize 96 -> robust_normalise"),
        ("paper", "AUTHORS' RECIPE\ncorrupt 192px (Z,H,W), slice [0,1]\n-> z-score (their test loader)"),
        ("fix_at96_zhw", "PROPOSED FIX\nresize 96 -> corrupt (Z,H,W)\n-> [0,1] -> robust_normalise")]
cols = [("clean", pid, rep), ("bias_field", pid, rep), ("motion", pid, rep), ("ghosting", pid, rep),
        ("spike", pid, rep), ("spike", int(lo_draw.patient), int(lo_draw.rep))]
fig, axes = plt.subplots(len(rows), len(cols), figsize=(2.9 * len(cols), 3.1 * len(rows)))
for i, (v, title) in enumerate(rows):
    for j, (name, p, r) in enumerate(cols):
        case = cases[f"patient{p:03d}"]
        img, lab0 = case.image.astype(np.float32), case.label
        ref, lab = M.pipeline(img, lab0, v)
        z = int(np.argmax([(s == 2).sum() for s in lab]))  # slice with most myocardium
        if name == "clean":
            x = ref
            t = f"clean {x.shape[1]}px (p{p:03d}, z={z})"
        else:
            params = A.sample_parameters(name, 3, derive_seed(0, f"{case.case_id}-r{r}", name, 3))
            x, _ = M.pipeline(img, lab0, v, name, params)
            m = M.metrics(x, ref, lab)
            extra = ""
            if name == "spike":
                pos = np.asarray(params["spikes_positions"])[0]
                f = (np.floor(pos[:2] * 160) - 80).astype(int)
                extra = f" f=({f[0]},{f[1]})/160, r={params['intensity']:.1f}"
            t = f"{name} p{p:03d}{extra}\nSSIM {m['ssim']:.2f}  art/contrast {m['artifact_over_contrast']:.2f}"
        lo, hi = np.percentile(ref, [0.5, 99.5])
        ax = axes[i, j]
        ax.imshow(x[z], cmap="gray", vmin=lo, vmax=hi)
        ax.set_xticks([]); ax.set_yticks([])
        ax.set_title(t, fontsize=7.5)
    axes[i, 0].set_ylabel(title, fontsize=7.5)
fig.suptitle("ACDC ES, severity 3 (= TorchIO defaults; same drawn parameters in every row). "
             "Network input; window = clean input's 0.5-99.5 percentiles", fontsize=10)
fig.tight_layout()
fig.savefig("/tmp/spike_study/figure.png", dpi=110)
print("figure: patient", pid, "rep", rep, "| low-freq spike: patient", int(lo_draw.patient), "rep", int(lo_draw.rep))
