"""The chat page and what only the page uses; the one place that wires settings to parts."""
