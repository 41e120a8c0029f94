"""``torchscript:FILE``: an exported module with its sidecar, checked when loaded."""

from __future__ import annotations

import json

import pytest
import torch

from oodcalib.errors import DataError
from oodcalib.segmentation.networks import Grid, get_network, resolve_model
from oodcalib.segmentation.networks.export import export_torchscript
from oodcalib.segmentation.unet import UNet

GRID = Grid(size=16, spacing=1.5)


def test_an_exported_unet_computes_what_the_unet_computes(tmp_path):
    torch.manual_seed(0)
    unet = UNet(width=4, depth=3).eval()
    path = export_torchscript(unet, tmp_path / "net.pt", size=16, spacing=1.5)
    model = get_network(resolve_model(f"torchscript:{path}")).module(GRID)
    x = torch.randn(5, 1, 32, 32)  # another batch and side than the trace's
    with torch.no_grad():
        assert torch.equal(model(x), unet(x))


def test_a_scripted_module_with_reordered_classes_is_mapped(tmp_path):
    net = torch.jit.script(torch.nn.Conv2d(1, 4, 1))
    net.save(str(tmp_path / "net.pt"))
    sidecar = {"size": 16, "spacing": 1.5, "normalisation": "robust", "classes": [3, 2, 1, 0]}
    (tmp_path / "net.json").write_text(json.dumps(sidecar))
    model = get_network(f"torchscript:{tmp_path / 'net.pt'}").module(GRID)
    x = torch.randn(2, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model(x), net(x).flip(1))


def test_wrong_output_shape_fails_on_loading_naming_the_file(tmp_path):
    export_torchscript(torch.nn.Conv2d(1, 3, 1), tmp_path / "net.pt", size=16, spacing=1.5)
    with pytest.raises(DataError, match="expected logits") as error:
        get_network(f"torchscript:{tmp_path / 'net.pt'}").module(GRID)
    assert str(tmp_path / "net.pt") in str(error.value)


def test_a_file_that_is_no_torchscript_names_the_file(tmp_path):
    (tmp_path / "net.pt").write_bytes(b"not a zip")
    sidecar = {"size": 16, "spacing": 1.5, "normalisation": "robust", "classes": [0, 1, 2, 3]}
    (tmp_path / "net.json").write_text(json.dumps(sidecar))
    with pytest.raises(DataError, match="not a TorchScript module"):
        get_network(f"torchscript:{tmp_path / 'net.pt'}").module(GRID)
    with pytest.raises(DataError, match="not found"):
        get_network(f"torchscript:{tmp_path / 'none.pt'}").module(GRID)


def test_the_docs_monai_recipe_loads_and_computes_the_monai_net(tmp_path):
    """docs/your-own-network.md: a scripted MONAI UNet with a sidecar runs as is."""
    nets = pytest.importorskip("monai.networks.nets")
    torch.manual_seed(0)
    net = nets.UNet(
        spatial_dims=2,
        in_channels=1,
        out_channels=4,
        channels=(4, 8, 16),
        strides=(2, 2),
        num_res_units=2,
    ).eval()
    torch.jit.script(net).save(str(tmp_path / "monai_unet.pt"))
    sidecar = {"size": 16, "spacing": 1.5, "normalisation": "robust", "classes": [0, 1, 2, 3]}
    (tmp_path / "monai_unet.json").write_text(json.dumps(sidecar))
    model = get_network(f"torchscript:{tmp_path / 'monai_unet.pt'}").module(GRID)
    x = torch.randn(3, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), net(x))
