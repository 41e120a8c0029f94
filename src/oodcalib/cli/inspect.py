"""``oodcalib inspect``: a table per case and a contact sheet of a data source, before a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oodcalib.cli.options import (
    DataOpt,
    DomainOpt,
    PluginOpt,
    RootOpt,
    SetOpt,
    _config,
    _fail,
    _writable,
)


def inspect(
    data: DataOpt = "phantom",
    data_root: RootOpt = None,
    set_: SetOpt = None,
    plugin: PluginOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="Contact sheet PNG (default results/inspect/<data>.png).")
    ] = None,
    sheet_cases: Annotated[
        int, typer.Option("--sheet-cases", help="Cases on the contact sheet (the first N).")
    ] = 24,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit with an error when labelled classes look swapped."),
    ] = False,
    domain: DomainOpt = None,
) -> None:
    """Load a source or a --domain as a run would; show each case and a contact sheet."""
    import pandas as pd

    from oodcalib.datasets import load_source
    from oodcalib.datasets.inspection import inspection_table, write_contact_sheet
    from oodcalib.datasets.plausibility import swap_message, swapped_cases
    from oodcalib.errors import OodcalibError

    try:
        config = _config("paper", data, data_root, None, set_, None, plugin)
        spec = None
        if domain:
            from oodcalib.cli.options import _domains
            from oodcalib.datasets.domain_spec import domain_config

            if len(domain) > 1:
                raise OodcalibError("inspect one --domain at a time")
            ((data, spec),) = _domains(domain).items()
            local = domain_config(config.data, data, spec)
        sheet = _writable(
            out or Path("results") / "inspect" / f"{data}.png", "contact sheet", file=True
        )
        if spec is None:
            cases = load_source(config.data, config.seed)
        else:
            from oodcalib.datasets.domain_spec import load_domain

            cases = load_domain(config.data, data, spec, config.seed)
            config.data = local
    except (OodcalibError, ValueError) as error:
        _fail(error)
    with pd.option_context("display.max_rows", None, "display.width", 200):
        typer.echo(inspection_table(cases).to_string(index=False))
    path = write_contact_sheet(
        cases[:sheet_cases],
        sheet,
        title=f"{data}: mid slices, RV blue, MYO orange, LV red (the RV should lie left of the LV)",
    )
    typer.echo(f"\n{len(cases)} cases; contact sheet of {min(len(cases), sheet_cases)}: {path}")
    if config.data.source == "nifti":
        from oodcalib.datasets.sources.nifti import CASE_ID_RULE

        typer.echo(f"case ids: {CASE_ID_RULE}")
    swapped = swapped_cases(cases)
    if swapped:
        message = swap_message(
            swapped,
            sum(c.label is not None for c in cases),
            f"the {data} source",
            config.data.label_map,
        )
        if strict:
            _fail(OodcalibError(message))
        typer.secho(f"warning: {message}", fg=typer.colors.YELLOW, err=True)
