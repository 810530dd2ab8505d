"""The printer: its daemon process, the client the web process talks to, jobs, and the comm layer."""
