from oodcalib.cli import app

app()
