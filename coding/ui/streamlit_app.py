"""The app script `coding app` runs (the same as app.py at the repository root)."""

from coding.ui.main import main

main()
