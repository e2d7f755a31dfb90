"""The service: the HTTP API, the chat page mounted on it, and the one place that wires settings to parts."""
