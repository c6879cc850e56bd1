"""Shared building blocks: the TF-version shim, networks, data, the distiller skeleton and the
runner. Import the modules directly (``from building_blocks import network``)."""
