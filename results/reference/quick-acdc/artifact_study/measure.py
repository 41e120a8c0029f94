"""Artifact strength in the network input: our quick pipeline vs the authors' recipe.

Read-only use of the project at /work/main. Writes /tmp/spike_study/results.csv,
summary.txt and figure.png.

Pipelines (variants), all from the same ACDC ES h5 volumes and the SAME drawn parameters
(our severity-3 sampler, i.e. TorchIO defaults; params are permuted when the TorchIO
axis layout differs, so every variant sees the same spike frequency / ghost axis ...):

  crop   : centre crop/pad side before corruption (ours 160, paper 192)
  layout : how the (Z,H,W) stack is handed to TorchIO.  'hwz' = ours (1,H,W,Z);
           'zhw' = the authors' code (tensor (N,1,H,W).permute(1,0,2,3) -> (1,Z,H,W)):
           TorchIO's last axis (motion k-space segments) is then W (in-plane), not Z.
  rescale: after the transform, min-max to [0,1] per 'volume' (ours) or per 'slice'
           (authors' rescale_intensity on NCHW)
  resize : in-plane resize (area) after corruption (ours 96) or None
  norm   : 'robust' (ours: clip 0.5/99.5 percentiles, scale to [0,1]) or 'zscore'
           (authors' test loader: (img - mean) / std per volume)
"""

from __future__ import annotations

import csv
import sys
import time

import numpy as np
import torch
import torchio as tio
from scipy import ndimage
from skimage.metrics import structural_similarity

torch.set_num_threads(1)
sys.path.insert(0, "/work/main/src")

from oodcalib.corruptions import artifacts as A  # noqa: E402
from oodcalib.datasets.case import Case  # noqa: E402
from oodcalib.datasets.preprocessing import (  # noqa: E402
    crop_or_pad, resize_inplane, robust_normalise)
from oodcalib.datasets.sources.acdc import load_acdc  # noqa: E402
from oodcalib.seeding import derive_seed  # noqa: E402

OUT = "/tmp/spike_study"
# the 20 test ids of the authors (Chen et al. generate_artefacted_data.py)
PIDS = [7, 8, 9, 10, 27, 28, 29, 30, 47, 48, 49, 50, 67, 68, 69, 70, 87, 88, 89, 90]
REPS = 3
NAMES = ["bias_field", "motion", "ghosting", "spike"]

VARIANTS = {
    # name: (crop, layout, rescale, resize, norm)
    "ours":               (160, "hwz", "volume", 96, "robust"),
    "ours_noresize":      (160, "hwz", "volume", None, "robust"),
    "ours_zscore":        (160, "hwz", "volume", 96, "zscore"),
    "ours_sliceRescale":  (160, "hwz", "slice", 96, "robust"),
    "ours_zhwLayout":     (160, "zhw", "volume", 96, "robust"),
    "ours_corruptAt96":   (160, "hwz", "volume", "pre96", "robust"),
    "paper":              (192, "zhw", "slice", None, "zscore"),
    "paper_hwzLayout":    (192, "hwz", "slice", None, "zscore"),
    "paper_robust":       (192, "zhw", "slice", None, "robust"),
    "paper_resize96":     (192, "zhw", "slice", 96, "zscore"),
    # candidate fixes: corrupt on the network-input grid, authors' axis layout
    "fix_at96_zhw":       (160, "zhw", "volume", "pre96", "robust"),
    "fix_at96_zhw_slice": (160, "zhw", "slice", "pre96", "robust"),
}

PERM = [2, 0, 1]  # zhw axis i <- our axis PERM[i]  (our axes: 0=H, 1=W, 2=Z)
AXMAP = {0: 1, 1: 2, 2: 0}  # our axis -> zhw axis


def permute_params(name, params):
    p = dict(params)
    if name == "spike":
        p["spikes_positions"] = np.asarray(p["spikes_positions"])[:, PERM].tolist()
    elif name == "ghosting":
        p["axis"] = AXMAP[p["axis"]]
    elif name == "motion":
        p["degrees"] = np.asarray(p["degrees"])[:, PERM].tolist()
        p["translation"] = np.asarray(p["translation"])[:, PERM].tolist()
    return p


def transform(stack01, name, params, layout):
    """TorchIO deterministic transform on a (Z,H,W) stack already in [0,1] per slice."""
    corr = A.get_corruption(name)
    if layout == "zhw":
        params = permute_params(name, params)
    kw = {k: np.asarray(v, dtype=np.float64) if k in corr.array_params else v
          for k, v in params.items()}
    if layout == "hwz":
        t = torch.from_numpy(stack01.transpose(1, 2, 0).copy())[None]
    else:
        t = torch.from_numpy(stack01.copy())[None]
    subj = tio.Subject(image=tio.ScalarImage(tensor=t, affine=np.eye(4)))
    out = corr.transform(**kw, copy=False)(subj)["image"].data[0].numpy()
    return out.transpose(2, 0, 1) if layout == "hwz" else out


def rescale(x, mode):
    x = x.astype(np.float64)
    if mode == "volume":
        lo, hi = x.min(), x.max()
        return ((x - lo) / max(hi - lo, 1e-20)).astype(np.float32)
    lo = x.min(axis=(1, 2), keepdims=True)
    hi = x.max(axis=(1, 2), keepdims=True)
    return ((x - lo) / np.maximum(hi - lo, 1e-20)).astype(np.float32)


