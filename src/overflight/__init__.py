"""overflight: open space intelligence from public orbital element sets.

Import what you need from the modules (``overflight.catalog``, ``overflight.propagation``, ...);
this package root holds only the version, so ``import overflight`` stays instant.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
