"""The serial comm layer: standard library, pyserial and the leaves only; never Flask."""
