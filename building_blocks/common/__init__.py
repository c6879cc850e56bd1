"""What every layer above uses: the TF-version shim, typed configs, atomic file writes,
checkpoints, progress lines, name-keyed op seeds, the divergence check, layers and the Network
base."""
