from PIL import Image

from oodcalib.datasets.phantom.figure import COLUMNS, phantom_figure, slice_positions


def test_slice_positions_cover_base_to_apex():
    for n in range(6, 13):
        positions = slice_positions(n)
        assert len(positions) == len(COLUMNS) and positions[0] == 0 and positions[-1] == n - 1
        assert positions == sorted(positions)


def test_figure_has_one_row_per_case(bssfp, lge, tmp_path):
    one = phantom_figure(bssfp[:1], tmp_path / "one.png")
    three = phantom_figure([*bssfp[:1], *lge[:2]], tmp_path / "three.png", title="t")
    h1, h3 = Image.open(one).size[1], Image.open(three).size[1]
    assert 2.5 * h1 < h3 < 3.5 * h1
