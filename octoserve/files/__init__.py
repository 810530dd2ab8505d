"""Upload storage, metadata and G-code analysis."""
