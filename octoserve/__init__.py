"""octoserve: a 3D-printer host that speaks OctoPrint's REST and push API."""

__version__ = "0.1.0"

# The OctoPrint release whose API behaviour octoserve reproduces. Clients gate
# features on the version they are told, so we report the level we implement.
OCTOPRINT_COMPAT_VERSION = "1.11.8"
