import pandas as pd, sys
df = pd.read_csv(sys.argv[1] if len(sys.argv) > 1 else "results.csv")
pd.set_option("display.width", 200)
order = ["ours","ours_noresize","ours_corruptAt96","ours_sliceRescale","ours_zscore","ours_zhwLayout","paper_resize96","paper_robust","paper_hwzLayout","paper","fix_at96_zhw","fix_at96_zhw_slice"]
for m in ["nrmse_roi","ssim","contrast_ratio","artifact_over_contrast"]:
    t = df.pivot_table(index="variant", columns="artifact", values=m, aggfunc="mean").reindex(order)
    print(f"\n== {m} (mean over {df.groupby(['patient','rep']).ngroups} draws)\n", t.round(3))

# spike: how much of the artifact survives the 160->96 area resize, by stripe frequency
sp = df[df.artifact == "spike"].set_index(["patient", "rep", "variant"])
a = sp.xs("ours", level="variant"); b = sp.xs("ours_noresize", level="variant")
fmax = b[["freq_h", "freq_w"]].abs().max(axis=1)
ratio = a["artifact_over_contrast"] / b["artifact_over_contrast"]
bins = pd.cut(fmax, [-1, 24, 48, 64, 80], labels=["|f|<=24", "24-48", "48-64", "64-80"])
print("\n== spike: artifact_over_contrast ours / ours_noresize, by max |stripe freq| (cycles per 160-px FOV; 96-px Nyquist = 48)")
print(pd.DataFrame({"n": ratio.groupby(bins).size(), "retained": ratio.groupby(bins).mean().round(3),
                    "ssim_ours": a["ssim"].groupby(bins).mean().round(3),
                    "ssim_noresize": b["ssim"].groupby(bins).mean().round(3)}))
print("fraction of draws with max|f| > 48:", round(float((fmax > 48).mean()), 3))
g = df[df.artifact == "ghosting"]
print("\n== ghosting SSIM by ghost axis (our axis naming)")
print(g.pivot_table(index="variant", columns="axis", values="ssim", aggfunc="mean").reindex(order).round(3))
