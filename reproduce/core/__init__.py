"""What every family uses: cells and their records, the family base, the method registry,
divergence records, provenance, run folders, the paper reference and the shared table and
figure helpers. The lowest layer inside reproduce: it imports no other subpackage."""
