"""TorchIO Spike semantics on a thin stack: stripe amplitude = intensity x mean voxel value."""
import sys
import numpy as np, torch, torchio as tio
torch.set_num_threads(1)
sys.path.insert(0, "/work/main/src")
from oodcalib.corruptions.artifacts import minmax_slices
from oodcalib.datasets.preprocessing import crop_or_pad
import h5py
img = h5py.File("/work/shared/data/ACDC/ACDC_training_volumes/patient007_frame16.h5" if False else
                sorted(__import__("glob").glob("/work/shared/data/ACDC/ACDC_training_volumes/patient007_frame*.h5"))[1])["image"][:]
for side in (160, 192):
    x = minmax_slices(crop_or_pad(img, side, float(img.min())))  # (Z,H,W)
    t = torch.from_numpy(x.copy())[None]
    for pos in ([0.3, 0.7, 0.9], [0.45, 0.5, 0.2]):
        out = tio.Spike(np.array([pos]), 2.0)(tio.ScalarImage(tensor=t, affine=np.eye(4))).data[0].numpy()
        d = out - x
        per_slice = np.abs(d).max(axis=(1, 2))
        print(f"side {side} Z={x.shape[0]} pos {pos}: max|stripe| per slice {per_slice.min():.3f}-{per_slice.max():.3f}, "
              f"2*mean(volume)={2 * x.mean():.3f}, output range [{out.min():.2f},{out.max():.2f}] "
              f"-> anatomy keeps {1 / (out.max() - out.min()):.2f} of [0,1] after rescale")
