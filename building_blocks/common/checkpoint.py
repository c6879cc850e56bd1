"""Network weights as ``.npz`` (keys: variable names inside the network's scope) with a JSON
sidecar holding the file's SHA-256 and how it was made. Portable across TF 1.x / 2.x."""
import hashlib
import io
import json
import os

import numpy as np

from building_blocks.common.io_utils import atomic_write_bytes, atomic_write_json


class CheckpointError(Exception):
    """A checkpoint is missing, corrupt or does not fit the network."""


def save_network(sess, network, path, metadata):
    """Writes ``path`` (.npz) and ``path.json`` atomically; returns the npz SHA-256."""
    arrays = {network.relative_name(v): value
              for v, value in zip(network.variables, sess.run(network.variables))}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    atomic_write_bytes(path, data)
    atomic_write_json(path + ".json", dict(metadata, sha256=digest, file=os.path.basename(path)))
    return digest


def read_metadata(path):
    meta_path = path + ".json"
    if not os.path.exists(path) or not os.path.exists(meta_path):
        raise CheckpointError("missing checkpoint %s (or its %s.json). Train it with "
                              "`python -m reproduce train_teacher` or run ./run_all.sh, which "
                              "trains teachers first." % (path, os.path.basename(path)))
    try:
        with open(meta_path) as f:
            return json.load(f)
    except ValueError as e:
        raise CheckpointError("corrupt checkpoint metadata %s (%s); delete it and the .npz "
                              "beside it, then retrain." % (meta_path, e))


def _verified_bytes(path):
    """(metadata, the .npz bytes) after checking the bytes' SHA-256 against the metadata."""
    metadata = read_metadata(path)
    with open(path, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != metadata.get("sha256"):
        raise CheckpointError("corrupt checkpoint %s: SHA-256 %s differs from %s recorded in "
                              "its .json. Delete both files and retrain the teacher."
                              % (path, digest, metadata.get("sha256")))
    return metadata, data


def verify(path):
    """The metadata of a present, uncorrupted checkpoint (CheckpointError otherwise), for a
    command to check its inputs before it starts work (``load_network`` checks again)."""
    return _verified_bytes(path)[0]


def load_network(sess, network, path):
    """Verifies the SHA-256 and the variable names/shapes, then loads the weights."""
    metadata, data = _verified_bytes(path)
    try:
        arrays = dict(np.load(io.BytesIO(data)))
    except Exception as e:  # zipfile/pickle errors vary
        raise CheckpointError("unreadable checkpoint %s (%s)" % (path, e))
    for variable in network.variables:
        key = network.relative_name(variable)
        if key not in arrays or tuple(arrays[key].shape) != tuple(variable.shape.as_list()):
            raise CheckpointError("checkpoint %s does not fit network %s: variable %s missing "
                                  "or of the wrong shape" % (path, network.scope_name, key))
        variable.load(arrays[key], sess)
    return metadata
