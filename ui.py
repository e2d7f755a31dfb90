"""The chat page (Gradio). Thin layer: everything it shows comes from ``assistant``."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    print("The chat page is not built yet; use `python -m index list` to see the indexed policies.")
    sys.exit(0)
