"""Devices on a CPU-only machine: resolution, refusals, and no tensor on the default device.

Every network path (segmentation training and logits, the augmented passes, the
calibration pool, LTS, Alea., Proposed with its shape prior) runs with torch's default
device set to ``meta`` while the networks sit on the CPU. A tensor made without an explicit
device (``torch.as_tensor(array)``, ``torch.rand(n, generator=g)``, a module built bare)
lands on ``meta`` and the path fails (a device mismatch, or ``.numpy()`` of a meta tensor);
on a GPU the same slip would put it on the CPU next to CUDA tensors. The numbers must
also equal those of the same calls without the default device set. What it cannot see:
an op that silently copies a CPU tensor to the model's device, and code run only on CUDA
(autocast, the gradient scaler, pinned transfers), which the ``gpu`` tests cover.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oodcalib.baselines import get_calibrator
from oodcalib.baselines.base import ScanLogits
from oodcalib.baselines.common.augmented_passes import AugmentedPasses
from oodcalib.benchmark.protocol.placement import choose_device
from oodcalib.config import ModelConfig, TrainConfig
from oodcalib.datasets.case import Case
from oodcalib.errors import OodcalibError
from oodcalib.segmentation.acceleration import Placement
from oodcalib.segmentation.device import model_device, resolve_device, to_device
from oodcalib.segmentation.inference import load_model, predict_logits
from oodcalib.segmentation.training import train_segmenter
from oodcalib.segmentation.unet import UNet

NO_CUDA = not torch.cuda.is_available()


def _case(i: int) -> Case:
    rng = np.random.default_rng(i)
    image = rng.random((2, 16, 16)).astype(np.float32)
    label = np.zeros((2, 16, 16), np.uint8)
    label[:, 4:12, 4:12] = 1 + i % 3
    label[:, 6:10, 6:10] = 3
    return Case(f"c{i}", image, label, "clean")


def network_paths(tmp_path, placement: Placement | None = None) -> dict[str, np.ndarray]:
    """Train a tiny U-Net, then run every network path of the calibrators on it."""
    cases = [_case(i) for i in range(3)]
    train = TrainConfig(iterations=3, batch_size=2, val_every=2, num_threads=1)
    model_config = ModelConfig(width=2, depth=2, compile=False)
    path = train_segmenter(
        cases[:2], cases[2:], model_config, train, tmp_path, seed=1, placement=placement
    )
    model = load_model(path, placement)
    passes = AugmentedPasses(model, seed=0)
    scans = [
        ScanLogits(c.case_id, c.image, predict_logits(model, c.image), c.label, "val", passes)
        for c in cases
    ]
    out = {"logits": scans[0].logits}
    settings = {
        "lts": {"iterations": 2, "pool_size": 2, "crop": 8},
        "alea": {"num_aug": 3},
        "proposed": {"iterations": 2, "pool_size": 2, "num_aug": 3, "train_copies": 2},
    }
    for name, params in settings.items():
        calibrator = get_calibrator(name, random_state=0, **params).fit(scans[:2], model)
        out[name] = calibrator.predict_proba(scans[2], model)
    return out


def test_network_paths_make_no_tensor_on_the_default_device(tmp_path):
    expected = network_paths(tmp_path / "plain")
    torch.set_default_device("meta")
    try:
        got = network_paths(tmp_path / "meta")
    finally:
        torch.set_default_device(None)
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert isinstance(got[name], np.ndarray) and np.isfinite(got[name]).all(), name
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def test_fitted_calibrator_nets_are_kept_on_the_cpu(tmp_path):
    outputs = network_paths(tmp_path)
    assert outputs["lts"].shape == (2, 4, 16, 16)
    assert np.allclose(outputs["lts"].sum(1), 1, atol=1e-5)


def test_resolve_device_names_the_missing_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cuda" if not NO_CUDA else "cpu")
    with pytest.raises(OodcalibError, match=r"--device gpu: not a device"):
        resolve_device("gpu")
    if NO_CUDA:
        for name in ("cuda", "cuda:3"):
            with pytest.raises(OodcalibError, match=rf"--device {name}: torch sees no CUDA GPU"):
                resolve_device(name)
    else:
        count = torch.cuda.device_count()
        with pytest.raises(OodcalibError, match=rf"has {count} CUDA GPU"):
            resolve_device(f"cuda:{count}")
    if not torch.backends.mps.is_available():
        with pytest.raises(OodcalibError, match="--device mps: torch sees no Apple MPS"):
            resolve_device("mps")


def test_a_run_resumes_only_on_its_recorded_kind():
    assert choose_device("auto", "cpu", "RUN") == torch.device("cpu")
    assert choose_device("cpu", None, "RUN") == torch.device("cpu")
    with pytest.raises(OodcalibError, match="RUN ran its networks on cpu"):
        choose_device("cuda:1", "cpu", "RUN")
    with pytest.raises(OodcalibError, match="RUN ran its networks on cuda .* --device cuda"):
        choose_device("cpu", "cuda", "RUN")


def test_cpu_placement_changes_nothing():
    p = Placement(torch.device("cpu"))
    assert p.autocast_dtype is None and not p.channels_last and not p.grad_scaling
    net = torch.nn.Conv2d(1, 2, 3)
    assert p.place(net) is net  # type: ignore[arg-type]
    assert "autocast_dtype" not in net.__dict__ and "channels_last" not in net.__dict__
    assert model_device(net) == torch.device("cpu")
    x = torch.ones(3)
    assert to_device(x, torch.device("cpu")) is x


def test_every_loss_makes_no_tensor_on_the_default_device():
    from oodcalib.segmentation.losses import LOSSES, get_loss

    generator = torch.Generator(device="cpu").manual_seed(0)
    logits = torch.randn(2, 4, 8, 8, generator=generator, device="cpu")
    target = torch.randint(0, 4, (2, 8, 8), generator=generator, device="cpu")
    for name in LOSSES:
        expected = get_loss(name)(logits, target)
        torch.set_default_device("meta")
        try:
            x = logits.clone().requires_grad_(True)
            value = get_loss(name)(x, target)
            value.backward()
        finally:
            torch.set_default_device(None)
        assert value.device.type == "cpu" and x.grad is not None, name
        assert torch.equal(value.detach(), expected), name


def test_channels_last_on_cpu_computes_the_same_network():
    """``model.channels_last=true`` on the CPU changes the layout, not the function."""
    torch.manual_seed(0)
    default, last = UNet(1, 4, width=4, depth=3), UNet(1, 4, width=4, depth=3)
    last.load_state_dict(default.state_dict())
    p = Placement(torch.device("cpu"), prefer_channels_last=True)
    assert p.channels_last and p.autocast_dtype is None
    p.place(last)
    assert last.encoders[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(3, 1, 16, 16)
    with torch.no_grad():
        a, b = default(x), last(x)
    torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
    assert torch.equal(b.argmax(1), a.argmax(1))
    assert not Placement(torch.device("cpu"), prefer_channels_last=None).channels_last


def test_model_channels_last_reaches_the_placement():
    from oodcalib.benchmark.protocol.placement import placement
    from oodcalib.config import build_config

    asked = build_config("paper", ["device=cpu", "model.channels_last=true"])
    assert placement(asked).channels_last
    assert not placement(build_config("paper", ["device=cpu"])).channels_last