def resize(img, lab, size):
    c = resize_inplane(Case("x", img.astype(np.float32), lab, "x"), size)
    return c.image, c.label


def norm(x, mode):
    if mode == "robust":
        return robust_normalise(x)
    return ((x - x.mean()) / x.std()).astype(np.float32)


def pipeline(image, label, variant, name=None, params=None):
    crop, layout, resc, rsz, nrm = VARIANTS[variant]
    img = crop_or_pad(image, crop, pad_value=float(image.min()))
    lab = crop_or_pad(label, crop)
    if rsz == "pre96":  # resize first, then corrupt at the input size
        img, lab = resize(img, lab, 96)
        rsz = None
    x = A.minmax_slices(img)
    if name is not None:
        x = transform(x, name, params, layout)
    x = rescale(x, resc)
    if rsz is not None:
        x, lab = resize(x, lab, rsz)
    return norm(x, nrm), lab


def metrics(x, r, lab):
    roi = np.stack([ndimage.maximum_filter((s > 0).astype(np.uint8), size=10) > 0 for s in lab])
    # the same affine for both: r -> zero mean, unit std
    m, s = r.mean(), r.std()
    xa, ra = (x - m) / s, (r - m) / s
    d = xa - ra
    lo, hi = r.min(), r.max()
    x01, r01 = (x - lo) / (hi - lo), (r - lo) / (hi - lo)
    ssim = np.mean([structural_similarity(r01[z], x01[z], data_range=1.0)
                    for z in range(r.shape[0])])

    def contrast(v):
        lv, myo = v[lab == 3], v[lab == 2]
        return lv.mean() - myo.mean() if lv.size and myo.size else np.nan

    # stripe/noise power inside the ROI relative to the LV-MYO contrast of the clean ref
    return {
        "nrmse": float(np.sqrt(np.mean(d ** 2))),
        "nrmse_roi": float(np.sqrt(np.mean(d[roi] ** 2))),
        "ssim": float(ssim),
        "contrast_ratio": float(contrast(x) / contrast(r)),
        "artifact_over_contrast": float(np.std(d[roi] * s) / contrast(r)),
    }


def main():
    t0 = time.time()
    cases = {c.case_id: c for c in load_acdc("/work/shared/data/ACDC/ACDC_training_volumes")}
    rows = []
    fig_store = {}
    for pid in PIDS:
        case = cases[f"patient{pid:03d}"]
        image, label = case.image.astype(np.float32), case.label
        refs = {v: pipeline(image, label, v) for v in VARIANTS}
        # our actual clean domain (no per-slice min-max): crop -> resize -> robust_normalise
        ours_clean = robust_normalise(resize(crop_or_pad(image, 160, float(image.min())),
                                             crop_or_pad(label, 160), 96)[0])
        for name in NAMES:
            for rep in range(REPS):
                seed = derive_seed(0, f"{case.case_id}-r{rep}", name, 3)
                params = A.sample_parameters(name, 3, seed)
                for v in VARIANTS:
                    x, lab = pipeline(image, label, v, name, params)
                    r, _ = refs[v]
                    row = {"patient": pid, "artifact": name, "rep": rep, "variant": v,
                           **metrics(x, r, lab)}
                    if name == "spike":
                        pos = np.asarray(params["spikes_positions"])[0]
                        crop = VARIANTS[v][0] if VARIANTS[v][3] != "pre96" else 96
                        fh = int(np.floor(pos[0] * crop)) - crop // 2
                        fw = int(np.floor(pos[1] * crop)) - crop // 2
                        row.update(freq_h=fh, freq_w=fw, intensity=params["intensity"])
                    if name == "ghosting":
                        row.update(axis=["H", "W", "Z"][params["axis"]],
                                   num_ghosts=params["num_ghosts"], intensity=params["intensity"])
                    rows.append(row)
                    if pid == PIDS[0] and rep == 0 and v in ("ours", "paper", "fix_at96_zhw"):
                        fig_store[(v, name)] = (x, lab)
        if pid == PIDS[0]:
            for v in ("ours", "paper", "fix_at96_zhw"):
                fig_store[(v, "clean")] = refs[v]
            # check our re-implementation against the project's apply_corruption
            for name in NAMES:
                params = A.sample_parameters(name, 3, derive_seed(0, f"{case.case_id}-r0", name, 3))
                img = crop_or_pad(image, 160, float(image.min()))
                mine = rescale(transform(A.minmax_slices(img), name, params, "hwz"), "volume")
                theirs = A.apply_corruption(img, name, params)
                print(f"check {name}: max|mine - project| = {np.abs(mine - theirs).max():.2e}")
            print("mean |per-slice-minmax clean - our clean domain| (input units):",
                  float(np.abs(refs["ours"][0] - ours_clean).mean()))
        print(f"patient {pid} done, {time.time() - t0:.0f}s", flush=True)

    keys = sorted({k for r in rows for k in r}, key=lambda k: list(rows[0]).index(k)
                  if k in rows[0] else 99)
    with open(f"{OUT}/results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    np.save(f"{OUT}/fig_store.npy", {f"{k[0]}|{k[1]}": v for k, v in fig_store.items()},
            allow_pickle=True)
    print(f"total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
