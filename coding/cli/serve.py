"""`coding app`: serve the Streamlit app on a project (this computer only, unless asked)."""

import sys
from pathlib import Path

import click

import coding

from .base import _shown, main, out


@main.command()
@click.argument("project", metavar="PROJECT", default="sample_project.db")
@click.option("--port", type=int, help="Port to serve on (default: Streamlit's, 8501).")
@click.option("--headless", is_flag=True, help="Do not open a browser (for servers).")
@click.option("--address", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="Interface to listen on. The default serves this computer only; 0.0.0.0 "
                   "serves every network it is on (a team server: add sign-in and HTTPS).")
@click.pass_context
def app(ctx, project, port, headless, address):
    """Open the coding app on PROJECT (default: the sample study `coding demo` builds).
    It listens on this computer only (127.0.0.1) unless --address says otherwise."""
    import os

    coding.open_project(project).close()  # a missing or broken project fails here, clearly
    location = project if "://" in project else str(Path(project).resolve())
    script = Path(__file__).resolve().parents[1] / "ui" / "streamlit_app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(script),
               "--browser.gatherUsageStats", "false",
               # refuse oversized uploads before they reach memory (ingest's limit is 50 MB)
               "--server.maxUploadSize", "50",
               # loopback by default: anyone who reaches the port can read every transcript
               "--server.address", address, "--client.toolbarMode", "viewer"]  # no Deploy
    if port:
        command += ["--server.port", str(port)]
    if headless:
        command += ["--server.headless", "true"]
    environment = dict(os.environ, CODING_PROJECT=location)
    if ctx.obj["coder"]:
        environment["CODING_APP_CODER"] = ctx.obj["coder"]
    out.print(f"Opening {_shown(location)} in the app, listening on {address}"
              f"{f':{port}' if port else ''}; press Ctrl+C to stop.")
    sys.stdout.flush()
    # Become Streamlit (not its parent), so a SIGTERM from a supervisor stops the server.
    os.execve(sys.executable, command, environment)
